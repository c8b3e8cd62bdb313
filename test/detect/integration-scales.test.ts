/**
 * Real child processes with the agent attached (`node -r <repo>`), in users' conditions rather than
 * the corpus' 128 MB heap and 60 s window:
 *  - the default 30 min window, a 256 MB heap and a ~1 MB/s leak (the heap is full in about four
 *    minutes): the leak is reported by a short scale, and the child exits on the alert, before its OOM;
 *  - this machine's default heap limit (no --max-old-space-size), a 30 s window and a ~300 KB/s leak
 *    in a process that allocates ~5 MB/s of garbage, like a service under traffic (a nearly idle one
 *    with a 4 GB heap scavenges so rarely that a 30 s window has too few post-GC readings to judge).
 * Both run at the same time to keep the test short (~2 min).
 */
import { execFileSync, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const repo = path.resolve(__dirname, '..', '..');
const fixture = path.join(__dirname, 'fixtures', 'workload.js');

interface ChildOutcome { code: number | null; signal: NodeJS.Signals | null; reason?: string; afterMs?: number; log: Record<string, unknown>[]; stderr: string }

function runChild(name: string, dir: string, flags: string[], env: Record<string, string>, durationS: number): Promise<ChildOutcome> {
  const logFile = path.join(dir, `${name}.log.jsonl`);
  return new Promise((resolve, reject) => {
    const base: NodeJS.ProcessEnv = { ...process.env };
    delete base.LEAK_AGENT_WINDOW;
    const child = spawn(process.execPath, [...flags, '-r', repo, fixture, 'leak', String(durationS)], {
      env: { ...base, AGENT_PATH: repo, LEAK_AGENT_LOG: logFile, LEAK_AGENT_SNAPSHOTS: 'off', LEAK_AGENT_DIR: dir, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (err += d));
    child.on('error', reject);
    child.on('exit', (code, signal) => {
      const last = out.trim() ? (JSON.parse(out.trim().split('\n').pop() as string) as { reason: string; afterMs: number }) : {};
      const log = fs.existsSync(logFile) ? fs.readFileSync(logFile, 'utf8').trim().split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, unknown>) : [];
      resolve({ code, signal, ...last, log, stderr: err.slice(-500) });
    });
  });
}

describe('leaks reported in users\' conditions', () => {
  let fast: ChildOutcome;
  let bigHeap: ChildOutcome;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'leak-agent-scales-'));
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  beforeAll(async () => {
    if (!fs.existsSync(path.join(repo, 'dist', 'index.js'))) execFileSync('npm', ['run', 'build'], { cwd: repo, stdio: 'ignore' });
    [fast, bigHeap] = await Promise.all([
      // No LEAK_AGENT_WINDOW: the default window.
      runChild('fast', dir, ['--max-old-space-size=256'], { LEAK_PER_TICK: '150' }, 400),
      runChild('big-heap', dir, [], { LEAK_PER_TICK: '45', GARBAGE_PER_TICK: '400', LEAK_AGENT_WINDOW: '30s' }, 120),
    ]);
  }, 480_000);

  it('default window, 256 MB heap, ~1 MB/s: leak.detected before the heap OOM', () => {
    expect(fast.stderr).not.toMatch(/heap out of memory/);
    expect(fast.code).toBe(0);
    expect(fast.reason).toBe('leak:old_space');
    const started = fast.log.find((l) => l.event === 'agent.started') as Record<string, unknown>;
    expect(started).toBeDefined();
    const lines = fast.log.filter((l) => l.event === 'leak.detected');
    expect(lines.length).toBe(1);
    const v = lines[0] as Record<string, unknown>;
    expect(v.memory).toBe('old_space');
    // Judged over a short scale of the 30 min window; the heap limit was still ahead.
    expect(v.windowMs as number).toBeLessThan(30 * 60_000);
    expect(v.limitSource).toBe('heap');
    expect(v.currentBytes as number).toBeLessThan(v.limitBytes as number);
    expect(v.growthBytesPerSec as number).toBeGreaterThan(300 * 1024);
  });

  it('default heap limit (~4 GB here), 30 s window, ~300 KB/s: leak.detected', () => {
    expect(bigHeap.reason).toBe('leak:old_space');
    const v = bigHeap.log.find((l) => l.event === 'leak.detected') as Record<string, unknown>;
    expect(v).toBeDefined();
    expect(v.windowMs).toBe(30_000);
    expect(v.limitBytes as number).toBeGreaterThan(1024 * 1024 * 1024);
    expect(v.growthBytesPerSec as number).toBeGreaterThan(100 * 1024);
  });
});
