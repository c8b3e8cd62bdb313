/**
 * Leak suspects, most likely first.
 *
 * One snapshot (Eclipse MAT's rule): walk the dominator tree from the root through nodes that
 * retain at least `threshold` of the heap; where the mass stops flowing into one big child and
 * spreads over many small ones is an accumulation point. Its children, grouped by kind, are the
 * accumulated objects; the holder is the point itself.
 *
 * Several snapshots of one process: groups (kind + holder path, see aggregate.ts) are compared
 * by their net change — objects present after minus present before, retained bytes after minus
 * before. A group with new objects whose count and size did not grow is churn (a cache that
 * refreshes its entries), not a suspect. V8 gives objects monotonically increasing ids, so
 * members with an id above the first baseline's highest are the new objects; the freed ones
 * follow from the net change. With three or more snapshots a suspect must grow in every
 * interval (groups that grew in only some are "unconfirmed"), ranked by its smallest interval
 * growth: consistent and large first, in the spirit of BLeak's LeakShare.
 */
import { groupByKindAndHolder, isReportableType, type Group, type Grouping } from './aggregate';
import type { HeapAnalysis } from './heap-analysis';
import { nodeKindHash, retainerPath } from './retainers';

export interface Suspect {
  /** Constructor or type of the accumulating objects. */
  name: string;
  type: string;
  /** Net change in live object count, first snapshot to last (single snapshot: the count itself, against an empty heap). */
  countDelta: number;
  /** Net change in retained bytes of the group, first to last (single snapshot: the group's retained bytes). */
  sizeDelta: number;
  /** Bytes the group keeps alive now. */
  retainedSize: number;
  /** Live objects in the group now. */
  count: number;
  /** Objects allocated after the baseline and still alive (diff only; same as newObjects). */
  newCount?: number;
  /** Diff only: objects of the group allocated after the first baseline and still alive. */
  newObjects?: number;
  /** Diff only: objects the group had at the first baseline that are gone from it (freed, or now held elsewhere). */
  freedObjects?: number;
  /** Three or more snapshots: the net change in each interval, oldest first. */
  intervals?: Growth[];
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

export interface Growth {
  countDelta: number;
  sizeDelta: number;
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
    withIncludes(groupSuspect(a, grouping.groups[index] as Group, countDelta, sizeDelta), includes),
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

function groupSuspect(a: HeapAnalysis, g: Group, countDelta: number, sizeDelta: number): Suspect {
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
  base.explanation = `${g.count.toLocaleString('en-US')} ${g.name} objects retain ${formatBytes(g.retainedSize)} (${pct(g.retainedSize, a.totalSize)} of the heap), held by ${holder} via ${shortChain(path)}.`;
  return base;
}

const num = (n: number): string => n.toLocaleString('en-US');
const signedNum = (n: number): string => (n < 0 ? '-' : '+') + num(Math.abs(n));
const signedBytes = (n: number): string => (n < 0 ? '-' : '+') + formatBytes(Math.abs(n));

function diffSuspect(a: HeapAnalysis, g: Group, d: GroupDiff, verdict: 'suspect' | 'churn' | 'unconfirmed'): Suspect {
  const s = groupSuspect(a, g, d.countDelta, d.sizeDelta);
  s.newCount = d.newObjects;
  s.newObjects = d.newObjects;
  s.freedObjects = d.freedObjects;
  if (d.intervals.length > 1) s.intervals = d.intervals;
  const held = `held by ${s.holder} via ${shortChain(s.path)}`;
  const now = `now ${num(g.count)} objects, ${formatBytes(g.retainedSize)}`;
  const steps = d.intervals.map((i) => `${signedNum(i.countDelta)} objects / ${signedBytes(i.sizeDelta)}`).join(', then ');
  if (verdict === 'churn') {
    s.explanation =
      `${num(d.newObjects)} ${g.name} objects are new and ${num(d.freedObjects)} are gone: the group did not grow ` +
      `(net ${signedNum(d.countDelta)} objects, ${signedBytes(d.sizeDelta)} retained; ${now}), ${held}. Refreshed in place, not a leak.`;
  } else if (verdict === 'unconfirmed') {
    s.explanation =
      `${g.name} grew by ${signedNum(d.countDelta)} objects and ${signedBytes(d.sizeDelta)} retained overall but not in every interval ` +
      `(${steps}; ${now}), ${held}. Not a confirmed leak: it stopped growing, or only started.`;
  } else {
    s.explanation =
      `The group of ${g.name} grew by ${num(d.countDelta)} objects and ${formatBytes(d.sizeDelta)} retained ` +
      `(${num(d.newObjects)} new, ${num(d.freedObjects)} gone; ${now})` +
      (d.intervals.length > 1 ? `, in every interval (${steps})` : '') +
      `, ${held}.`;
  }
  return s;
}

/** What a baseline contributes to a diff: per group key, its count and retained size. */
export interface BaselineSummary {
  maxNodeId: number;
  groups: Map<number, { count: number; retainedSize: number }>;
  /** Per kind (all holders together): the fallback when a group's holder path moved between snapshots. */
  kinds: Map<number, { count: number; retainedSize: number }>;
}

type Tally = { count: number; retainedSize: number };

function addTo(map: Map<number, Tally>, key: number, g: Tally): void {
  const prev = map.get(key);
  if (prev) {
    prev.count += g.count;
    prev.retainedSize += g.retainedSize;
  } else map.set(key, { count: g.count, retainedSize: g.retainedSize });
}

function kindTotals(groups: Group[]): Map<number, Tally> {
  const kinds = new Map<number, Tally>();
  for (const g of groups) addTo(kinds, g.kind, g);
  return kinds;
}

function groupKey(kind: number, holderPath: number): number {
  return (kind & 0x1fffff) * 4294967296 + holderPath;
}

/** Reduces an analysed baseline to what the diff needs, so its arrays can be dropped. */
export function summarizeBaseline(a: HeapAnalysis): BaselineSummary {
  const groups = new Map<number, Tally>();
  const all = groupByKindAndHolder(a).groups;
  for (const g of all) addTo(groups, groupKey(g.kind, g.holderPath), g);
  return { maxNodeId: a.snapshot.maxNodeId(), groups, kinds: kindTotals(all) };
}

export interface DiffOptions {
  limit?: number;
  /** Ignore groups that grew by less than this many bytes (default: 0.1% of the heap, at least 1 KB). */
  minSizeDelta?: number;
}

interface GroupDiff extends Growth {
  newObjects: number;
  freedObjects: number;
  /** Net change per interval between consecutive snapshots, oldest first. */
  intervals: Growth[];
}

/** What a diff finds: suspects (grew, and in every interval), churn (new objects, no growth), unconfirmed. */
export interface DiffResult {
  /** Groups that grew (net), in every interval when there are three or more snapshots; most likely first. */
  suspects: Suspect[];
  /** Groups with new objects that did not grow: caches refreshed in place. Most new objects first. */
  churn: Suspect[];
  /** Three or more snapshots: groups that grew overall but not in every interval. */
  unconfirmed: Suspect[];
}

/**
 * Suspects from snapshots of one process: `baselines` oldest first (the first one defines what
 * "allocated after the baseline" means), `after` the latest.
 */
export function suspectsFromDiff(baselines: BaselineSummary[], after: HeapAnalysis, options: DiffOptions = {}): Suspect[] {
  return diffSnapshots(baselines, after, options).suspects;
}

export function diffSnapshots(baselines: BaselineSummary[], after: HeapAnalysis, options: DiffOptions = {}): DiffResult {
  if (baselines.length === 0) throw new Error('diffSnapshots needs at least one baseline');
  const first = baselines[0] as BaselineSummary;
  const limit = options.limit ?? 10;
  const minDelta = options.minSizeDelta ?? Math.max(1024, 0.001 * after.totalSize);
  const grouping = groupByKindAndHolder(after, first.maxNodeId);
  const diffs = new Map<number, GroupDiff>();
  const suspects: (Ranked & { score: number })[] = [];
  const churn: Ranked[] = [];
  const unconfirmed: Ranked[] = [];
  const none: Tally = { count: 0, retainedSize: 0 };
  let afterKinds: Map<number, Tally> | undefined;
  grouping.groups.forEach((g, index) => {
    if (g.newCount === 0) return;
    const key = groupKey(g.kind, g.holderPath);
    const chain = baselines.map((b) => b.groups.get(key) ?? none);
    const before = chain[0] as Tally;
    chain.push(g);
    // A group missing from an earlier snapshot although objects of its kind were there: its
    // holder's path moved (a Map reached for a moment through another variable, or through a
    // handle scope while the snapshot was written). With three or more snapshots, judge its steps
    // on all objects of its kind instead of calling it a group that was empty and then grew.
    const moved = before.count > 0
      ? chain.some((c) => c.count === 0)
      : baselines.length > 1 && baselines.some((b, i) => (chain[i] as Tally).count === 0 && (b.kinds.get(g.kind)?.count ?? 0) > 0);
    const steps = moved ? [...baselines.map((b) => b.kinds.get(g.kind) ?? none), (afterKinds ??= kindTotals(grouping.groups)).get(g.kind) ?? none] : chain;
    const intervals: Growth[] = [];
    for (let i = 1; i < steps.length; i++) {
      const p = steps[i - 1] as Tally;
      const c = steps[i] as Tally;
      intervals.push({ countDelta: c.count - p.count, sizeDelta: c.retainedSize - p.retainedSize });
    }
    const countDelta = g.count - before.count;
    const sizeDelta = g.retainedSize - before.retainedSize;
    // Present after = survivors + new; present before = survivors + freed.
    const freedObjects = Math.max(0, before.count + g.newCount - g.count);
    const d: GroupDiff = { countDelta, sizeDelta, newObjects: g.newCount, freedObjects, intervals };
    diffs.set(index, d);
    const r = { index, countDelta, sizeDelta };
    if (countDelta > 0 && sizeDelta >= minDelta) {
      if (intervals.every((i) => i.countDelta > 0 && i.sizeDelta > 0)) {
        suspects.push({ ...r, score: Math.min(...intervals.map((i) => i.sizeDelta)) });
      } else unconfirmed.push(r);
    } else if (g.retainedSize >= minDelta) churn.push(r);
  });
  // Consistent and large first: the smallest interval growth (with two snapshots, the growth).
  suspects.sort((x, y) => y.score - x.score || y.sizeDelta - x.sizeDelta);
  unconfirmed.sort((x, y) => y.sizeDelta - x.sizeDelta);
  churn.sort((x, y) => ((diffs.get(y.index) as GroupDiff).newObjects - (diffs.get(x.index) as GroupDiff).newObjects));
  const build = (ranked: Ranked[], verdict: 'suspect' | 'churn' | 'unconfirmed'): Suspect[] =>
    foldSameLeak(after, grouping, ranked, limit).map(({ index, includes }) =>
      withIncludes(diffSuspect(after, grouping.groups[index] as Group, diffs.get(index) as GroupDiff, verdict), includes, verdict === 'suspect' ? 'Part of the same leak' : 'Held with it'),
    );
  return { suspects: build(suspects, 'suspect'), churn: build(churn, 'churn'), unconfirmed: build(unconfirmed, 'unconfirmed') };
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

function withIncludes(s: Suspect, includes: Folded['includes'], label = 'Part of the same leak'): Suspect {
  if (includes.length === 0) return s;
  s.includes = includes.slice(0, 10);
  // A leak names how many of each it gained; churn has gained none, so name how many it holds.
  const parts = includes.slice(0, 3).map((i) => `${(label === 'Part of the same leak' ? i.countDelta : i.count).toLocaleString('en-US')} ${i.name}`);
  s.explanation += ` ${label}: ${parts.join(', ')}${includes.length > 3 ? ', …' : ''}.`;
  return s;
}
