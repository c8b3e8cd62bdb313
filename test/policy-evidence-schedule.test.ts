/**
 * The policy's evidence schedule, with plain numbers: what the verdict's round captures, when the
 * pair's second snapshot, the late and second profiles and the retries of a refused snapshot are
 * due, and what the alert says is still to come.
 */
import { describe, expect, it } from 'vitest';
import type { CaptureOrder, CaptureOutcome } from '../src/evidence/capture-orders';
import {
  LATE_PROFILE_AFTER_MS, RETRY_EVERY_MS, applyOutcomes, newProgress, ordersAtVerdict, ordersDue, pendingFiles, planAtVerdict,
  type ScheduleRules,
} from '../src/policy/evidence-schedule';

const MB = 2 ** 20;
const RULES: ScheduleRules = { snapshots: true, profiles: true, pairGrowth: { kind: 'percent', value: 25 } };
const T0 = 1_000_000;

const snapshotOutcome = (n: number, done: boolean, check = ''): CaptureOutcome => ({
  order: { kind: 'snapshot', n, reason: 'leak', logSkip: false },
  done,
  ...(done ? {} : { skipped: { kind: 'heapsnapshot', path: `/e/heap-${n}.heapsnapshot`, check, reason: `refused: ${check}` } }),
});
const kinds = (orders: CaptureOrder[]) => orders.map((o) => ('n' in o ? `${o.kind}-${o.n}` : o.kind));

describe('the verdict\'s round', () => {
  it('profile and snapshot now when the profiler runs; start it otherwise; nothing the configuration rules out', () => {
    expect(kinds(ordersAtVerdict(RULES, 'running'))).toEqual(['profile-1', 'snapshot-1']);
    expect(kinds(ordersAtVerdict(RULES, 'idle'))).toEqual(['start-profiler', 'snapshot-1']);
    expect(kinds(ordersAtVerdict(RULES, 'unavailable'))).toEqual(['snapshot-1']);
    expect(kinds(ordersAtVerdict({ ...RULES, snapshots: false, profiles: false }, 'running'))).toEqual([]);
    // The first attempt logs its refusal; retries only when the reason changes.
    expect(ordersAtVerdict(RULES, 'running')[1]).toMatchObject({ logSkip: true });
  });

  it('the alert plans this round\'s files now and the pair for later', () => {
    const orders: CaptureOrder[] = [{ kind: 'series', samples: [], alerts: [] }, ...ordersAtVerdict(RULES, 'running')];
    expect(planAtVerdict(RULES, orders, 'running', T0).map((p) => `${p.name}: ${p.when}`)).toEqual([
      'series.json: now',
      'allocations-1.heapprofile: now',
      'allocations-1.pb.gz: now',
      'heap-1.heapsnapshot: now, if the snapshot gate allows it',
      'allocations-2.heapprofile: once old-space grew +25% since the alert',
      'allocations-2.pb.gz: once old-space grew +25% since the alert',
      'heap-2.heapsnapshot: once old-space grew +25% since heap-1 (through the snapshot gate)',
      'manifest.json: now, rewritten as each file is added',
    ]);
  });

  it('a profiler started at the alert: its first profile is planned once it has sampled', () => {
    const orders = ordersAtVerdict({ ...RULES, snapshots: false, pairGrowth: { kind: 'bytes', value: 8 * MB } }, 'idle');
    const planned = planAtVerdict({ ...RULES, snapshots: false, pairGrowth: { kind: 'bytes', value: 8 * MB } }, orders, 'idle', T0);
    expect(planned.map((p) => p.name)).toEqual(['allocations-1.heapprofile', 'allocations-1.pb.gz', 'manifest.json']);
    expect(planned[0]?.when).toMatch(/^once the profiler has sampled 1m or old-space grew \+8(\.0)? ?MiB since the alert$/);
  });
});

describe('on each tick', () => {
  it('the pair\'s second snapshot once old-space grew by the threshold since the first, not before', () => {
    const p = newProgress(T0, 100 * MB);
    applyOutcomes(p, [{ order: { kind: 'profile', n: 1 }, done: true }, snapshotOutcome(1, true)], T0, 100 * MB);
    expect(p).toMatchObject({ profiles: 1, snapshots: 1, snapshotOldSpace: 100 * MB });
    expect(ordersDue(RULES, p, T0 + 1000, 124 * MB, 'running')).toEqual([]);
    expect(kinds(ordersDue(RULES, p, T0 + 1000, 125 * MB, 'running'))).toEqual(['profile-2', 'snapshot-2']);
    expect(ordersDue(RULES, p, T0 + 1000, 125 * MB, 'running')[1]).toMatchObject({ reason: 'leak pair (further growth)' });
    applyOutcomes(p, [{ order: { kind: 'profile', n: 2 }, done: true }, snapshotOutcome(2, true)], T0 + 1000, 125 * MB);
    expect(ordersDue(RULES, p, T0 + 10 * 60_000, 500 * MB, 'running')).toEqual([]);
    expect(pendingFiles(RULES, p, 'running')).toEqual([]);
  });

  it('no pair when LEAK_AGENT_SNAPSHOT_PAIR=off', () => {
    const rules = { ...RULES, pairGrowth: null };
    const p = newProgress(T0, 100 * MB);
    applyOutcomes(p, [{ order: { kind: 'profile', n: 1 }, done: true }, snapshotOutcome(1, true)], T0, 100 * MB);
    expect(ordersDue(rules, p, T0 + 60 * 60_000, 1000 * MB, 'running')).toEqual([]);
    expect(pendingFiles(rules, p, 'running')).toEqual([]);
  });

  it('a refused first snapshot is retried every RETRY_EVERY_MS, and its refusal reported again only when the reason changes', () => {
    const p = newProgress(T0, 100 * MB);
    expect(applyOutcomes(p, [{ ...snapshotOutcome(1, false, 'cooldown'), order: { kind: 'snapshot', n: 1, reason: 'leak', logSkip: true } }], T0, 100 * MB)).toEqual([]);
    expect(ordersDue(RULES, p, T0 + RETRY_EVERY_MS - 1, 100 * MB, 'unavailable')).toEqual([]);
    expect(kinds(ordersDue(RULES, p, T0 + RETRY_EVERY_MS, 100 * MB, 'unavailable'))).toEqual(['snapshot-1']);
    expect(applyOutcomes(p, [snapshotOutcome(1, false, 'cooldown')], T0 + RETRY_EVERY_MS, 100 * MB)).toEqual([]);
    expect(applyOutcomes(p, [snapshotOutcome(1, false, 'disk-space')], T0 + 2 * RETRY_EVERY_MS, 100 * MB)).toHaveLength(1);
    expect(pendingFiles(RULES, p, 'unavailable').map((f) => f.name)).toEqual(['heap-1.heapsnapshot']);
    applyOutcomes(p, [snapshotOutcome(1, true)], T0 + 3 * RETRY_EVERY_MS, 110 * MB);
    expect(p).toMatchObject({ snapshots: 1, snapshotOldSpace: 110 * MB, refusedCheck: '' });
  });

  it('a profiler started at the alert: its first profile after LATE_PROFILE_AFTER_MS, or sooner once old-space grew', () => {
    const p = newProgress(T0, 100 * MB);
    const rules = { ...RULES, snapshots: false };
    expect(ordersDue(rules, p, T0 + 1000, 110 * MB, 'starting')).toEqual([]);
    expect(ordersDue(rules, p, T0 + 1000, 110 * MB, 'running')).toEqual([]);
    expect(kinds(ordersDue(rules, p, T0 + LATE_PROFILE_AFTER_MS, 110 * MB, 'running'))).toEqual(['profile-1']);
    expect(kinds(ordersDue(rules, p, T0 + 1000, 125 * MB, 'running'))).toEqual(['profile-1']);
  });
});
