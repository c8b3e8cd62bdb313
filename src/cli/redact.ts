/** `leak-agent redact <in.heapsnapshot> -o <out.heapsnapshot> [--all]` */
import { redactSnapshot } from '../analysis';
import { parseArgs, UsageError } from './args';
import { stderrProgress } from './progress';

export const redactUsage = 'leak-agent redact <in.heapsnapshot[.gz]> -o <out.heapsnapshot> [--all] [--quiet]';

export async function redactCommand(argv: string[]): Promise<number> {
  const args = parseArgs(argv, ['o', 'output'], ['all', 'quiet']);
  const out = args.values.get('o')?.[0] ?? args.values.get('output')?.[0];
  if (args.positionals.length !== 1 || !out) throw new UsageError(`usage: ${redactUsage}`);
  const input = args.positionals[0] as string;
  if (out === input) throw new UsageError('the output must be a different file than the input');
  const say = stderrProgress(args.flags.has('quiet'));
  const r = await redactSnapshot(input, out, { all: args.flags.has('all'), onProgress: say });
  say(`wrote ${out}: ${r.redacted} of ${r.strings} strings redacted; ${r.nodeCount} nodes and ${r.edgeCount} edges unchanged`);
  return 0;
}
