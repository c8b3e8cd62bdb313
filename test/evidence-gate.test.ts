/**
 * The pure parts of evidence capture, with plain numbers: the snapshot cost model, every refusal of
 * the gate (with its figures), retention under the disk budget, byte sizes and the evidence
 * environment variables, and the series trend line.
 */
import { describe, expect, it } from 'vitest';
import { formatBytes, parseBytes } from '../src/config/bytes';
import { readConfig } from '../src/config/env';
import type { LeakVerdict } from '../src/detect/verdict';
import { buildSeries } from '../src/evidence/series-file';
import { EXTRA_RSS_PER_NODE, FILE_BYTES_PER_NODE, HEAP_BYTES_PER_NODE, calibratedBytesPerNode, estimateSnapshot } from '../src/evidence/snapshot-cost';
import { DISK_RESERVE_BYTES, decideSnapshot, type GateFacts } from '../src/evidence/snapshot-gate';

const MiB = 2 ** 20;
const GiB = 2 ** 30;

function facts(over: Partial<GateFacts> = {}): GateFacts {
  const heapUsed = 100 * MiB;
  return {
    snapshotsEnabled: true,
    now: 1_000_000_000,
    estimate: estimateSnapshot(heapUsed),
    heapUsed,
    heapLimit: 4 * GiB,
    container: { limit: 8 * GiB, usage: 1 * GiB },
    systemAvailable: 16 * GiB,
    diskFree: 50 * GiB,
    existing: [],
    limits: { perProcess: 4, perDay: 6, cooldownMs: 600_000, diskBudgetBytes: 2 * GiB },
    takenThisProcess: 0,
    history: [],
    ...over,
  };
}

describe('estimateSnapshot', () => {
  it('scales the measured per-node figures from heap used', () => {
    const e = estimateSnapshot(100 * MiB);
    expect(e.nodes).toBe(Math.ceil((100 * MiB) / HEAP_BYTES_PER_NODE));
    expect(e.extraRssBytes).toBe(e.nodes * EXTRA_RSS_PER_NODE);
    expect(e.fileBytes).toBe(e.nodes * FILE_BYTES_PER_NODE);
    // A 100 MiB heap needs over a GiB of extra RSS: why the gate exists.
    expect(e.extraRssBytes).toBeGreaterThan(GiB);
  });
});

describe('calibratedBytesPerNode', () => {
  it('lowers the constant to what a real snapshot showed, never raises it', () => {
    expect(calibratedBytesPerNode(40, 24e6, 1e6)).toBe(24); // a heap of small objects: count more nodes next time
    expect(calibratedBytesPerNode(40, 90e6, 1e6)).toBe(40); // garbage inflated heap used: keep the constant
    expect(calibratedBytesPerNode(40, 24e6, 0)).toBe(40);
    expect(estimateSnapshot(24e6, 24).nodes).toBe(1e6);
    expect(estimateSnapshot(24e6, 400).nodes).toBe(estimateSnapshot(24e6).nodes);
  });
});

describe('decideSnapshot', () => {
  it('allows a snapshot that fits everywhere', () => {
    const d = decideSnapshot(facts());
    expect(d).toMatchObject({ ok: true, deleteFirst: [] });
  });

  it('refuses when snapshots are off', () => {
    expect(decideSnapshot(facts({ snapshotsEnabled: false }))).toMatchObject({ ok: false, check: 'off' });
  });

  it('refuses past the per-process and per-day maxima', () => {
    expect(decideSnapshot(facts({ takenThisProcess: 4 }))).toMatchObject({ ok: false, check: 'per-process', figures: { perProcess: 4 } });
    const now = 1_000_000_000;
    const history = [now - 86_400_000 - 1, now - 5 * 3_600_000, now - 4 * 3_600_000, now - 3 * 3_600_000, now - 2 * 3_600_000, now - 3_600_000];
    // The entry older than 24 h does not count: 5 in the day, limit 6 → allowed; limit 5 → refused.
    expect(decideSnapshot(facts({ history })).ok).toBe(true);
    const refused = decideSnapshot(facts({ history, limits: { ...facts().limits, perDay: 5 } }));
    expect(refused).toMatchObject({ ok: false, check: 'per-day', figures: { lastDay: 5, perDay: 5 } });
  });

  it('refuses inside the cooldown and says when to retry', () => {
    const now = 1_000_000_000;
    const d = decideSnapshot(facts({ history: [now - 120_000] }));
    expect(d).toMatchObject({ ok: false, check: 'cooldown', figures: { retryInMs: 480_000 } });
    if (!d.ok) expect(d.reason).toBe('the last snapshot was 120 s ago; the cooldown is 600 s (LEAK_AGENT_SNAPSHOT_COOLDOWN)');
  });

  it('refuses near the heap limit', () => {
    const d = decideSnapshot(facts({ heapUsed: 3.7 * GiB }));
    expect(d).toMatchObject({ ok: false, check: 'heap-limit' });
  });

  it('refuses when the container headroom cannot hold the extra RSS, with the figures', () => {
    const d = decideSnapshot(facts({ container: { limit: 2 * GiB, usage: 1.5 * GiB } }));
    expect(d.ok).toBe(false);
    if (d.ok) return;
    expect(d.check).toBe('container-memory');
    expect(d.figures).toMatchObject({ containerLimit: 2 * GiB, containerUsage: 1.5 * GiB, headroom: 0.5 * GiB });
    expect(d.figures.needMemory).toBe(Math.ceil(estimateSnapshot(100 * MiB).extraRssBytes * 1.25));
    expect(d.reason).toMatch(/^container headroom 512\.0 MiB \(limit 2048\.0 MiB − usage 1536\.0 MiB\) cannot hold/);
  });

  it('ignores a container without a limit but still checks the machine', () => {
    expect(decideSnapshot(facts({ container: { limit: null, usage: 10 * GiB } })).ok).toBe(true);
    expect(decideSnapshot(facts({ container: undefined, systemAvailable: 500 * MiB }))).toMatchObject({ ok: false, check: 'system-memory' });
  });

  it('refuses a file larger than the disk budget, and when the disk is too full', () => {
    expect(decideSnapshot(facts({ limits: { ...facts().limits, diskBudgetBytes: 100 * MiB } }))).toMatchObject({ ok: false, check: 'disk-budget' });
    const fileNeed = Math.ceil(estimateSnapshot(100 * MiB).fileBytes * 1.25);
    expect(decideSnapshot(facts({ diskFree: fileNeed + DISK_RESERVE_BYTES })).ok).toBe(true);
    expect(decideSnapshot(facts({ diskFree: fileNeed + DISK_RESERVE_BYTES - 1 }))).toMatchObject({ ok: false, check: 'disk-space' });
  });

  it('deletes the oldest snapshots until the new one fits the budget, and counts what it frees as disk space', () => {
    const existing = [
      { path: '/e/a/heap-1.heapsnapshot', bytes: 800 * MiB },
      { path: '/e/a/heap-2.heapsnapshot', bytes: 800 * MiB },
      { path: '/e/b/heap-1.heapsnapshot', bytes: 300 * MiB },
    ];
    const d = decideSnapshot(facts({ existing }));
    // 1900 MiB kept + ~250 MiB new > 2 GiB: the oldest goes, the two newest stay.
    expect(d).toMatchObject({ ok: true, deleteFirst: ['/e/a/heap-1.heapsnapshot'] });
    // An open episode's snapshot is never deleted: the next oldest goes instead, or the gate refuses.
    const kept = existing.map((e, i) => ({ ...e, keep: i === 0 }));
    expect(decideSnapshot(facts({ existing: kept }))).toMatchObject({ ok: true, deleteFirst: ['/e/a/heap-2.heapsnapshot'] });
    const allKept = existing.map((e) => ({ ...e, keep: true }));
    expect(decideSnapshot(facts({ existing: allKept }))).toMatchObject({ ok: false, check: 'disk-budget', figures: { keptBytes: 1900 * MiB } });
    const tight = decideSnapshot(facts({ existing, diskFree: 100 * MiB }));
    expect(tight).toMatchObject({ ok: true, deleteFirst: ['/e/a/heap-1.heapsnapshot'] });
  });
});

describe('parseBytes', () => {
  it('reads decimal and binary units', () => {
    expect(parseBytes('512KiB')).toBe(512 * 1024);
    expect(parseBytes('64MB')).toBe(64e6);
    expect(parseBytes('2GiB')).toBe(2 * GiB);
    expect(parseBytes('16k')).toBe(16 * 1024);
    expect(parseBytes('1048576')).toBe(1048576);
    expect(formatBytes(512 * 1024)).toBe('512KiB');
  });
  it('rejects what is not a size', () => {
    for (const bad of ['', 'big', '-1MB', '0', '5 parsecs', '1e6']) expect(parseBytes(bad)).toBeUndefined();
  });
});

describe('evidence environment', () => {
  it('has safe defaults: profile from the first suspect state, no signal, pairs at +25%', () => {
    const { config, problems } = readConfig({});
    expect(problems).toEqual([]);
    expect(config.evidence).toMatchObject({
      profile: 'suspect', profileIntervalBytes: 512 * 1024, snapshotCooldownMs: 600_000, snapshotsPerProcess: 4,
      snapshotsPerDay: 6, diskBudgetBytes: 2 * GiB, pairGrowth: { kind: 'percent', value: 25 }, signal: null,
    });
    expect(Object.isFrozen(config.evidence)).toBe(true);
  });
  it('accepts every documented form', () => {
    const { config, problems } = readConfig({
      LEAK_AGENT_PROFILE: 'start', LEAK_AGENT_PROFILE_INTERVAL: '64KiB', LEAK_AGENT_SNAPSHOT_COOLDOWN: '90s',
      LEAK_AGENT_SNAPSHOTS_PER_PROCESS: '2', LEAK_AGENT_SNAPSHOTS_PER_DAY: '3', LEAK_AGENT_DISK_BUDGET: '500MB',
      LEAK_AGENT_SNAPSHOT_PAIR: '+64MB', LEAK_AGENT_SIGNAL: 'usr2',
    });
    expect(problems).toEqual([]);
    expect(config.evidence).toMatchObject({
      profile: 'start', profileIntervalBytes: 65536, snapshotCooldownMs: 90_000, snapshotsPerProcess: 2, snapshotsPerDay: 3,
      diskBudgetBytes: 500e6, pairGrowth: { kind: 'bytes', value: 64e6 }, signal: 'SIGUSR2',
    });
    expect(readConfig({ LEAK_AGENT_SNAPSHOT_PAIR: 'off', LEAK_AGENT_SNAPSHOT_COOLDOWN: '0' }).config.evidence).toMatchObject({ pairGrowth: null, snapshotCooldownMs: 0 });
  });
  it('names each bad value and what was expected, and keeps the default', () => {
    const { config, problems } = readConfig({
      LEAK_AGENT_PROFILE: 'always', LEAK_AGENT_PROFILE_INTERVAL: '12', LEAK_AGENT_SNAPSHOT_COOLDOWN: 'later',
      LEAK_AGENT_SNAPSHOTS_PER_PROCESS: '-1', LEAK_AGENT_DISK_BUDGET: 'lots', LEAK_AGENT_SNAPSHOT_PAIR: '+25',
      LEAK_AGENT_SIGNAL: 'SIGTERM',
    });
    expect(problems.map((p) => p.variable)).toEqual([
      'LEAK_AGENT_PROFILE', 'LEAK_AGENT_PROFILE_INTERVAL', 'LEAK_AGENT_SNAPSHOT_COOLDOWN', 'LEAK_AGENT_SNAPSHOTS_PER_PROCESS',
      'LEAK_AGENT_DISK_BUDGET', 'LEAK_AGENT_SNAPSHOT_PAIR', 'LEAK_AGENT_SIGNAL',
    ]);
    expect(problems.find((p) => p.variable === 'LEAK_AGENT_SIGNAL')).toMatchObject({ value: 'SIGTERM', using: 'off' });
    expect(problems.find((p) => p.variable === 'LEAK_AGENT_PROFILE_INTERVAL')?.expected).toMatch(/from 1KiB to 64MiB/);
    expect(config.evidence.signal).toBeNull();
    expect(config.evidence.profile).toBe('suspect');
  });
  it('refuses SIGUSR1, saying why', () => {
    const { problems } = readConfig({ LEAK_AGENT_SIGNAL: 'SIGUSR1' });
    expect(problems[0]?.expected).toMatch(/SIGUSR1 is Node's signal to start the inspector/);
  });
});

describe('buildSeries', () => {
  it('fits the Theil–Sen intercept under the verdict slope over the window', () => {
    const t0 = 1_000_000;
    const samples = [0, 1, 2, 3, 4].map((i) => ({
      t: t0 + i * 10_000, oldSpace: 50e6 + i * 1e6 + (i === 2 ? 5e6 : 0), heapUsed: 0, external: 0, rss: 0, gc: 'mark-sweep-compact', pauseMs: 1,
    }));
    const verdict = { kind: 'leak', detectedAt: t0 + 40_000, windowMs: 60_000, growthBytesPerSec: 100_000, currentBytes: 54e6 } as LeakVerdict;
    const series = buildSeries(verdict, samples, []);
    // slope 100 B/ms → residuals are 50e6 except the outlier; the median ignores it.
    expect(series.trend).toEqual({ t0, intercept: 50e6, slopePerMs: 100 });
  });
});
