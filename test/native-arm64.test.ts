/**
 * The linux-arm64 prebuilds (cross-compiled with g++-aarch64-linux-gnu, see scripts/build-native.js)
 * in the real arm64 Node 20, 22, 24 and 26 from npm, run under qemu-user: the agent picks the
 * prebuild for that ABI, the native sampler drives a real leak verdict, and the near-OOM capture
 * leaves its profile. Skipped with the reason printed where qemu or the arm64 builds are absent;
 * CI (LEAK_AGENT_REQUIRE_ARM64=1) fails instead.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { arm64Nodes, childEnv, FIXTURES, ROOT, runUntil } from './native-helpers';

const { nodes, missing } = arm64Nodes();
if (missing && process.env.LEAK_AGENT_REQUIRE_ARM64 === '1') throw new Error(`linux-arm64 tests required but cannot run: ${missing}`);
if (missing) console.log(`[native-arm64] skipping: ${missing}`);

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'leak-agent-arm64-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

/** Emulation is ~5-10x slower than native; the verdict itself comes after ~1.5 windows. */
const LEAK_RUN_MS = 150_000;

describe.skipIf(missing !== null)('linux-arm64 prebuilds under qemu-user', () => {
  for (const node of nodes) {
    it(`${node.label}: the native sampler is used and a leak is detected`, async () => {
      const dir = path.join(tmp, `leak-${node.abi}`);
      const run = await runUntil(
        [...node.run, '--max-old-space-size=128', '--expose-gc', '-r', path.join(ROOT, 'dist', 'index.js'), path.join(FIXTURES, 'steady-leak.js')],
        childEnv({ LEAK_AGENT_DIR: dir, LEAK_AGENT_WINDOW: '10s', LEAK_AGENT_SNAPSHOTS: 'off', STEADY_LEAK_MAX_MS: String(LEAK_RUN_MS) }),
        (l) => l.event === 'leak.detected',
        LEAK_RUN_MS + 20_000,
      );
      const started = run.lines.find((l) => l.event === 'agent.started');
      expect(started, run.stderr).toMatchObject({
        sampler: 'native',
        samplerReason: `native addon loaded from ${path.join(ROOT, 'prebuilds', 'linux-arm64', `leak-agent.abi${node.abi}.node`)}`,
        nearOom: { state: 'armed' },
      });
      const leak = run.lines.find((l) => l.event === 'leak.detected');
      expect(leak, `no leak.detected; events: ${run.lines.map((l) => l.event).join(', ')}`).toMatchObject({ memory: 'old_space' });
      expect(Number(leak?.growthBytesPerSec)).toBeGreaterThan(100_000);
      expect(run.lines.filter((l) => l.event === 'agent.error')).toEqual([]);
      console.log(`[native-arm64] ${node.label}: leak.detected ${((run.stoppedAfterMs ?? 0) / 1000).toFixed(1)} s after spawn`);
    }, LEAK_RUN_MS + 30_000);
  }

  it('Node 26 linux-arm64: a heap OOM leaves the near-OOM profile naming the leak', async () => {
    const node = nodes[nodes.length - 1];
    if (!node) throw new Error('no arm64 Node');
    const dir = path.join(tmp, 'oom');
    const r = await runUntil([...node.run, '--max-old-space-size=48', path.join(FIXTURES, 'oom-leak.js')], childEnv({ LEAK_AGENT_DIR: dir }), () => false, 180_000);
    // V8 aborts the process; qemu reports the guest's SIGABRT as its own.
    expect(r.code === 134 || r.signal === 'SIGABRT', r.stderr.slice(-2000)).toBe(true);
    const started = r.lines.find((l) => l.event === 'agent.started') as unknown as { nearOom: { state: string; path: string } };
    expect(started.nearOom.state).toBe('armed');
    expect(fs.readdirSync(dir)).toEqual([path.basename(started.nearOom.path)]);
    const profile = JSON.parse(fs.readFileSync(started.nearOom.path, 'utf8')) as { head: unknown; samples: unknown[] };
    expect(profile.samples.length).toBeGreaterThan(10);
    expect(JSON.stringify(profile.head)).toContain('leakyAllocator');
  }, 200_000);
});
