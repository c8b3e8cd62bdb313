/** Builders for small graphs and synthetic snapshots used by the analysis tests. */
import type { CsrGraph } from '../../src/analysis/dominators';
import { rng } from '../helpers/random';
export { rng };

/** A CSR graph from an edge list; `weak` marks edges that must not retain. */
export function csr(n: number, edges: [number, number, boolean?][]): CsrGraph {
  const sorted = edges.map((e, i) => ({ from: e[0], to: e[1], weak: e[2] === true, i })).sort((a, b) => a.from - b.from || a.i - b.i);
  const firstEdge = new Uint32Array(n + 1);
  for (const e of sorted) firstEdge[e.from + 1]++;
  for (let i = 1; i <= n; i++) firstEdge[i] += firstEdge[i - 1];
  const edgeTarget = new Uint32Array(sorted.map((e) => e.to));
  const skip = new Uint8Array(sorted.map((e) => (e.weak ? 1 : 0)));
  return { nodeCount: n, firstEdge, edgeTarget, skip, root: 0 };
}

/** Nodes reachable from the root over kept edges, optionally pretending `removed` is gone. */
export function reachable(g: CsrGraph, removed = -1): Uint8Array {
  const seen = new Uint8Array(g.nodeCount);
  if (removed === g.root) return seen;
  const stack = [g.root];
  seen[g.root] = 1;
  while (stack.length) {
    const v = stack.pop() as number;
    for (let k = g.firstEdge[v]; k < g.firstEdge[v + 1]; k++) {
      if (g.skip && g.skip[k]) continue;
      const w = g.edgeTarget[k];
      if (w === removed || seen[w]) continue;
      seen[w] = 1;
      stack.push(w);
    }
  }
  return seen;
}


export interface MiniNode {
  type: string;
  name: string;
  id: number;
  size: number;
  edges: { type: string; name: string | number; to: number }[];
}

export const NODE_TYPES = ['hidden', 'array', 'string', 'object', 'code', 'closure', 'regexp', 'number', 'native', 'synthetic', 'concatenated string', 'sliced string', 'symbol', 'bigint', 'object shape'];
export const EDGE_TYPES = ['context', 'element', 'property', 'internal', 'hidden', 'shortcut', 'weak'];

/** Serialises nodes into V8's .heapsnapshot JSON layout (same meta as Node 20 writes). */
export function miniSnapshot(nodes: MiniNode[], extra: { fieldOrder?: 'v8' | 'shuffled' } = {}): string {
  const strings: string[] = [];
  const sidx = new Map<string, number>();
  const str = (s: string): number => {
    let i = sidx.get(s);
    if (i === undefined) {
      i = strings.length;
      strings.push(s);
      sidx.set(s, i);
    }
    return i;
  };
  const shuffled = extra.fieldOrder === 'shuffled';
  const nodeFields = shuffled ? ['id', 'name', 'type', 'edge_count', 'self_size', 'trace_node_id', 'detachedness'] : ['type', 'name', 'id', 'self_size', 'edge_count', 'trace_node_id', 'detachedness'];
  const nodeTypes = nodeFields.map((f) => (f === 'type' ? NODE_TYPES : f === 'name' ? 'string' : 'number'));
  const edgeFields = shuffled ? ['to_node', 'type', 'name_or_index'] : ['type', 'name_or_index', 'to_node'];
  const edgeTypes = edgeFields.map((f) => (f === 'type' ? EDGE_TYPES : f === 'name_or_index' ? 'string_or_number' : 'node'));
  const nf: number[] = [];
  const ef: number[] = [];
  let edgeCount = 0;
  for (const n of nodes) {
    const rec: Record<string, number> = { type: NODE_TYPES.indexOf(n.type), name: str(n.name), id: n.id, self_size: n.size, edge_count: n.edges.length, trace_node_id: 0, detachedness: 0 };
    for (const f of nodeFields) nf.push(rec[f] as number);
    for (const e of n.edges) {
      const t = EDGE_TYPES.indexOf(e.type);
      const nameOrIndex = e.type === 'element' || e.type === 'hidden' ? (e.name as number) : str(String(e.name));
      const er: Record<string, number> = { type: t, name_or_index: nameOrIndex, to_node: e.to * nodeFields.length };
      for (const f of edgeFields) ef.push(er[f] as number);
      edgeCount++;
    }
  }
  const meta = { node_fields: nodeFields, node_types: nodeTypes, edge_fields: edgeFields, edge_types: edgeTypes, trace_function_info_fields: [], trace_node_fields: [], sample_fields: [], location_fields: [] };
  return (
    `{"snapshot":{"meta":${JSON.stringify(meta)},\n"node_count":${nodes.length},"edge_count":${edgeCount},"trace_function_count":0},\n` +
    `"nodes":[${nf.join(',')}],\n"edges":[${ef.join(',')}],\n"trace_function_infos":[],\n"trace_tree":[],\n"samples":[],\n"locations":[],\n"strings":[${strings.map((s) => JSON.stringify(s)).join(',\n')}]}\n`
  );
}
