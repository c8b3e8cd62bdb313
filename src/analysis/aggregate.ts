/**
 * Aggregation of heap objects so that one leak reads as one line, not ten thousand objects.
 *
 * Two views:
 * - by constructor/type (the DevTools "Summary"): count, shallow and retained size per kind;
 * - by kind *and holder*: objects of one kind kept alive by the same holder shape (the nearest
 *   dominator of another kind, identified by its retainer-path hash so the key compares across
 *   snapshots). A Map that grows is then one group "Leaky under Map → table", not 10,000 objects.
 *
 * Retained sizes of a group never double count: an object dominated by another member of the
 * same group adds nothing (a linked list of N nodes retains its size once, not N times).
 */
import { pathHashes, type HeapAnalysis } from './heap-analysis';
import type { HeapSnapshot } from './snapshot';

export interface Group {
  /** Display name: constructor, `fn()` for closures, `(string)`, `(native) …`. */
  name: string;
  type: string;
  /** Kind hash (type + constructor name) and holder path hash; both compare across snapshots. */
  kind: number;
  holderPath: number;
  count: number;
  selfSize: number;
  /** Retained size of the members, nested members not counted twice. */
  retainedSize: number;
  /** Members with an id above the baseline's highest id (allocated after it); 0 without one. */
  newCount: number;
  /** The member retaining the most: the one whose path the report shows. */
  representative: number;
  /** Nearest dominator of another kind of the representative. */
  holder: number;
}

/** Node types that can be a leak's name; V8 internals (hidden, arrays, code, shapes) are not. */
export function isReportableType(s: HeapSnapshot, t: number): boolean {
  const name = s.layout.nodeTypes[t];
  return name === 'object' || name === 'closure' || name === 'regexp' || name === 'native' || name === 'symbol' || name === 'bigint' || s.isStringType(t);
}

/**
 * Sums retained[v] per group, skipping members that have a same-group ancestor in the dominator
 * tree. One iterative DFS over the dominator tree with a per-group "open on the stack" counter.
 */
export function nonNestedRetained(a: HeapAnalysis, groupOf: Int32Array, groupCount: number): Float64Array {
  const sums = new Float64Array(groupCount);
  const open = new Uint32Array(groupCount);
  const { start, children } = a.children;
  const n = groupOf.length;
  const stackNode = new Uint32Array(n);
  const stackNext = new Uint32Array(n);
  const root = a.snapshot.rootIndex;
  let sp = 0;
  stackNode[0] = root;
  stackNext[0] = start[root] as number;
  const enter = (v: number): void => {
    const g = groupOf[v] as number;
    if (g >= 0) {
      if (open[g] === 0) sums[g] = (sums[g] as number) + (a.retained[v] as number);
      open[g] = (open[g] as number) + 1;
    }
  };
  enter(root);
  while (sp >= 0) {
    const v = stackNode[sp] as number;
    const next = stackNext[sp] as number;
    if (next < (start[v + 1] as number)) {
      stackNext[sp] = next + 1;
      const c = children[next] as number;
      enter(c);
      sp++;
      stackNode[sp] = c;
      stackNext[sp] = start[c] as number;
    } else {
      const g = groupOf[v] as number;
      if (g >= 0) open[g] = (open[g] as number) - 1;
      sp--;
    }
  }
  return sums;
}

/**
 * Groups reportable objects by (kind, holder path). `newAfterId`: ids above it count as
 * allocated after the baseline.
 */
export interface Grouping {
  groups: Group[];
  /** Group index per node, -1 for nodes in no group. */
  groupOf: Int32Array;
}

export function groupByKindAndHolder(a: HeapAnalysis, newAfterId: number | null = null): Grouping {
  const s = a.snapshot;
  const n = s.nodeCount;
  const { idom, order } = a.tree;
  const kind = a.kinds;
  // holder[v]: nearest dominator of a different kind; in preorder, so idom is resolved first.
  const holder = new Uint32Array(n);
  holder[s.rootIndex] = s.rootIndex;
  for (let i = 1; i < n; i++) {
    const v = order[i] as number;
    const d = idom[v] as number;
    holder[v] = kind[d] === kind[v] ? (holder[d] as number) : d;
  }
  const groupOf = new Int32Array(n).fill(-1);
  const index = new Map<number, number>();
  const groups: Group[] = [];
  const pathHash = pathHashes(a);
  for (let v = 0; v < n; v++) {
    const t = s.nodeType(v);
    if (!isReportableType(s, t)) continue;
    const h = holder[v] as number;
    // 21 bits of kind and 32 of path: a 53-bit exact key for a JS Map.
    const key = ((kind[v] as number) & 0x1fffff) * 4294967296 + (pathHash[h] as number);
    let g = index.get(key);
    if (g === undefined) {
      g = groups.length;
      index.set(key, g);
      groups.push({
        name: s.nodeLabel(v),
        type: s.layout.nodeTypes[t] ?? 'unknown',
        kind: kind[v] as number,
        holderPath: pathHash[h] as number,
        count: 0,
        selfSize: 0,
        retainedSize: 0,
        newCount: 0,
        representative: v,
        holder: h,
      });
    }
    groupOf[v] = g;
    const grp = groups[g] as Group;
    grp.count++;
    grp.selfSize += s.selfSize(v);
    if (newAfterId !== null && s.nodeId(v) > newAfterId && s.hasOrderedId(v)) grp.newCount++;
    // The representative is the member nearest the GC roots (largest on ties): the head of a
    // linked list, not its middle, so its path is the short, readable one.
    const dv = a.retainers.distance[v] as number;
    const dr = a.retainers.distance[grp.representative] as number;
    if (dv < dr || (dv === dr && (a.retained[v] as number) > (a.retained[grp.representative] as number))) {
      grp.representative = v;
      grp.holder = h;
    }
  }
  const sums = nonNestedRetained(a, groupOf, groups.length);
  for (let g = 0; g < groups.length; g++) (groups[g] as Group).retainedSize = sums[g] as number;
  return { groups, groupOf };
}

export interface ConstructorSummary {
  name: string;
  type: string;
  count: number;
  selfSize: number;
  retainedSize: number;
}

/** The DevTools-style summary: per constructor/type, largest retained first. */
export function summarizeByConstructor(a: HeapAnalysis, top = 20): ConstructorSummary[] {
  const s = a.snapshot;
  const n = s.nodeCount;
  const groupOf = new Int32Array(n).fill(-1);
  const index = new Map<number, number>();
  const out: ConstructorSummary[] = [];
  for (let v = 0; v < n; v++) {
    const t = s.nodeType(v);
    if (t === s.nodeSynthetic) continue;
    const key = a.kinds[v] as number;
    let g = index.get(key);
    if (g === undefined) {
      g = out.length;
      index.set(key, g);
      out.push({ name: s.nodeLabel(v), type: s.layout.nodeTypes[t] ?? 'unknown', count: 0, selfSize: 0, retainedSize: 0 });
    }
    groupOf[v] = g;
    const e = out[g] as ConstructorSummary;
    e.count++;
    e.selfSize += s.selfSize(v);
  }
  const sums = nonNestedRetained(a, groupOf, out.length);
  for (let g = 0; g < out.length; g++) (out[g] as ConstructorSummary).retainedSize = sums[g] as number;
  return out.sort((x, y) => y.retainedSize - x.retainedSize).slice(0, top);
}
