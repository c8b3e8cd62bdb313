/**
 * Real child processes with the agent attached (`node -r <repo>`, 30 s window, 64 MB
 * old space): one leaks, one does not. Both run at the same time to keep the test short.
 */
import { execFileSync, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const repo = path.resolve(__dirname, '..', '..');
const fixture = path.join(__dirname, 'fixtures', 'workload.js');

interface ChildOutcome { reason: string; status: Record<string, unknown>; log: Record<string, unknown>[] }

function runChild(mode: 'leak' | 'steady', dir: string, durationS: number): Promise<ChildOutcome> {
  const logFile = path.join(dir, `${mode}.log.jsonl`);
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--max-old-space-size=64', '-r', repo, fixture, mode, String(durationS)], {
      env: { ...process.env, AGENT_PATH: repo, LEAK_AGENT_WINDOW: '30s', LEAK_AGENT_LOG: logFile, LEAK_AGENT_SNAPSHOTS: 'off', LEAK_AGENT_DIR: dir },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (err += d));
    child.on('error', reject);
    child.on('exit', (code) => {
      if (code !== 0) return reject(new Error(`${mode} child exited ${code}: ${err}`));
      const last = JSON.parse(out.trim().split('\n').pop() as string) as { reason: string; status: Record<string, unknown> };
      const log = fs.readFileSync(logFile, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
      resolve({ ...last, log });
    });
  });
}

describe('leak detection in real processes', () => {
  let leak: ChildOutcome;
  let steady: ChildOutcome;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'leak-agent-detect-'));
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  beforeAll(async () => {
    if (!fs.existsSync(path.join(repo, 'dist', 'index.js'))) execFileSync('npm', ['run', 'build'], { cwd: repo, stdio: 'ignore' });
    // The leaking child stops at its verdict; 100 s leaves room for a loaded machine, where its
    // 50 ms ticks lag and it retains less per second than it would alone.
    [leak, steady] = await Promise.all([runChild('leak', dir, 100), runChild('steady', dir, 45)]);
  }, 150_000);

  it('the leaking process gets one leak.detected line with the contract fields', () => {
    expect(leak.reason).toBe('leak:old_space');
    const lines = leak.log.filter((l) => l.event === 'leak.detected');
    expect(lines.length).toBe(1);
    const v = lines[0] as Record<string, unknown>;
    expect(v.memory).toBe('old_space');
    expect(typeof v.time).toBe('string');
    expect(v.growthBytesPerSec as number).toBeGreaterThan(0);
    expect(v.growthLowerBytesPerSec as number).toBeLessThanOrEqual(v.growthBytesPerSec as number);
    expect(v.growthUpperBytesPerSec as number).toBeGreaterThanOrEqual(v.growthBytesPerSec as number);
    expect(v.pValue as number).toBeLessThan(0.05);
    expect(v.window).toBe('30s');
    expect(v.windowMs).toBe(30_000);
    expect(v.currentBytes as number).toBeGreaterThan(0);
    expect(v.limitBytes as number).toBeGreaterThan(v.currentBytes as number);
    expect(['heap', 'container']).toContain(v.limitSource);
    expect(v.timeToLimitSec as number).toBeGreaterThan(0);
    // Snapshots are off here; the alert plans the allocation profile (or starts it), the series and
    // the manifest in its episode directory, and evidence.ready lists what was written.
    const planned = (v.evidence as { path: string }[]).map((f) => f.path);
    expect(planned.some((f) => f.endsWith('manifest.json'))).toBe(true);
    expect(planned.some((f) => f.endsWith('series.json'))).toBe(true);
    for (const f of planned) expect(path.dirname(f)).toBe(v.episodeDir);
    const ready = leak.log.find((l) => l.event === 'evidence.ready');
    const written = ((ready?.files ?? []) as { path: string }[]).map((f) => f.path);
    expect(written.some((f) => f.endsWith('series.json'))).toBe(true);
    for (const f of written) expect(fs.existsSync(f)).toBe(true);
    const status = leak.status as { detector: { series: Record<string, { state: string }> } };
    expect(status.detector.series.old_space?.state).toBe('leak');
  });

  it('the steady process raises no leak and reports its detector state', () => {
    expect(steady.reason).toBe('timeout');
    expect(steady.log.filter((l) => l.event === 'leak.detected')).toEqual([]);
    const status = steady.status as { detector: { sensitivity: string; series: Record<string, { state: string; points: number }> } };
    expect(status.detector.sensitivity).toBe('normal');
    for (const name of ['old_space', 'external', 'native']) {
      expect(status.detector.series[name]?.state).not.toBe('leak');
      expect(status.detector.series[name]?.points).toBeGreaterThan(0);
    }
  });
});
