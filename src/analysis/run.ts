/**
 * The whole offline pipeline for files on disk: baselines are parsed and reduced one at a time
 * (their arrays are dropped before the next file is read), then the latest snapshot is analysed.
 */
import { summarizeByConstructor, type ConstructorSummary } from './aggregate';
import { analyzeHeap } from './heap-analysis';
import { loadSnapshot } from './load';
import { suspectsFromDiff, suspectsFromSnapshot, summarizeBaseline, type BaselineSummary, type Suspect } from './suspects';

export interface AnalysisReport {
  snapshot: string;
  baselines: string[];
  mode: 'single' | 'diff';
  nodeCount: number;
  edgeCount: number;
  totalSize: number;
  suspects: Suspect[];
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
  const suspects = summaries.length > 0 ? suspectsFromDiff(summaries, a, { limit }) : suspectsFromSnapshot(a, { limit });
  return {
    snapshot: after,
    baselines,
    mode: summaries.length > 0 ? 'diff' : 'single',
    nodeCount: snap.nodeCount,
    edgeCount: snap.edgeCount,
    totalSize: a.totalSize,
    suspects,
    topConstructors: summarizeByConstructor(a, 15),
    warnings,
  };
}
