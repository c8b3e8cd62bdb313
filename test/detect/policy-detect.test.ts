/**
 * The detection stage wired into the policy: verdicts become log lines and events with the contract
 * fields (before the evidence stage runs), evidence.ready follows with the files, status() carries the
 * detector state, and the history stays bounded.
 */
import { EventEmitter } from 'node:events';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { readConfig } from '../../src/config/env';
import { createLogger } from '../../src/log/logger';
import { Policy } from '../../src/policy/policy';
import type { GcRecord } from '../../src/sampler/types';
import { MiB } from './synthetic';

describe('policy detection stage', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'leak-agent-policy-'));
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('logs one leak.detected with window and evidence, emits it, and keeps a bounded series', async () => {
    const logFile = path.join(dir, 'agent.log');
    const { config } = readConfig({ LEAK_AGENT_WINDOW: '60s', LEAK_AGENT_LOG: logFile, LEAK_AGENT_DIR: dir, LEAK_AGENT_SNAPSHOTS: 'off', LEAK_AGENT_PROFILE: 'off' });
    const logger = createLogger(config.log);
    const events = new EventEmitter();
    const emitted: Record<string, unknown>[] = [];
    events.on('leak', (p: Record<string, unknown>) => emitted.push(p));
    const ready: Record<string, unknown>[] = [];
    events.on('evidence-ready', (p: Record<string, unknown>) => ready.push(p));
    const policy = new Policy({ config, logger, events });
    const t0 = Date.UTC(2026, 0, 1);
    for (let s = 0; s < 600; s++) {
      const t = t0 + s * 1000;
      // Four GCs per second (a busy process), a full one every 5 s; 150 KB/s retained.
      const records: GcRecord[] = [0, 250, 500, 750].map((ms, k) => {
        const old = 50 * MiB + 150_000 * (s + ms / 1000);
        return {
          kind: k === 0 && s % 5 === 0 ? 'mark-sweep-compact' : 'scavenge',
          startTime: t - 1000 + ms,
          duration: 1,
          after: { new_space: { used: MiB, committed: 16 * MiB }, old_space: { used: old, committed: old } },
          external: 5 * MiB,
        };
      });
      const old = 50 * MiB + 150_000 * s;
      policy.onTick({ records, memory: { time: t, rss: old + 80 * MiB, heapUsed: old, heapTotal: old + 10 * MiB, heapLimit: 512 * MiB, external: 5 * MiB, arrayBuffers: MiB }, container: undefined });
    }
    // The alert line is written at the verdict; evidence.ready once the evidence stage has run.
    expect(emitted.length).toBe(1);
    for (let i = 0; i < 100 && ready.length === 0; i++) await new Promise((r) => setTimeout(r, 50));
    await policy.stop();
    logger.close();
    const lines = fs.readFileSync(logFile, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    const leaks = lines.filter((l) => l.event === 'leak.detected');
    expect(leaks.length).toBe(1);
    expect(leaks[0]).toMatchObject({ memory: 'old_space', window: '1m', windowMs: 60_000, limitSource: 'heap' });
    // With snapshots and profiles off, the episode still leaves its series and manifest.
    const planned = leaks[0]?.evidence as { path: string }[];
    expect(planned.map((f) => path.basename(f.path)).sort()).toEqual(['manifest.json', 'series.json']);
    const evidence = (lines.find((l) => l.event === 'evidence.ready')?.files as { path: string }[]).map((f) => f.path);
    expect(evidence.map((f) => path.basename(f))).toEqual(['series.json']);
    expect(emitted.length).toBe(1);
    expect(emitted[0]?.episodeId).toBe(leaks[0]?.episodeId);

    const status = policy.status() as { detector: { series: Record<string, { state: string }> } };
    expect(status.detector.series.old_space?.state).toBe('leak');

    const series = JSON.parse(fs.readFileSync(evidence.find((f) => f.endsWith('series.json')) as string, 'utf8')) as {
      schema: string; samples: unknown[]; trend: { slopePerMs: number } | null; alerts: { kind: string }[];
    };
    expect(series.schema).toBe('leak-agent/series@1');
    expect(series.samples.length).toBeGreaterThan(5);
    expect(series.samples.length).toBeLessThanOrEqual(policy.history.recent().length);
    expect(series.trend?.slopePerMs).toBeCloseTo(150, -1);
    expect(series.alerts.map((a) => a.kind)).toContain('leak');
  });
});
