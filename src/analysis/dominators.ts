/**
 * Dominator tree: semidominators as in Lengauer–Tarjan (the "simple" variant: path compression
 * without balancing), immediate dominators by Semi-NCA; iterative everywhere so a
 * 10-million-node chain cannot overflow the stack.
 *
 * Input is a plain CSR graph (pure arrays, no snapshot), so tests can feed hand-made graphs.
 * Nodes that the root cannot reach through kept edges (in V8 snapshots: objects held only weakly)
 * are attached under the root, as DevTools does, so every node gets a dominator and a retained size;
 * edges from such garbage into the live graph are ignored (garbage keeps nothing alive).
 *
 * Memory is the constraint at gigabyte scale, so scratch arrays are reused across phases (the
 * DFS stack becomes the predecessor ranges, the per-node counters become the semidominators,
 * `parent` becomes `idom`): about 9 words per node plus one per kept edge, beside the graph
 * itself; the scratch goes back to a pool for the phases after it.
 */
import { Scratch } from './scratch';

export interface CsrGraph {
  nodeCount: number;
  /** Edge range per node, length nodeCount + 1. */
  firstEdge: Uint32Array;
  /** Edge k's target is edgeTarget[k * edgeStride + edgeTargetOffset] (a strided view of V8's edge records). */
  edgeTarget: Uint32Array;
  edgeStride?: number;
  edgeTargetOffset?: number;
  /** Non-zero for edges that do not retain (weak edges); absent = all edges retain. */
  skip?: Uint8Array | null;
  /**
   * Alternative to `skip` without a per-edge array: edge k's type is
   * edgeTarget[k * edgeStride + typeOffset]; `weak` never retains, `shortcut` only from the root.
   */
  edgeTypes?: { typeOffset: number; weak: number; shortcut: number } | null;
  root: number;
}

export interface DominatorTree {
  /** Immediate dominator (node ordinal) per node; the root points to itself. */
  idom: Uint32Array;
  /** Nodes in DFS preorder from the root: every node comes after its dominator. */
  order: Uint32Array;
}

export function buildDominatorTree(g: CsrGraph, scratch: Scratch = new Scratch()): DominatorTree {
  const n = g.nodeCount;
  const { firstEdge, edgeTarget, root } = g;
  const skip = g.skip ?? null;
  const stride = g.edgeStride ?? 1;
  const toOff = g.edgeTargetOffset ?? 0;
  const types = g.edgeTypes ?? null;
  const typeOff = types ? types.typeOffset : 0;
  const weak = types ? types.weak : -1;
  const shortcut = types ? types.shortcut : -1;
  const kept = (v: number, k: number): boolean => {
    if (skip !== null) return skip[k] === 0;
    if (types === null) return true;
    const t = edgeTarget[k * stride + typeOff] as number;
    return t !== weak && (t !== shortcut || v === root);
  };

  // Preorder numbers are 1-based; 0 means "not visited" / "none".
  // dc[2v] = preorder number of node v; dc[2v + 1] = its kept in-degree, later a fill cursor.
  // Side by side, so the per-edge "visited?" read and the in-degree update share a cache line
  // (random access per edge is what this algorithm's time is made of at millions of nodes).
  const dc = scratch.u32(2 * n);
  const vertex = new Uint32Array(n + 1);
  const parent = scratch.u32(n + 1);
  // DFS stacks now; then stackNode holds the predecessor ranges.
  const stackNode = scratch.u32(n + 2);
  const stackEdge = scratch.u32(n + 1);
  let count = 0;
  let total = 0;
  let reachable = n + 1; // until the root's DFS ends, every source is live

  const dfsFrom = (start: number, parentNum: number): void => {
    count++;
    dc[2 * start] = count;
    vertex[count] = start;
    parent[count] = parentNum;
    let sp = 0;
    stackNode[0] = start;
    stackEdge[0] = firstEdge[start] as number;
    while (sp >= 0) {
      const v = stackNode[sp] as number;
      const end = firstEdge[v + 1] as number;
      let e = stackEdge[sp] as number;
      let pushed = false;
      while (e < end) {
        const k = e++;
        if (!kept(v, k)) continue;
        const w = edgeTarget[k * stride + toOff] as number;
        let wn = dc[2 * w] as number;
        if (wn === 0) {
          count++;
          wn = count;
          dc[2 * w] = wn;
          vertex[wn] = w;
          parent[wn] = dc[2 * v] as number;
          stackEdge[sp] = e;
          sp++;
          stackNode[sp] = w;
          stackEdge[sp] = firstEdge[w] as number;
          pushed = true;
        }
        // In-degrees are counted here, where every kept edge is seen exactly once. Edges from
        // garbage (the trees after the root's) into the live graph keep nothing alive.
        if (start === root || wn > reachable) {
          dc[2 * w + 1] = (dc[2 * w + 1] as number) + 1;
          total++;
        }
        if (pushed) break;
      }
      if (!pushed) sp--;
    }
  };
  dfsFrom(root, 0);
  reachable = count;
  // Trees started from nodes the root cannot reach hang under the root (virtual parent 1).
  for (let v = 0; v < n; v++) if (dc[2 * v] === 0) dfsFrom(v, 1);

  // Predecessor lists (CSR in preorder, entries are preorder numbers). predStart[i] is where the
  // list of preorder number i begins; dc[2v + 1] becomes the end of v's list and is decremented
  // as the list is filled backwards.
  const predStart = stackNode;
  let acc = 0;
  for (let i = 1; i <= n; i++) {
    const v = vertex[i] as number;
    predStart[i] = acc;
    acc += dc[2 * v + 1] as number;
    dc[2 * v + 1] = acc;
  }
  predStart[n + 1] = acc;
  const preds = scratch.u32(total);
  for (let v = 0; v < n; v++) {
    const end = firstEdge[v + 1] as number;
    const vn = dc[2 * v] as number;
    for (let k = firstEdge[v] as number; k < end; k++) {
      if (!kept(v, k)) continue;
      const t = edgeTarget[k * stride + toOff] as number;
      const w = dc[2 * t] as number;
      if (w <= reachable && vn > reachable) continue;
      const at = (dc[2 * t + 1] as number) - 1;
      dc[2 * t + 1] = at;
      preds[at] = vn;
    }
  }

  // Per preorder number v, one 8-byte record (one cache line instead of scattered reads):
  // [ancestor in the link-eval forest, semi of the forest label]. Semi-NCA needs only the minimal
  // semi along a forest path, never the label vertex itself, so the record holds that value.
  const R = scratch.u32((n + 1) * 2);
  for (let i = 1; i <= n; i++) R[2 * i + 1] = i;
  // Final semidominators, by preorder number: dc's memory is free once the lists are filled.
  const semi = dc;
  const compressStack: number[] = [];

  /** Minimal semi on the forest path to v (which is linked), compressing the path. */
  const evalSemi = (v: number): number => {
    // compress(v), iteratively: collect the chain whose grand-ancestor exists, then fold top-down.
    let x = v;
    while (R[2 * (R[2 * x] as number)] !== 0) {
      compressStack.push(x);
      x = R[2 * x] as number;
    }
    while (compressStack.length > 0) {
      const y = compressStack.pop() as number;
      const a = R[2 * y] as number;
      if ((R[2 * a + 1] as number) < (R[2 * y + 1] as number)) R[2 * y + 1] = R[2 * a + 1] as number;
      R[2 * y] = R[2 * a] as number;
    }
    return R[2 * v + 1] as number;
  };

  for (let w = n; w >= 2; w--) {
    const pEnd = predStart[w + 1] as number;
    let sw = w;
    for (let k = predStart[w] as number; k < pEnd; k++) {
      const pv = preds[k] as number;
      // A predecessor not yet linked (not processed, or the root) is its own answer.
      const sv = R[2 * pv] === 0 ? pv : evalSemi(pv);
      if (sv < sw) sw = sv;
    }
    const p = parent[w] as number;
    // A tree started from a node the root cannot reach hangs under the root by a virtual edge.
    // Set only now: while w was unprocessed, its descendants had to see semi[w] = w.
    if (w > reachable && p === 1) sw = 1;
    semi[w] = sw;
    R[2 * w + 1] = sw;
    R[2 * w] = p; // link(parent, w)
  }
  // Semi-NCA (Georgiadis): idom(w) is the nearest common ancestor of parent(w) and semi(w) in the
  // dominator tree built so far — climb from parent(w) until at or above semi(w). In preorder,
  // every vertex above w already has its final idom. This replaces LT's buckets (two words per
  // node) and second eval per node; the climbs are short on heap graphs. `parent` becomes idom.
  const idomNum = parent;
  for (let w = 2; w <= n; w++) {
    const sw = semi[w] as number;
    let x = parent[w] as number;
    while (x > sw) x = idomNum[x] as number;
    idomNum[w] = x;
  }

  scratch.release(R, preds, stackNode, stackEdge, dc);
  const idom = scratch.u32(n);
  for (let w = 2; w <= n; w++) idom[vertex[w] as number] = vertex[idomNum[w] as number] as number;
  idom[root] = root;
  scratch.release(parent);
  return { idom, order: vertex.subarray(1) };
}

/** Retained size = own size + the sizes of everything it dominates (summed leaves-up in reverse preorder). */
export function retainedSizes(tree: DominatorTree, selfSize: (node: number) => number, scratch: Scratch = new Scratch()): Float64Array {
  const { idom, order } = tree;
  const n = idom.length;
  const retained = scratch.f64(n);
  for (let v = 0; v < n; v++) retained[v] = selfSize(v);
  for (let i = n - 1; i >= 1; i--) {
    const v = order[i] as number;
    const d = idom[v] as number;
    retained[d] = (retained[d] as number) + (retained[v] as number);
  }
  return retained;
}

/** Children lists of the dominator tree (CSR), each list in preorder. */
export function dominatorChildren(tree: DominatorTree, scratch: Scratch = new Scratch()): { start: Uint32Array; children: Uint32Array } {
  const { idom, order } = tree;
  const n = idom.length;
  // Count, prefix-sum to range ends, then fill backwards (reverse preorder keeps lists in preorder).
  const start = scratch.u32(n + 1);
  for (let i = 1; i < n; i++) {
    const d = idom[order[i] as number] as number;
    start[d] = (start[d] as number) + 1;
  }
  for (let i = 1; i <= n; i++) start[i] = (start[i] as number) + (start[i - 1] as number);
  const children = scratch.u32(Math.max(0, n - 1));
  for (let i = n - 1; i >= 1; i--) {
    const v = order[i] as number;
    const d = idom[v] as number;
    const at = (start[d] as number) - 1;
    start[d] = at;
    children[at] = v;
  }
  return { start, children };
}
