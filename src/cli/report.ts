/**
 * `leak-agent report <episode dir> [-o report.html]`: reads the episode's manifest.json and
 * series.json, analyses the snapshots it lists (a diff when there are two or more, oldest as the
 * baseline) and the heap profile, and writes one self-contained HTML page.
 *
 * Evidence is often incomplete (a snapshot cut short by an OOM kill): a file that cannot be read
 * becomes a note in the report instead of failing the whole report.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { analyzeFiles, isSamplingHeapProfile, topAllocationSites, type AnalysisReport, type AllocationSite } from '../analysis';
import type { EpisodeSeries, EvidenceFile } from '../evidence/manifest-types';
import { parseArgs, UsageError } from './args';
import { checkHeapProfile, checkManifest, checkSeries, EpisodeError } from './episode-check';
import { stderrProgress } from './progress';
import { renderReportHtml, type ReportData } from './report-html';

export const reportUsage = 'leak-agent report <episode dir> [-o report.html] [--quiet]';

export { EpisodeError };

function readJson<T>(file: string, what: string): T {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    throw new EpisodeError(`cannot read ${what} ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  try {
    return JSON.parse(text) as T;
  } catch (err) {
    throw new EpisodeError(`${what} ${file} is not valid JSON: ${(err as Error).message}`);
  }
}

/** The manifest holds paths where the agent wrote files; a copied episode has them beside it. */
export function locate(dir: string, file: EvidenceFile): string | null {
  if (fs.existsSync(file.path)) return file.path;
  const local = path.join(dir, path.basename(file.path));
  return fs.existsSync(local) ? local : null;
}

export async function buildReportData(dir: string, say: (m: string) => void = () => undefined): Promise<ReportData> {
  const manifestPath = path.join(dir, 'manifest.json');
  const { manifest, wrongFields } = checkManifest(readJson<unknown>(manifestPath, 'manifest'), manifestPath);
  const notes: string[] = [];
  if (wrongFields.length > 0) notes.push(`manifest fields not of the expected type, shown as —: ${wrongFields.join(', ')}`);
  let series: EpisodeSeries | null = null;
  const seriesFile = manifest.files.find((f) => f.kind === 'series');
  const seriesPath = seriesFile ? locate(dir, seriesFile) : fs.existsSync(path.join(dir, 'series.json')) ? path.join(dir, 'series.json') : null;
  if (seriesPath) {
    try {
      series = checkSeries(readJson<unknown>(seriesPath, 'series'), seriesPath);
    } catch (err) {
      notes.push((err as Error).message);
      series = null;
    }
  } else notes.push('no series.json in this episode');

  const snapshots: string[] = [];
  for (const f of manifest.files.filter((x) => x.kind === 'heapsnapshot')) {
    const p = locate(dir, f);
    if (p) snapshots.push(p);
    else notes.push(`snapshot ${f.path} not found`);
  }
  let analysis: AnalysisReport | null = null;
  if (snapshots.length > 0) {
    const after = snapshots[snapshots.length - 1] as string;
    try {
      analysis = await analyzeFiles(after, snapshots.slice(0, -1), { onProgress: say });
      notes.push(...analysis.warnings);
    } catch (err) {
      notes.push(`snapshot analysis failed: ${(err as Error).message}`);
      if (snapshots.length > 1) {
        try {
          analysis = await analyzeFiles(after, [], { onProgress: say });
          notes.push('showing single-snapshot suspects of the latest snapshot instead');
        } catch { /* already noted */ }
      }
    }
  } else notes.push('no heap snapshot in this episode (snapshots off, or skipped by the safety gate)');

  let sites: AllocationSite[] = [];
  for (const f of manifest.files.filter((x) => x.kind === 'heapprofile' || x.kind === 'near-oom-profile')) {
    const p = locate(dir, f);
    if (!p) {
      notes.push(`heap profile ${f.path} not found`);
      continue;
    }
    try {
      const prof = readJson<unknown>(p, 'heap profile');
      checkHeapProfile(prof, p);
      if (!isSamplingHeapProfile(prof)) throw new EpisodeError(`${p} is not a sampling heap profile (no head.callFrame/selfSize/children)`);
      sites = topAllocationSites(prof, 15);
      break;
    } catch (err) {
      notes.push((err as Error).message);
    }
  }
  return { manifest, series, analysis, sites, notes, generatedAt: new Date().toISOString() };
}

export async function reportCommand(argv: string[]): Promise<number> {
  const args = parseArgs(argv, ['o', 'output'], ['quiet']);
  if (args.positionals.length !== 1) throw new UsageError(`usage: ${reportUsage}`);
  const dir = args.positionals[0] as string;
  if (!fs.existsSync(dir) || !fs.statSync(dir).isDirectory()) throw new EpisodeError(`${dir} is not an episode directory`);
  const out = args.values.get('o')?.[0] ?? args.values.get('output')?.[0] ?? path.join(dir, 'report.html');
  const say = stderrProgress(args.flags.has('quiet'));
  const data = await buildReportData(dir, say);
  // 0600 like the evidence it is made from: names and paths from the heap can be sensitive.
  fs.writeFileSync(out, renderReportHtml(data), { mode: 0o600 });
  say(`wrote ${out}`);
  return 0;
}
