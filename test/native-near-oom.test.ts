/**
 * Near-OOM capture against real heap OOMs: a child with a small --max-old-space-size leaks until V8
 * kills it; the agent's near-heap-limit callback must have left a parseable .heapprofile that names
 * the leaking function — on Node 20, 22, 24 and 26 (Node's own --heapsnapshot-near-heap-limit is
 * reported broken since 22.14).
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { SamplingHeapProfile, SamplingHeapProfileNode } from '../src/native/addon';
import { childEnv, FIXTURES, logLines, nodeBinaries, runNode } from './native-helpers';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'leak-agent-oom-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

function runLeak(bin: string, dir: string, env: Record<string, string> = {}) {
  return runNode(bin, ['--max-old-space-size=48', path.join(FIXTURES, 'oom-leak.js')], childEnv({ LEAK_AGENT_DIR: dir, ...env }));
}

function selfSizeOf(node: SamplingHeapProfileNode, name: string): number {
  let sum = node.callFrame.functionName === name ? node.selfSize : 0;
  for (const c of node.children) sum += selfSizeOf(c, name);
  return sum;
}

for (const node of nodeBinaries()) {
  describe(`near-OOM capture on ${node.label}`, () => {
    it('a process driven into heap OOM leaves a parseable .heapprofile naming the leak before it dies', () => {
      const dir = path.join(tmp, path.basename(node.bin) + node.label.replace(/\W+/g, '-'));
      const r = runLeak(node.bin, dir);
      // It really died of the heap OOM (V8 aborts the process).
      expect(r.status === 134 || r.signal === 'SIGABRT').toBe(true);
      expect(r.stderr).toMatch(/heap out of memory|Reached heap limit|Ineffective mark-compacts/);
      const started = logLines(r.stderr).find((l) => l.event === 'agent.started') as { nearOom: { state: string; path: string } };
      expect(started.nearOom.state).toBe('armed');

      const files = fs.readdirSync(dir);
      // Exactly the final file: no temporary left behind.
      expect(files).toEqual([path.basename(started.nearOom.path)]);
      const file = path.join(dir, files[0] as string);
      expect(fs.statSync(file).mode & 0o777).toBe(0o600);
      const profile = JSON.parse(fs.readFileSync(file, 'utf8')) as SamplingHeapProfile;
      expect(profile.head.callFrame.functionName).toBe('(root)');
      expect(profile.samples.length).toBeGreaterThan(10);
      // The leak dominates the live sampled allocations (its own objects, plus the strings it builds).
      expect(selfSizeOf(profile.head, 'leakyAllocator')).toBeGreaterThan(5 * 1024 * 1024);
    });
  });
}

for (const node of nodeBinaries()) {
  describe(`near-OOM capture in a worker thread on ${node.label}`, () => {
    it("writes the worker's profile, then lets Node terminate just the worker; the process lives on", () => {
      const dir = path.join(tmp, 'worker' + node.label.replace(/\W+/g, '-'));
      const r = runNode(node.bin, [path.join(FIXTURES, 'worker-oom.js')], childEnv({ LEAK_AGENT_DIR: dir }));
      expect(r.status).toBe(0);
      const out = JSON.parse(r.stdout.trim().split('\n').pop() as string) as { workerExit: number; error: string; mainAlive: boolean };
      expect(out).toEqual({ workerExit: 1, error: 'ERR_WORKER_OUT_OF_MEMORY', mainAlive: true });
      const files = fs.readdirSync(dir);
      expect(files).toHaveLength(1);
      expect(files[0]).toMatch(/^near-oom-.*-t\d+\.heapprofile$/);
      const profile = JSON.parse(fs.readFileSync(path.join(dir, files[0] as string), 'utf8')) as SamplingHeapProfile;
      expect(selfSizeOf(profile.head, 'workerLeak')).toBeGreaterThan(1024 * 1024);
    });
  });
}

describe('near-OOM capture switched off', () => {
  it('LEAK_AGENT_NEAR_OOM=off arms nothing and leaves no file', () => {
    const dir = path.join(tmp, 'off');
    const r = runLeak(process.execPath, dir, { LEAK_AGENT_NEAR_OOM: 'off' });
    expect(r.status === 134 || r.signal === 'SIGABRT').toBe(true);
    const started = logLines(r.stderr).find((l) => l.event === 'agent.started') as { nearOom: { state: string } };
    expect(started.nearOom.state).toBe('off');
    expect(fs.existsSync(dir) ? fs.readdirSync(dir) : []).toEqual([]);
  });

  it('a bad LEAK_AGENT_NEAR_OOM value gets one clear line and the default (on)', () => {
    const dir = path.join(tmp, 'bad');
    const r = runNode(process.execPath, ['-e', `require(${JSON.stringify(path.resolve(FIXTURES, '..', '..', '..'))})`], childEnv({ LEAK_AGENT_DIR: dir, LEAK_AGENT_NEAR_OOM: 'sometimes' }));
    expect(r.status).toBe(0);
    const lines = logLines(r.stderr);
    const errors = lines.filter((l) => l.event === 'agent.error' && l.variable === 'LEAK_AGENT_NEAR_OOM');
    expect(errors).toHaveLength(1);
    expect(errors[0]?.message).toMatch(/LEAK_AGENT_NEAR_OOM="sometimes" is not valid: expected one of on, true, 1, yes, off/);
    expect(lines.find((l) => l.event === 'agent.started')).toMatchObject({ nearOom: { state: 'armed' } });
  });
});

for (const node of nodeBinaries()) {
  describe(`near-OOM capture in a process that survives the burst on ${node.label}`, () => {
    it('writes the profile from the interrupt and leaves no V8 handle behind', () => {
      const dir = path.join(tmp, 'burst' + node.label.replace(/\W+/g, '-'));
      const r = runNode(node.bin, ['--max-old-space-size=48', path.join(FIXTURES, 'near-limit-burst.js')], childEnv({ LEAK_AGENT_DIR: dir }));
      expect(r.status, r.stderr.slice(-2000)).toBe(0);
      const s = JSON.parse(r.stdout.trim().split('\n').pop() as string) as { fired: boolean; error: string | null; path: string; handlesLeft: number };
      expect(s).toMatchObject({ fired: true, error: null });
      // Handles made while writing (function and script names) belong to a HandleScope of the
      // write's own, not to whatever scope V8 happened to have open when the interrupt ran.
      expect(s.handlesLeft).toBe(0);
      const profile = JSON.parse(fs.readFileSync(s.path, 'utf8')) as SamplingHeapProfile;
      expect(selfSizeOf(profile.head, 'burst')).toBeGreaterThan(1024 * 1024);
    });
  });
}
