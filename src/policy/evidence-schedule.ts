/**
 * When each piece of an episode's evidence is captured. Pure: the rules, what the episode has so
 * far and the latest readings in, orders for the evidence stage out. The policy consults it at the
 * verdict and on every tick.
 *
 *   at the verdict   series.json; allocations-1 if the profiler is running (else start it);
 *                    heap-1 through the gate
 *   on a tick        allocations-1 once a profiler started at the alert has sampled
 *                    LATE_PROFILE_AFTER_MS, or old-space grew by the pair threshold since the alert;
 *                    allocations-2 once old-space grew by the pair threshold since the alert;
 *                    heap-1 again (at most every RETRY_EVERY_MS) while the gate refuses it;
 *                    heap-2 once old-space grew by the pair threshold since heap-1
 */
import { formatBytes } from '../config/bytes';
import { formatDuration } from '../config/duration';
import type { PairGrowth } from '../config/evidence-env';
import type { CaptureOrder, CaptureOutcome } from '../evidence/capture-orders';
import { EPISODE_FILES } from '../evidence/episode';
import type { ProfilerState } from '../evidence/evidence-capture';
import type { EvidenceKind } from '../evidence/manifest-types';

/** A snapshot the gate refused is asked for again at most this often. */
export const RETRY_EVERY_MS = 30_000;
/**
 * When the profiler only started at the alert (no `suspect` state came first), its first profile is
 * written once it has sampled this long, or sooner if old-space grew by the pair threshold.
 */
export const LATE_PROFILE_AFTER_MS = 60_000;

export interface ScheduleRules {
  snapshots: boolean;
  profiles: boolean;
  pairGrowth: PairGrowth | null;
}

/** What one open episode has; the policy updates it from each round's outcomes. */
export interface EpisodeProgress {
  openedAt: number;
  profiles: number;
  snapshots: number;
  /** Old-space after the latest full GC at the alert, and when heap-1 was written. */
  leakOldSpace: number | undefined;
  snapshotOldSpace: number | undefined;
  /** When the gate last refused this episode's snapshot, and with which check. */
  refusedAt: number;
  refusedCheck: string;
}

/** A file the policy means to capture, and when. */
export interface PlannedFile {
  kind: EvidenceKind;
  /** File name inside the episode directory (the caller makes it a path). */
  name: string;
  when: string;
}

export function newProgress(now: number, oldSpace: number | undefined): EpisodeProgress {
  return { openedAt: now, profiles: 0, snapshots: 0, leakOldSpace: oldSpace, snapshotOldSpace: undefined, refusedAt: -Infinity, refusedCheck: '' };
}

/** Has old-space grown by the pair threshold since `base`? */
export function grewEnough(pair: PairGrowth | null, base: number | undefined, oldSpace: number | undefined): boolean {
  if (!pair || oldSpace === undefined || base === undefined) return false;
  const grown = oldSpace - base;
  return pair.kind === 'bytes' ? grown >= pair.value : grown >= (base * pair.value) / 100;
}

/** The verdict's own round, after series.json. */
export function ordersAtVerdict(rules: ScheduleRules, profiler: ProfilerState): CaptureOrder[] {
  const orders: CaptureOrder[] = [];
  if (rules.profiles && profiler === 'running') orders.push({ kind: 'profile', n: 1 });
  else if (rules.profiles && profiler !== 'unavailable') orders.push({ kind: 'start-profiler', why: 'leak verdict' });
  if (rules.snapshots) orders.push({ kind: 'snapshot', n: 1, reason: 'leak', logSkip: true });
  return orders;
}

/** What is due now for an open episode (empty most ticks). */
export function ordersDue(rules: ScheduleRules, p: EpisodeProgress, now: number, oldSpace: number | undefined, profiler: ProfilerState): CaptureOrder[] {
  const orders: CaptureOrder[] = [];
  const sinceAlert = grewEnough(rules.pairGrowth, p.leakOldSpace, oldSpace);
  if (rules.profiles && profiler === 'running') {
    if (p.profiles === 0 ? now - p.openedAt >= LATE_PROFILE_AFTER_MS || sinceAlert : p.profiles === 1 && sinceAlert) {
      orders.push({ kind: 'profile', n: p.profiles + 1 });
    }
  }
  if (rules.snapshots && now - p.refusedAt >= RETRY_EVERY_MS) {
    if (p.snapshots === 0) orders.push({ kind: 'snapshot', n: 1, reason: 'leak', logSkip: false });
    else if (p.snapshots === 1 && grewEnough(rules.pairGrowth, p.snapshotOldSpace, oldSpace)) {
      orders.push({ kind: 'snapshot', n: 2, reason: 'leak pair (further growth)', logSkip: false });
    }
  }
  return orders;
}

/**
 * Folds a round's outcomes into the episode's progress. Returns the refused snapshots whose reason
 * is new (a retry logs its refusal only when the reason changes).
 */
export function applyOutcomes(p: EpisodeProgress, outcomes: readonly CaptureOutcome[], now: number, oldSpace: number | undefined): CaptureOutcome[] {
  const newRefusals: CaptureOutcome[] = [];
  for (const o of outcomes) {
    if (o.order.kind === 'profile' && o.done) p.profiles = o.order.n;
    if (o.order.kind !== 'snapshot') continue;
    if (o.done) {
      p.snapshots = o.order.n;
      p.refusedCheck = '';
      if (o.order.n === 1) p.snapshotOldSpace = oldSpace;
    } else {
      const check = o.skipped?.check ?? '';
      if (!o.order.logSkip && check !== p.refusedCheck) newRefusals.push(o);
      p.refusedCheck = check;
      p.refusedAt = now;
    }
  }
  return newRefusals;
}

/** What is still to come for an episode (for the alert and for each evidence.ready). */
export function pendingFiles(rules: ScheduleRules, p: EpisodeProgress, profiler: ProfilerState): PlannedFile[] {
  const pair = rules.pairGrowth;
  const growth = pair ? (pair.kind === 'bytes' ? `+${formatBytes(pair.value)}` : `+${pair.value}%`) : '';
  const out: PlannedFile[] = [];
  if (rules.profiles && profiler !== 'unavailable') {
    if (p.profiles === 0) {
      out.push(...profileFiles(1, `once the profiler has sampled ${formatDuration(LATE_PROFILE_AFTER_MS)}${pair ? ` or old-space grew ${growth} since the alert` : ''}`));
    } else if (p.profiles === 1 && pair) {
      out.push(...profileFiles(2, `once old-space grew ${growth} since the alert`));
    }
  }
  if (rules.snapshots) {
    if (p.snapshots === 0) {
      out.push({ kind: 'heapsnapshot', name: EPISODE_FILES.heapsnapshot(1), when: `retried at most every ${formatDuration(RETRY_EVERY_MS)} while the episode is open, until the snapshot gate allows it` });
    } else if (p.snapshots === 1 && pair) {
      out.push({ kind: 'heapsnapshot', name: EPISODE_FILES.heapsnapshot(2), when: `once old-space grew ${growth} since heap-1 (through the snapshot gate)` });
    }
  }
  return out;
}

/** The alert's plan: this round's files now, then what is to come if they succeed. */
export function planAtVerdict(rules: ScheduleRules, orders: readonly CaptureOrder[], profiler: ProfilerState, now: number): PlannedFile[] {
  const planned: PlannedFile[] = [];
  const assumed = newProgress(now, undefined);
  for (const o of orders) {
    if (o.kind === 'series') planned.push({ kind: 'series', name: EPISODE_FILES.series(), when: 'now' });
    if (o.kind === 'profile') {
      planned.push(...profileFiles(o.n, 'now'));
      assumed.profiles = o.n;
    }
    if (o.kind === 'snapshot') {
      planned.push({ kind: 'heapsnapshot', name: EPISODE_FILES.heapsnapshot(o.n), when: 'now, if the snapshot gate allows it' });
      assumed.snapshots = o.n;
    }
  }
  const started = orders.some((o) => o.kind === 'start-profiler') ? 'starting' : profiler;
  return [...planned, ...pendingFiles(rules, assumed, started), { kind: 'manifest', name: EPISODE_FILES.manifest(), when: 'now, rewritten as each file is added' }];
}

function profileFiles(n: number, when: string): PlannedFile[] {
  return [
    { kind: 'heapprofile', name: EPISODE_FILES.heapprofile(n), when },
    { kind: 'pprof', name: EPISODE_FILES.pprof(n), when },
  ];
}
