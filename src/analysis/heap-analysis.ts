/**
 * Everything the suspect rules read, computed once per snapshot: dominator tree, retained sizes,
 * dominator children and the BFS retainer index.
 */
import { buildDominatorTree, dominatorChildren, retainedSizes, type DominatorTree } from './dominators';
import { buildRetainerIndex, nodeKinds, type RetainerIndex } from './retainers';
import { Scratch } from './scratch';
import type { HeapSnapshot } from './snapshot';

export interface HeapAnalysis {
  snapshot: HeapSnapshot;
  tree: DominatorTree;
  retained: Float64Array;
  children: { start: Uint32Array; children: Uint32Array };
  retainers: RetainerIndex;
  /** Kind hash (type + constructor name) per node. */
  kinds: Uint32Array;
  /** Retained size of the root: the whole heap as the snapshot accounts it. */
  totalSize: number;
}

/** Path-shape hashes of the retainer index, computed on first need (one more BFS). */
export function pathHashes(a: HeapAnalysis): Uint32Array {
  if (a.retainers.pathHash === null) a.retainers = buildRetainerIndex(a.snapshot, a.kinds, true);
  return a.retainers.pathHash as Uint32Array;
}

export interface AnalyzeOptions {
  /**
   * Compute path-shape hashes during the retainer BFS (needed to group objects by holder and to
   * diff snapshots). Single-snapshot suspects do without; `withPathHashes` adds them later.
   */
  pathHashes?: boolean;
}

export function analyzeHeap(s: HeapSnapshot, options: AnalyzeOptions = {}): HeapAnalysis {
  // Every phase after the dominator tree reuses the dominator scratch (see scratch.ts).
  const scratch = new Scratch();
  const tree = buildDominatorTree({
    nodeCount: s.nodeCount,
    firstEdge: s.firstEdge,
    edgeTarget: s.edges,
    edgeStride: s.edgeStride,
    edgeTargetOffset: s.edgeToOffset,
    // Weak and non-root shortcut edges are recognised from the edge records themselves: no
    // per-edge flag array (one byte per edge is 45 MB at a gigabyte snapshot).
    edgeTypes: { typeOffset: s.layout.edgeType, weak: s.edgeWeak, shortcut: s.edgeShortcut },
    root: s.rootIndex,
  }, scratch);
  const nfc = s.layout.nodeFieldCount;
  const off = s.layout.nodeSelfSize;
  const nodes = s.nodes;
  const retained = retainedSizes(tree, (v) => nodes[v * nfc + off] as number, scratch);
  const kinds = nodeKinds(s, scratch);
  return {
    kinds,
    snapshot: s,
    tree,
    retained,
    children: dominatorChildren(tree, scratch),
    retainers: buildRetainerIndex(s, kinds, options.pathHashes === true, scratch),
    totalSize: retained[s.rootIndex] as number,
  };
}
