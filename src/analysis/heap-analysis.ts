/**
 * Everything the suspect rules read, computed once per snapshot: dominator tree, retained sizes,
 * dominator children and the BFS retainer index.
 */
import { buildDominatorTree, dominatorChildren, retainedSizes, type DominatorTree } from './dominators';
import { buildRetainerIndex, type RetainerIndex } from './retainers';
import type { HeapSnapshot } from './snapshot';

export interface HeapAnalysis {
  snapshot: HeapSnapshot;
  tree: DominatorTree;
  retained: Float64Array;
  children: { start: Uint32Array; children: Uint32Array };
  retainers: RetainerIndex;
  /** Retained size of the root: the whole heap as the snapshot accounts it. */
  totalSize: number;
}

/** Marks the edges that do not retain (weak, non-root shortcuts). */
export function nonRetainingEdges(s: HeapSnapshot): Uint8Array {
  const skip = new Uint8Array(s.edgeCount);
  for (let v = 0; v < s.nodeCount; v++) {
    const end = s.firstEdge[v + 1] as number;
    for (let e = s.firstEdge[v] as number; e < end; e++) if (!s.isEssentialEdge(v, s.edgeType(e))) skip[e] = 1;
  }
  return skip;
}

export function analyzeHeap(s: HeapSnapshot): HeapAnalysis {
  const tree = buildDominatorTree({
    nodeCount: s.nodeCount,
    firstEdge: s.firstEdge,
    edgeTarget: s.edgeTarget,
    skip: nonRetainingEdges(s),
    root: s.rootIndex,
  });
  const nfc = s.layout.nodeFieldCount;
  const off = s.layout.nodeSelfSize;
  const nodes = s.nodes;
  const retained = retainedSizes(tree, (v) => nodes[v * nfc + off] as number);
  return {
    snapshot: s,
    tree,
    retained,
    children: dominatorChildren(tree),
    retainers: buildRetainerIndex(s),
    totalSize: retained[s.rootIndex] as number,
  };
}
