/**
 * Leak suspects, most likely first.
 *
 * One snapshot (Eclipse MAT's rule): walk the dominator tree from the root through nodes that
 * retain at least `threshold` of the heap; where the mass stops flowing into one big child and
 * spreads over many small ones is an accumulation point. Its children, grouped by kind, are the
 * accumulated objects; the holder is the point itself.
 *
 * Several snapshots of one process: V8 gives objects monotonically increasing ids, so members
 * with an id above the baseline's highest were allocated after it and are still alive. Groups
 * (kind + holder path, see aggregate.ts) whose count and retained size grew since the baseline,
 * and that hold such new objects, are suspects — grown at every step first when there are three.
 */
import { groupByKindAndHolder, isReportableType, type Group, type Grouping } from './aggregate';
import type { HeapAnalysis } from './heap-analysis';
import { nodeKindHash, retainerPath } from './retainers';

export interface Suspect {
  /** Constructor or type of the accumulating objects. */
  name: string;
  type: string;
  /** Change in live object count (single snapshot: the count itself, against an empty heap). */
  countDelta: number;
  /** Change in retained bytes of the group (single snapshot: the group's retained bytes). */
  sizeDelta: number;
  /** Bytes the group keeps alive now. */
  retainedSize: number;
  /** Live objects in the group now. */
  count: number;
  /** Objects allocated after the baseline and still alive (diff only). */
  newCount?: number;
  /** The object that holds them all (label). */
  holder: string;
  /**
   * Other groups that are part of the same leak (held by this group's members, or by the same
   * holder), folded in so one leak reads as one suspect.
   */
  includes?: { name: string; count: number; countDelta: number; sizeDelta: number }[];
  /** Retainer chain from the GC roots to one representative object: holder, edge, holder, …, object. */
  path: string[];
  explanation: string;
}

export interface SingleOptions {
  /** Fraction of the heap a dominator must retain to be followed (MAT uses 10%). */
  threshold?: number;
  limit?: number;
}

export function formatBytes(n: number): string {
  const a = Math.abs(n);
  if (a < 1024) return `${n} B`;
  if (a < 1024 * 1024) return `${(n / 1024).toFixed(1)} KB`;
  if (a < 1024 * 1024 * 1024) return `${(n / 1024 / 1024).toFixed(1)} MB`;
  return `${(n / 1024 / 1024 / 1024).toFixed(2)} GB`;
}

function pct(part: number, whole: number): string {
  return whole > 0 ? `${((100 * part) / whole).toFixed(1)}%` : '?';
}

/** MAT-style accumulation points of one snapshot. */
export function suspectsFromSnapshot(a: HeapAnalysis, options: SingleOptions = {}): Suspect[] {
  const s = a.snapshot;
  const total = a.totalSize;
  const threshold = Math.max(1, (options.threshold ?? 0.1) * total);
  const limit = options.limit ?? 10;
  const { start, children } = a.children;
  const retained = a.retained;
  const points: number[] = [];
  const stack: number[] = [s.rootIndex];
  while (stack.length > 0) {
    const v = stack.pop() as number;
    let bigSum = 0;
    let bigCount = 0;
    for (let k = start[v] as number; k < (start[v + 1] as number); k++) {
      const c = children[k] as number;
      if ((retained[c] as number) >= threshold) {
        stack.push(c);
        bigSum += retained[c] as number;
        bigCount++;
      }
    }
    const synthetic = s.nodeType(v) === s.nodeSynthetic;
    // No big child, or most of the mass sits in many small children: the objects accumulate here.
    if (!synthetic && v !== s.rootIndex && (bigCount === 0 || bigSum < 0.5 * (retained[v] as number))) points.push(v);
  }
  const out: Suspect[] = [];
  for (const p of points) {
    const sus = accumulationSuspect(a, p);
    if (sus) out.push(sus);
  }
  out.sort((x, y) => y.retainedSize - x.retainedSize);
  if (out.length > 0) return out.slice(0, limit);
  // A heap with no dominant holder: fall back to the largest groups.
  const grouping = groupByKindAndHolder(a);
  const ranked = grouping.groups.map((g, i) => ({ index: i, countDelta: g.count, sizeDelta: g.retainedSize }));
  ranked.sort((x, y) => y.sizeDelta - x.sizeDelta);
  return foldSameLeak(a, grouping, ranked, limit).map(({ index, countDelta, sizeDelta, includes }) =>
    withIncludes(groupSuspect(a, grouping.groups[index] as Group, countDelta, sizeDelta, undefined), includes),
  );
}

function accumulationSuspect(a: HeapAnalysis, p: number): Suspect | null {
  const s = a.snapshot;
  const { start, children } = a.children;
  const byKind = new Map<number, { count: number; size: number; best: number; reportable: boolean }>();
  for (let k = start[p] as number; k < (start[p + 1] as number); k++) {
    const c = children[k] as number;
    const key = nodeKindHash(s, c);
    let e = byKind.get(key);
    if (!e) {
      e = { count: 0, size: 0, best: c, reportable: isReportableType(s, s.nodeType(c)) };
      byKind.set(key, e);
    }
    e.count++;
    e.size += a.retained[c] as number;
    if ((a.retained[c] as number) > (a.retained[e.best] as number)) e.best = c;
  }
  let pick: { count: number; size: number; best: number; reportable: boolean } | null = null;
  for (const e of byKind.values()) {
    if (!pick || (e.reportable && !pick.reportable) || (e.reportable === pick.reportable && e.size > pick.size)) pick = e;
  }
  const holderLabel = s.nodeLabel(p);
  if (!pick) {
    // A single large object with no children (e.g. one huge string or array).
    if (!isReportableType(s, s.nodeType(p)) && s.nodeType(p) !== s.nodeArray) return null;
    const path = retainerPath(s, a.retainers, p);
    return {
      name: holderLabel,
      type: s.nodeTypeName(p),
      countDelta: 1,
      sizeDelta: a.retained[p] as number,
      retainedSize: a.retained[p] as number,
      count: 1,
      holder: holderLabel,
      path,
      explanation: `One ${holderLabel} of ${formatBytes(a.retained[p] as number)} (${pct(a.retained[p] as number, a.totalSize)} of the heap), reached via ${shortChain(path)}.`,
    };
  }
  const name = s.nodeLabel(pick.best);
  const path = retainerPath(s, a.retainers, pick.best);
  return {
    name,
    type: s.nodeTypeName(pick.best),
    countDelta: pick.count,
    sizeDelta: pick.size,
    retainedSize: a.retained[p] as number,
    count: pick.count,
    holder: holderLabel,
    path,
    explanation:
      `${pick.count.toLocaleString('en-US')} ${name} object${pick.count === 1 ? '' : 's'} retain ${formatBytes(pick.size)} ` +
      `(${pct(pick.size, a.totalSize)} of the heap); all are kept alive by one ${holderLabel} ` +
      `(${formatBytes(a.retained[p] as number)} retained), reached via ${shortChain(path)}.`,
  };
}

/** The last few hops of a path, for a one-line explanation. */
function shortChain(path: string[]): string {
  const tail = path.slice(-7, -1);
  return tail.length > 0 ? tail.join(' → ') : path.join(' → ');
}

function groupSuspect(a: HeapAnalysis, g: Group, countDelta: number, sizeDelta: number, newCount: number | undefined): Suspect {
  const s = a.snapshot;
  const path = retainerPath(s, a.retainers, g.representative);
  const holder = s.nodeLabel(g.holder);
  const base: Suspect = {
    name: g.name,
    type: g.type,
    countDelta,
    sizeDelta,
    retainedSize: g.retainedSize,
    count: g.count,
    holder,
    path,
    explanation: '',
  };
  if (newCount === undefined) {
    base.explanation = `${g.count.toLocaleString('en-US')} ${g.name} objects retain ${formatBytes(g.retainedSize)} (${pct(g.retainedSize, a.totalSize)} of the heap), held by ${holder} via ${shortChain(path)}.`;
  } else {
    base.newCount = newCount;
    base.explanation =
      `${newCount.toLocaleString('en-US')} ${g.name} objects allocated after the baseline are still alive; ` +
      `the group grew by ${countDelta.toLocaleString('en-US')} objects and ${formatBytes(sizeDelta)} retained ` +
      `(now ${g.count.toLocaleString('en-US')} objects, ${formatBytes(g.retainedSize)}), held by ${holder} via ${shortChain(path)}.`;
  }
  return base;
}

/** What a baseline contributes to a diff: per group key, its count and retained size. */
export interface BaselineSummary {
  maxNodeId: number;
  groups: Map<number, { count: number; retainedSize: number }>;
}

function groupKey(kind: number, holderPath: number): number {
  return (kind & 0x1fffff) * 4294967296 + holderPath;
}

/** Reduces an analysed baseline to what the diff needs, so its arrays can be dropped. */
export function summarizeBaseline(a: HeapAnalysis): BaselineSummary {
  const groups = new Map<number, { count: number; retainedSize: number }>();
  for (const g of groupByKindAndHolder(a).groups) {
    const key = groupKey(g.kind, g.holderPath);
    const prev = groups.get(key);
    if (prev) {
      prev.count += g.count;
      prev.retainedSize += g.retainedSize;
    } else groups.set(key, { count: g.count, retainedSize: g.retainedSize });
  }
  return { maxNodeId: a.snapshot.maxNodeId(), groups };
}

export interface DiffOptions {
  limit?: number;
  /** Ignore groups that grew by less than this many bytes (default: 0.1% of the heap, at least 1 KB). */
  minSizeDelta?: number;
}

/**
 * Suspects from snapshots of one process: `baselines` oldest first (the first one defines what
 * "allocated after the baseline" means), `after` the latest.
 */
export function suspectsFromDiff(baselines: BaselineSummary[], after: HeapAnalysis, options: DiffOptions = {}): Suspect[] {
  if (baselines.length === 0) throw new Error('suspectsFromDiff needs at least one baseline');
  const first = baselines[0] as BaselineSummary;
  const limit = options.limit ?? 10;
  const minDelta = options.minSizeDelta ?? Math.max(1024, 0.001 * after.totalSize);
  const grouping = groupByKindAndHolder(after, first.maxNodeId);
  const scored: Ranked[] = [];
  const steadyOf = new Map<number, boolean>();
  grouping.groups.forEach((g, index) => {
    if (g.newCount === 0) return;
    const key = groupKey(g.kind, g.holderPath);
    const before = first.groups.get(key) ?? { count: 0, retainedSize: 0 };
    const countDelta = g.count - before.count;
    const sizeDelta = g.retainedSize - before.retainedSize;
    if (countDelta <= 0 || sizeDelta < minDelta) return;
    // With intermediate snapshots: did it grow at every step?
    let steady = true;
    let prev = before.count;
    for (let i = 1; i < baselines.length; i++) {
      const c = (baselines[i] as BaselineSummary).groups.get(key)?.count ?? 0;
      if (c <= prev) steady = false;
      prev = c;
    }
    if (g.count <= prev) steady = false;
    steadyOf.set(index, steady);
    scored.push({ index, countDelta, sizeDelta });
  });
  scored.sort((x, y) => {
    const sx = steadyOf.get(x.index) === true;
    const sy = steadyOf.get(y.index) === true;
    return sx === sy ? y.sizeDelta - x.sizeDelta : sx ? -1 : 1;
  });
  return foldSameLeak(after, grouping, scored, limit).map(({ index, countDelta, sizeDelta, includes }) => {
    const g = grouping.groups[index] as Group;
    return withIncludes(groupSuspect(after, g, countDelta, sizeDelta, g.newCount), includes);
  });
}

interface Ranked {
  index: number;
  countDelta: number;
  sizeDelta: number;
}

type Folded = Ranked & { includes: { name: string; count: number; countDelta: number; sizeDelta: number }[] };

/**
 * One leak, one suspect: walking the ranking best first, a group is folded into an earlier one
 * when its representative is held (through the dominator tree, a few holders up) by a member of
 * that group, or when both share the very same holder object (a Map's keys and its values).
 */
function foldSameLeak(a: HeapAnalysis, grouping: Grouping, ranked: Ranked[], limit: number): Folded[] {
  const out: Folded[] = [];
  const slotOfGroup = new Map<number, number>();
  const slotOfHolder = new Map<number, number>();
  const { idom } = a.tree;
  const root = a.snapshot.rootIndex;
  for (const r of ranked) {
    const g = grouping.groups[r.index] as Group;
    let slot = slotOfHolder.get(g.holder);
    // Walk up a few dominators from the representative looking for an already-listed group.
    let v = g.representative;
    for (let hop = 0; slot === undefined && hop < 8 && v !== root; hop++) {
      v = idom[v] as number;
      const owner = grouping.groupOf[v] as number;
      if (owner >= 0 && owner !== r.index) slot = slotOfGroup.get(owner);
    }
    if (slot !== undefined) {
      const host = out[slot] as Folded;
      const same = host.includes.find((x) => x.name === g.name);
      if (same) {
        same.count += g.count;
        same.countDelta += r.countDelta;
        same.sizeDelta += r.sizeDelta;
      } else host.includes.push({ name: g.name, count: g.count, countDelta: r.countDelta, sizeDelta: r.sizeDelta });
      slotOfGroup.set(r.index, slot);
      continue;
    }
    if (out.length >= limit) continue;
    slotOfGroup.set(r.index, out.length);
    slotOfHolder.set(g.holder, out.length);
    out.push({ ...r, includes: [] });
  }
  return out;
}

function withIncludes(s: Suspect, includes: Folded['includes']): Suspect {
  if (includes.length === 0) return s;
  s.includes = includes.slice(0, 10);
  const parts = includes.slice(0, 3).map((i) => `${i.countDelta.toLocaleString('en-US')} ${i.name}`);
  s.explanation += ` Part of the same leak: ${parts.join(', ')}${includes.length > 3 ? ', …' : ''}.`;
  return s;
}
