/**
 * The whole offline pipeline for files on disk: baselines are parsed and reduced one at a time
 * (their arrays are dropped before the next file is read), then the latest snapshot is analysed.
 */
import { summarizeByConstructor, type ConstructorSummary } from './aggregate';
import { analyzeHeap } from './heap-analysis';
import { loadSnapshot } from './load';
import { diffSnapshots, suspectsFromSnapshot, summarizeBaseline, type BaselineSummary, type Suspect } from './suspects';

export interface AnalysisReport {
  snapshot: string;
  baselines: string[];
  mode: 'single' | 'diff';
  nodeCount: number;
  edgeCount: number;
  totalSize: number;
  /** How many snapshots the verdict rests on (the baselines and the latest). */
  snapshotCount: number;
  /** One sentence: what the suspects mean given that many snapshots, and what another would add. */
  basis: string;
  /** Groups that grew (net objects and retained bytes; in every interval with three or more snapshots), most likely first. */
  suspects: Suspect[];
  /** Diff only: groups with new objects that did not grow (caches refreshed in place), below the suspects. */
  churn: Suspect[];
  /** Three or more snapshots: groups that grew overall but not in every interval. */
  unconfirmed: Suspect[];
  topConstructors: ConstructorSummary[];
  /** Things the reader should know about the inputs (e.g. a baseline that looks unrelated). */
  warnings: string[];
}

export interface RunOptions {
  /** Progress messages (phase names, bytes parsed) for a human; never data. */
  onProgress?: (message: string) => void;
  limit?: number;
}

export async function analyzeFiles(after: string, baselines: string[] = [], options: RunOptions = {}): Promise<AnalysisReport> {
  const say = options.onProgress ?? ((): void => undefined);
  const load = (file: string) =>
    loadSnapshot(file, {
      onProgress: (read, total) => say(`parsing ${file}: ${Math.round(read / 1048576)} / ${Math.round(total / 1048576)} MB`),
    });
  const summaries: BaselineSummary[] = [];
  for (const file of baselines) {
    const snap = await load(file);
    say(`analysing baseline ${file} (${snap.nodeCount} nodes, ${snap.edgeCount} edges)`);
    summaries.push(summarizeBaseline(analyzeHeap(snap, { pathHashes: true })));
  }
  const snap = await load(after);
  say(`computing dominators of ${after} (${snap.nodeCount} nodes, ${snap.edgeCount} edges)`);
  const a = analyzeHeap(snap, { pathHashes: baselines.length > 0 });
  say('finding suspects');
  const limit = options.limit ?? 10;
  const warnings: string[] = [];
  const afterMaxId = snap.maxNodeId();
  summaries.forEach((b, i) => {
    // Ids only grow within one process: a baseline with higher ids is later or from another process.
    if (b.maxNodeId > afterMaxId) {
      warnings.push(`baseline ${baselines[i]} has higher object ids than ${after}: is it from the same process, and older? "allocated after the baseline" is unreliable`);
    }
  });
  for (const w of warnings) say(`warning: ${w}`);
  const diff = summaries.length > 0 ? diffSnapshots(summaries, a, { limit }) : null;
  const snapshotCount = summaries.length + 1;
  return {
    snapshot: after,
    baselines,
    mode: summaries.length > 0 ? 'diff' : 'single',
    nodeCount: snap.nodeCount,
    edgeCount: snap.edgeCount,
    totalSize: a.totalSize,
    snapshotCount,
    basis: verdictBasis(snapshotCount),
    suspects: diff ? diff.suspects : suspectsFromSnapshot(a, { limit }),
    churn: diff ? diff.churn : [],
    unconfirmed: diff ? diff.unconfirmed : [],
    topConstructors: summarizeByConstructor(a, 15),
    warnings,
  };
}

/** What a verdict on `n` snapshots can say, and what one more snapshot would add. */
export function verdictBasis(n: number): string {
  if (n === 1) {
    return '1 snapshot: suspects are accumulation points (holders of a large share of the heap in many objects), not growth; ' +
      'a second snapshot of the same process would show which groups grow, a third would confirm they keep growing.';
  }
  if (n === 2) {
    return '2 snapshots: suspects grew between them (net objects and retained bytes); ' +
      'a third snapshot would confirm that each keeps growing and drop a group that grew once and stopped (a warm-up, a one-off batch).';
  }
  return `${n} snapshots: each suspect grew in every interval (${n === 3 ? 'both intervals' : `all ${n - 1}`}); ` +
    'groups that grew in only some are listed as unconfirmed.';
}
