/**
 * The snapshot gate and writer against real limits: a real memory cgroup (v1 here) whose limit
 * cannot hold a snapshot, the same cgroup with room, a disk too small for the file, a disk that
 * fills up mid-write (ENOSPC), a read-only directory, and a file deleted while it is written. In
 * every case: no partial artifact, no crash, and the reason in the log.
 *
 * Cgroup and mount cases need root; they are skipped with the reason printed otherwise.
 */
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureBuilt, listFiles, runChild, type ChildRun } from './helpers/evidence-child';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'evidence-limits-'));
const mounts: string[] = [];
beforeAll(() => ensureBuilt());
afterAll(() => {
  for (const m of mounts.reverse()) {
    try {
      execFileSync('umount', [m]);
    } catch {
      /* already unmounted */
    }
  }
  fs.rmSync(tmp, { recursive: true, force: true });
});

const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;

/** This process's own v1 memory cgroup directory, if we may create children under it. */
function ownMemoryCgroup(): { dir?: string; why?: string } {
  if (!isRoot) return { why: 'not root: cannot create a memory cgroup' };
  let text: string;
  try {
    text = fs.readFileSync('/proc/self/cgroup', 'utf8');
  } catch (err) {
    return { why: `cannot read /proc/self/cgroup: ${(err as Error).message}` };
  }
  const line = text.split('\n').find((l) => /^\d+:([^:]*,)?memory(,[^:]*)?:/.test(l));
  if (!line) return { why: 'no cgroup v1 memory controller in /proc/self/cgroup (cgroup v2 host)' };
  const dir = path.join('/sys/fs/cgroup/memory', line.split(':')[2] as string);
  if (!fs.existsSync(path.join(dir, 'memory.limit_in_bytes'))) return { why: `${dir} has no memory.limit_in_bytes` };
  return { dir };
}
const cgroup = ownMemoryCgroup();
if (!cgroup.dir) console.log(`[evidence-limits] skipping cgroup tests: ${cgroup.why}`);
if (!isRoot) console.log('[evidence-limits] skipping mount tests (tmpfs ENOSPC, read-only): not root');

let cgroupCount = 0;
/** Runs `fn` with a fresh child memory cgroup limited to `limitBytes`; removes it afterwards. */
async function withCgroup<T>(limitBytes: number, fn: (cg: string) => Promise<T>): Promise<T> {
  const cg = path.join(cgroup.dir as string, `leak-agent-evidence-${process.pid}-${cgroupCount++}`);
  fs.mkdirSync(cg);
  try {
    fs.writeFileSync(path.join(cg, 'memory.limit_in_bytes'), String(limitBytes));
    return await fn(cg);
  } finally {
    for (let i = 0; i < 50; i++) {
      try {
        fs.rmdirSync(cg);
        break;
      } catch {
        await new Promise((r) => setTimeout(r, 100)); // the killed child may still be leaving
      }
    }
  }
}
const enter = (cg: string): string[] => ['sh', '-c', `echo $$ > ${path.join(cg, 'cgroup.procs')} && exec "$0" "$@"`];
const oomKills = (cg: string): number => Number(/oom_kill (\d+)/.exec(fs.readFileSync(path.join(cg, 'memory.oom_control'), 'utf8'))?.[1] ?? 0);

function mountTmpfs(dir: string, options: string): void {
  fs.mkdirSync(dir, { recursive: true });
  execFileSync('mount', ['-t', 'tmpfs', '-o', options, 'tmpfs', dir]);
  mounts.push(dir);
}

/** Polls `dir` every 2 ms while `run` is going; calls `act` once on the first snapshot temp file. */
async function raceTempFile(dir: string, act: (tmpFile: string) => boolean, run: () => Promise<ChildRun>): Promise<{ run: ChildRun; acted: boolean }> {
  let acted = false;
  const timer = setInterval(() => {
    if (acted) return;
    const found = listFiles(dir).find((f) => /\.heap-1\.heapsnapshot\..*\.tmp$/.test(f));
    if (found) acted = act(path.join(dir, found));
  }, 2);
  try {
    return { run: await run(), acted };
  } finally {
    clearInterval(timer);
  }
}

describe.skipIf(!cgroup.dir)('a real memory cgroup', () => {
  const LIMIT_SMALL = 200 * 2 ** 20;

  it('a limit that cannot hold the snapshot: ungated, the snapshot is OOM-killed (so the limit is real)', async () => {
    const script = path.join(tmp, 'ungated.js');
    fs.writeFileSync(script, `const keep = []; while (process.memoryUsage().heapUsed < 22 * 2 ** 20) keep.push({ a: keep.length, b: [1, 2] });
console.log(JSON.stringify({ step: 'before', rss: process.memoryUsage().rss }));
require('node:v8').writeHeapSnapshot(${JSON.stringify(path.join(tmp, 'ungated.heapsnapshot'))});
console.log(JSON.stringify({ step: 'survived', kept: keep.length })); // keep must stay live through the snapshot\n`);
    await withCgroup(LIMIT_SMALL, async (cg) => {
      const run = await runChild({ script, wrap: enter(cg), env: {} });
      expect(run.step('before')).toBeDefined();
      expect(run.step('survived')).toBeUndefined();
      expect(run.signal).toBe('SIGKILL');
      expect(oomKills(cg)).toBeGreaterThanOrEqual(1);
    });
  });

  it('the same limit: the gate refuses with the container figures, and the process is not OOM-killed', async () => {
    const dir = path.join(tmp, 'cg-small');
    await withCgroup(LIMIT_SMALL, async (cg) => {
      const run = await runChild({ wrap: enter(cg), env: { LEAK_AGENT_DIR: dir, CHILD_HEAP_MB: '20', CHILD_ON_DEMAND: 'in a small container' } });
      expect(run.code).toBe(0);
      expect(run.step('done')).toBeDefined();
      expect(oomKills(cg)).toBe(0);
      const skipped = run.events('snapshot.skipped');
      expect(skipped.map((l) => l.check)).toEqual(['container-memory', 'container-memory']);
      expect(skipped[0]).toMatchObject({ containerLimit: LIMIT_SMALL, reason: expect.stringMatching(/^container headroom .* cannot hold the snapshot's estimated extra RSS/) });
      expect(skipped[0]?.needMemory as number).toBeGreaterThan(skipped[0]?.headroom as number);
      expect(run.events('snapshot.written')).toEqual([]);
      expect(listFiles(dir).filter((f) => f.includes('heapsnapshot'))).toEqual([]);
      // The cheap evidence is still there.
      expect(run.events('profile.written')).toHaveLength(1);
    });
  });

  it('with room: the snapshot is written and the process survives', async () => {
    const dir = path.join(tmp, 'cg-room');
    await withCgroup(1024 * 2 ** 20, async (cg) => {
      const run = await runChild({ wrap: enter(cg), env: { LEAK_AGENT_DIR: dir, CHILD_HEAP_MB: '20' } });
      expect(run.code).toBe(0);
      expect(run.step('done')).toBeDefined();
      expect(oomKills(cg)).toBe(0);
      const [written] = run.events('snapshot.written');
      expect(written?.bytes).toBe(fs.statSync(written?.path as string).size);
      expect(run.events('snapshot.skipped')).toEqual([]);
    });
  });
});

describe.skipIf(!isRoot)('disk limits (tmpfs mounts)', () => {
  it('a disk too small for the estimated file: the gate refuses with the disk figures', async () => {
    const mnt = path.join(tmp, 'small-disk');
    mountTmpfs(mnt, 'size=48m,mode=0700');
    const run = await runChild({ env: { LEAK_AGENT_DIR: path.join(mnt, 'evidence'), CHILD_HEAP_MB: '8' } });
    expect(run.code).toBe(0);
    const [skipped] = run.events('snapshot.skipped');
    expect(skipped).toMatchObject({ check: 'disk-space', reason: expect.stringMatching(/^free disk .* cannot hold the estimated file/) });
    expect(skipped?.diskFree as number).toBeLessThanOrEqual(48 * 2 ** 20);
    expect(listFiles(mnt).filter((f) => f.includes('heapsnapshot'))).toEqual([]);
  });

  it('the disk fills up while the snapshot is written (ENOSPC): no partial file, no crash', async () => {
    const mnt = path.join(tmp, 'filling-disk');
    mountTmpfs(mnt, 'size=160m,mode=0700');
    const dir = path.join(mnt, 'evidence');
    const { run, acted } = await raceTempFile(dir, () => {
      // Someone else takes all the space left, the moment the snapshot starts.
      const st = fs.statfsSync(mnt);
      execFileSync('fallocate', ['-l', String(st.bavail * st.bsize), path.join(mnt, 'filler')]);
      return true;
    }, () => runChild({ env: { LEAK_AGENT_DIR: dir, CHILD_HEAP_MB: '8' } }));
    expect(acted).toBe(true);
    expect(run.code).toBe(0);
    expect(run.step('done')).toBeDefined();
    const [skipped] = run.events('snapshot.skipped');
    expect(skipped).toMatchObject({ check: 'write', reason: expect.stringMatching(/ENOSPC.*no partial file was left/) });
    const files = listFiles(dir);
    expect(files.filter((f) => f.endsWith('.tmp') || f.includes('heapsnapshot'))).toEqual([]);
    // The alert still goes out; evidence.ready names only files that exist in full, and the snapshot as skipped.
    expect(run.events('leak.detected')).toHaveLength(1);
    const [ready] = run.events('evidence.ready');
    for (const f of ready?.files as { path: string }[]) expect(fs.existsSync(f.path)).toBe(true);
    expect(ready?.skipped).toMatchObject([{ kind: 'heapsnapshot', check: 'write', reason: expect.stringMatching(/ENOSPC/) }]);
    const manifest = files.find((f) => f.endsWith('manifest.json'));
    if (manifest) JSON.parse(fs.readFileSync(path.join(dir, manifest), 'utf8'));
  });

  it('a read-only directory: nothing written, no crash, the reason logged', async () => {
    const mnt = path.join(tmp, 'read-only');
    mountTmpfs(mnt, 'size=1m,ro');
    // LEAK_AGENT_DIR itself exists and is read-only (a read-only volume mount).
    const run = await runChild({ env: { LEAK_AGENT_DIR: mnt, CHILD_HEAP_MB: '4', CHILD_ON_DEMAND: 'ro' } });
    expect(run.code).toBe(0);
    expect(run.step('done')).toBeDefined();
    expect(run.events('agent.error').find((l) => l.where === 'episode')?.message).toMatch(/EROFS/);
    // The alert goes out all the same; evidence.ready says nothing could be written, and why.
    expect(run.events('leak.detected')).toHaveLength(1);
    const [ready] = run.events('evidence.ready');
    expect(ready?.files).toEqual([]);
    expect((ready?.skipped as { check: string; reason: string }[]).every((s) => s.check === 'directory' && /EROFS/.test(s.reason))).toBe(true);
    const [skipped] = run.events('snapshot.skipped');
    expect(skipped).toMatchObject({ check: 'directory', reason: expect.stringMatching(/cannot create the evidence directory .*EROFS/) });
    expect(listFiles(mnt)).toEqual([]);
  });
});

describe('a file that vanishes mid-write', () => {
  it('the temporary snapshot is deleted while being written: no artifact, no crash, the reason logged', async () => {
    const dir = path.join(tmp, 'vanish');
    const { run, acted } = await raceTempFile(dir, (file) => {
      try {
        fs.unlinkSync(file);
        return true;
      } catch {
        return false; // renamed meanwhile: try again on the next poll (there is none; the test then fails loudly)
      }
    }, () => runChild({ env: { LEAK_AGENT_DIR: dir, CHILD_HEAP_MB: '8' } }));
    expect(acted).toBe(true);
    expect(run.code).toBe(0);
    expect(run.step('done')).toBeDefined();
    const [skipped] = run.events('snapshot.skipped');
    expect(skipped).toMatchObject({ check: 'write', reason: expect.stringMatching(/ENOENT/) });
    expect(listFiles(dir).filter((f) => f.endsWith('.tmp') || f.includes('heapsnapshot'))).toEqual([]);
    expect(run.events('agent.error')).toEqual([]);
  });
});
