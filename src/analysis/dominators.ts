/**
 * Dominator tree by Lengauer–Tarjan (the "simple" variant: path compression without balancing,
 * O(m log n)), iterative everywhere so a 10-million-node chain cannot overflow the stack.
 *
 * Input is a plain CSR graph (pure arrays, no snapshot), so tests can feed hand-made graphs.
 * Nodes that the root cannot reach through kept edges (in V8 snapshots: objects held only weakly)
 * are attached under the root, as DevTools does, so every node gets a dominator and a retained size.
 */

export interface CsrGraph {
  nodeCount: number;
  /** Edge range per node, length nodeCount + 1. */
  firstEdge: Uint32Array;
  edgeTarget: Uint32Array;
  /** Non-zero for edges that do not retain (weak edges); absent = all edges retain. */
  skip?: Uint8Array | null;
  root: number;
}

export interface DominatorTree {
  /** Immediate dominator (node ordinal) per node; the root points to itself. */
  idom: Uint32Array;
  /** Nodes in DFS preorder from the root: every node comes after its dominator. */
  order: Uint32Array;
}

export function buildDominatorTree(g: CsrGraph): DominatorTree {
  const n = g.nodeCount;
  const { firstEdge, edgeTarget, root } = g;
  const skip = g.skip ?? null;
  // Preorder numbers are 1-based; 0 means "not visited" / "none".
  const dfn = new Uint32Array(n);
  const vertex = new Uint32Array(n + 1);
  const parent = new Uint32Array(n + 1);
  const semi = new Uint32Array(n + 1);
  /** 1 for DFS trees started from an unreachable node: their virtual parent is the root. */
  let count = 0;

  // Iterative DFS: stack of nodes plus the next edge to look at for each.
  const stackNode = new Uint32Array(n);
  const stackEdge = new Uint32Array(n);
  const dfsFrom = (start: number, parentNum: number): void => {
    count++;
    dfn[start] = count;
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
        if (skip !== null && skip[k] !== 0) continue;
        const w = edgeTarget[k] as number;
        if (dfn[w] !== 0) continue;
        stackEdge[sp] = e;
        count++;
        dfn[w] = count;
        vertex[count] = w;
        parent[count] = dfn[v] as number;
        sp++;
        stackNode[sp] = w;
        stackEdge[sp] = firstEdge[w] as number;
        pushed = true;
        break;
      }
      if (!pushed) sp--;
    }
  };
  dfsFrom(root, 0);
  const reachable = count;
  for (let v = 0; v < n; v++) if (dfn[v] === 0) dfsFrom(v, 1);

  // Predecessors (CSR, as preorder numbers) over kept edges. Edges from garbage (nodes the root
  // cannot reach) into the live graph are left out: garbage keeps nothing alive.
  const predStart = new Uint32Array(n + 2);
  for (let v = 0; v < n; v++) {
    const end = firstEdge[v + 1] as number;
    for (let k = firstEdge[v] as number; k < end; k++) {
      if (skip !== null && skip[k] !== 0) continue;
      const w = dfn[edgeTarget[k] as number] as number;
      if (w <= reachable && (dfn[v] as number) > reachable) continue;
      predStart[w + 1] = (predStart[w + 1] as number) + 1;
    }
  }
  for (let i = 1; i <= n + 1; i++) predStart[i] = (predStart[i] as number) + (predStart[i - 1] as number);
  const preds = new Uint32Array(predStart[n + 1] as number);
  const cursor = predStart.slice(0, n + 1);
  for (let v = 0; v < n; v++) {
    const end = firstEdge[v + 1] as number;
    const vn = dfn[v] as number;
    for (let k = firstEdge[v] as number; k < end; k++) {
      if (skip !== null && skip[k] !== 0) continue;
      const w = dfn[edgeTarget[k] as number] as number;
      if (w <= reachable && vn > reachable) continue;
      preds[cursor[w] as number] = vn;
      cursor[w] = (cursor[w] as number) + 1;
    }
  }
  stackNode.fill(0);

  const ancestor = new Uint32Array(n + 1);
  const label = new Uint32Array(n + 1);
  const idomNum = new Uint32Array(n + 1);
  const bucketHead = new Uint32Array(n + 1);
  const bucketNext = new Uint32Array(n + 1);
  for (let i = 1; i <= n; i++) {
    semi[i] = i;
    label[i] = i;
  }

  const path = stackNode; // reused as the compression stack
  const evalNode = (v: number): number => {
    if (ancestor[v] === 0) return v;
    // compress(v), iteratively: collect the chain whose grand-ancestor exists, then fold top-down.
    let sp = 0;
    let x = v;
    while (ancestor[ancestor[x] as number] !== 0) {
      path[sp++] = x;
      x = ancestor[x] as number;
    }
    while (sp > 0) {
      const y = path[--sp] as number;
      const a = ancestor[y] as number;
      if ((semi[label[a] as number] as number) < (semi[label[y] as number] as number)) label[y] = label[a] as number;
      ancestor[y] = ancestor[a] as number;
    }
    return label[v] as number;
  };

  for (let w = n; w >= 2; w--) {
    const pEnd = predStart[w + 1] as number;
    for (let k = predStart[w] as number; k < pEnd; k++) {
      const u = evalNode(preds[k] as number);
      if ((semi[u] as number) < (semi[w] as number)) semi[w] = semi[u] as number;
    }
    // A tree started from a node the root cannot reach hangs under the root by a virtual edge.
    // Set only now: while w was unprocessed, its descendants had to see semi[w] = w.
    if (w > reachable && parent[w] === 1) semi[w] = 1;
    const s = semi[w] as number;
    bucketNext[w] = bucketHead[s] as number;
    bucketHead[s] = w;
    const p = parent[w] as number;
    ancestor[w] = p;
    let v = bucketHead[p] as number;
    while (v !== 0) {
      const next = bucketNext[v] as number;
      const u = evalNode(v);
      idomNum[v] = (semi[u] as number) < (semi[v] as number) ? u : p;
      v = next;
    }
    bucketHead[p] = 0;
  }
  for (let w = 2; w <= n; w++) if (idomNum[w] !== semi[w]) idomNum[w] = idomNum[idomNum[w] as number] as number;

  const idom = new Uint32Array(n);
  for (let w = 2; w <= n; w++) idom[vertex[w] as number] = vertex[idomNum[w] as number] as number;
  idom[root] = root;
  return { idom, order: vertex.subarray(1) };
}

/** Retained size = own size + the sizes of everything it dominates (summed leaves-up in reverse preorder). */
export function retainedSizes(tree: DominatorTree, selfSize: (node: number) => number): Float64Array {
  const { idom, order } = tree;
  const n = idom.length;
  const retained = new Float64Array(n);
  for (let v = 0; v < n; v++) retained[v] = selfSize(v);
  for (let i = n - 1; i >= 1; i--) {
    const v = order[i] as number;
    const d = idom[v] as number;
    retained[d] = (retained[d] as number) + (retained[v] as number);
  }
  return retained;
}

/** Children lists of the dominator tree (CSR), each list in preorder. */
export function dominatorChildren(tree: DominatorTree): { start: Uint32Array; children: Uint32Array } {
  const { idom, order } = tree;
  const n = idom.length;
  const start = new Uint32Array(n + 1);
  for (let i = 1; i < n; i++) {
    const d = idom[order[i] as number] as number;
    start[d + 1] = (start[d + 1] as number) + 1;
  }
  for (let i = 1; i <= n; i++) start[i] = (start[i] as number) + (start[i - 1] as number);
  const children = new Uint32Array(Math.max(0, n - 1));
  const cursor = start.slice(0, n);
  for (let i = 1; i < n; i++) {
    const v = order[i] as number;
    const d = idom[v] as number;
    children[cursor[d] as number] = v;
    cursor[d] = (cursor[d] as number) + 1;
  }
  return { start, children };
}
