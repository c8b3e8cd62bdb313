/** `leak-agent analyze <after.heapsnapshot> [--baseline <before.heapsnapshot>]… [--json]` */
import { analyzeFiles, formatBytes, type AnalysisReport, type Suspect } from '../analysis';
import { parseArgs, UsageError } from './args';
import { stderrProgress } from './progress';

export const analyzeUsage = 'leak-agent analyze <after.heapsnapshot[.gz]> [--baseline <before.heapsnapshot>]... [--json] [--limit N] [--quiet]';

export async function analyzeCommand(argv: string[]): Promise<number> {
  const args = parseArgs(argv, ['baseline', 'limit'], ['json', 'quiet']);
  if (args.positionals.length !== 1) throw new UsageError(`analyze takes exactly one snapshot\nusage: ${analyzeUsage}`);
  const limitText = args.values.get('limit')?.[0];
  const limit = limitText === undefined ? 10 : Number(limitText);
  if (!Number.isInteger(limit) || limit < 1) throw new UsageError(`--limit must be a positive integer, got "${limitText}"`);
  const report = await analyzeFiles(args.positionals[0] as string, args.values.get('baseline') ?? [], {
    onProgress: stderrProgress(args.flags.has('quiet')),
    limit,
  });
  process.stdout.write(args.flags.has('json') ? JSON.stringify(report, null, 2) + '\n' : renderText(report));
  return 0;
}

function renderText(r: AnalysisReport): string {
  const lines: string[] = [];
  lines.push(`${r.snapshot}: ${r.nodeCount.toLocaleString('en-US')} nodes, ${r.edgeCount.toLocaleString('en-US')} edges, ${formatBytes(r.totalSize)} heap`);
  if (r.mode === 'diff') lines.push(`compared with ${r.baselines.join(', ')}`);
  lines.push(r.basis);
  if (r.suspects.length === 0) lines.push('', 'No leak suspects found.');
  r.suspects.forEach((s, i) => entry(lines, `#${i + 1}`, s));
  if (r.unconfirmed.length > 0) lines.push('', 'Grew, but not in every interval (not confirmed):');
  r.unconfirmed.forEach((s) => entry(lines, '-', s));
  if (r.churn.length > 0) lines.push('', 'Churn (new objects, no growth: not suspects):');
  r.churn.forEach((s) => entry(lines, '-', s));
  return lines.join('\n') + '\n';
}

function entry(lines: string[], mark: string, s: Suspect): void {
  const detail = s.newObjects === undefined ? '' : `  new ${s.newObjects.toLocaleString('en-US')}  gone ${(s.freedObjects ?? 0).toLocaleString('en-US')}`;
  lines.push('', `${mark} ${s.name}  count ${signed(s.countDelta)}  size ${signed(s.sizeDelta, true)}  retained ${formatBytes(s.retainedSize)}${detail}`);
  lines.push(`   ${s.explanation}`);
  lines.push(`   path: ${s.path.join(' → ')}`);
}

function signed(n: number, bytes = false): string {
  const text = bytes ? formatBytes(Math.abs(n)) : Math.abs(n).toLocaleString('en-US');
  return (n < 0 ? '-' : '+') + text;
}
