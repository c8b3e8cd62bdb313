import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parseKeyValues, readContainerMemory } from '../src/process/container';
import { createChildCgroup, type ChildCgroup } from './helpers/cgroup';
import { REPO, readLogLines } from './helpers/process';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'la-cgroup-fixture-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

/** Builds a fake /proc/self/cgroup + cgroup mount under a temp dir. */
function fixture(name: string, procSelf: string, files: Record<string, string>): { procSelfCgroup: string; cgroupRoot: string } {
  const root = path.join(tmp, name);
  for (const [rel, content] of Object.entries(files)) {
    const file = path.join(root, 'sys', rel);
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, content);
  }
  const procSelfCgroup = path.join(root, 'proc-self-cgroup');
  fs.writeFileSync(procSelfCgroup, procSelf);
  return { procSelfCgroup, cgroupRoot: path.join(root, 'sys') };
}

describe('cgroup v2 reader (fixture)', () => {
  it('reads limit, usage, OOM kills and limit hits', () => {
    const roots = fixture('v2', '0::/kubepods/pod1/ctr\n', {
      'kubepods/pod1/ctr/memory.max': '536870912\n',
      'kubepods/pod1/ctr/memory.current': '123456789\n',
      'kubepods/pod1/ctr/memory.events': 'low 0\nhigh 0\nmax 17\noom 3\noom_kill 2\noom_group_kill 0\n',
    });
    expect(readContainerMemory(roots)).toEqual({
      version: 2, path: path.join(roots.cgroupRoot, 'kubepods/pod1/ctr'), limit: 536870912, usage: 123456789, oomKills: 2, limitHits: 17,
    });
  });

  it('recognises "max" as no limit', () => {
    const roots = fixture('v2-nolimit', '0::/\n', {
      'memory.max': 'max\n', 'memory.current': '1000\n', 'memory.events': 'oom_kill 0\n',
    });
    expect(readContainerMemory(roots)).toMatchObject({ version: 2, limit: null, usage: 1000, oomKills: 0 });
  });

  it('takes the tightest limit of an ancestor when the own group has none', () => {
    const roots = fixture('v2-parent', '0::/pod/ctr\n', {
      'pod/memory.max': '1073741824\n', 'pod/memory.current': '5\n',
      'pod/ctr/memory.max': 'max\n', 'pod/ctr/memory.current': '4\n',
    });
    expect(readContainerMemory(roots)).toMatchObject({ limit: 1073741824, usage: 4, oomKills: null });
  });
});

describe('cgroup v1 reader (fixture)', () => {
  it('reads limit, usage, OOM kills from memory.oom_control and failcnt', () => {
    const roots = fixture('v1', '12:cpu,cpuacct:/x\n4:memory:/docker/abc\n0::/\n', {
      'memory/docker/abc/memory.limit_in_bytes': '268435456\n',
      'memory/docker/abc/memory.usage_in_bytes': '100000000\n',
      'memory/docker/abc/memory.oom_control': 'oom_kill_disable 0\nunder_oom 0\noom_kill 4\n',
      'memory/docker/abc/memory.failcnt': '9\n',
    });
    expect(readContainerMemory(roots)).toEqual({
      version: 1, path: path.join(roots.cgroupRoot, 'memory/docker/abc'), limit: 268435456, usage: 100000000, oomKills: 4, limitHits: 9,
    });
  });

  it('recognises the page-rounded maximum as no limit', () => {
    const roots = fixture('v1-nolimit', '4:memory:/\n', {
      'memory/memory.limit_in_bytes': '9223372036854771712\n', 'memory/memory.usage_in_bytes': '42\n',
    });
    expect(readContainerMemory(roots)).toMatchObject({ version: 1, limit: null, usage: 42, oomKills: null });
  });

  it('falls back to the mount root when the namespaced path is not visible (typical inside a container)', () => {
    const roots = fixture('v1-ns', '4:memory:/kubepods/burstable/pod9/abc\n', {
      'memory/memory.limit_in_bytes': '134217728\n', 'memory/memory.usage_in_bytes': '7\n',
    });
    expect(readContainerMemory(roots)).toMatchObject({ limit: 134217728, usage: 7 });
  });
});

describe('container reader robustness', () => {
  it('returns undefined, never throws, when nothing is readable', () => {
    expect(readContainerMemory({ procSelfCgroup: path.join(tmp, 'absent'), cgroupRoot: path.join(tmp, 'absent2') })).toBeUndefined();
    const roots = fixture('garbage', 'not a cgroup file\n', { 'memory.max': 'banana' });
    expect(readContainerMemory(roots)).toBeUndefined();
  });
  it('parses flat-keyed files', () => {
    expect(parseKeyValues('a 1\nb 22\n bad\nc x\n')).toEqual({ a: 1, b: 22 });
  });
});

describe('real child memory cgroup', () => {
  let cg: ChildCgroup | string = 'not created';
  afterAll(() => { if (typeof cg !== 'string') cg.remove(); });

  it('the agent reports the limit it runs under, and the OOM kills the cgroup has seen', (ctx) => {
    const limit = 96 * 1024 * 1024;
    cg = createChildCgroup('leak-agent-test', limit);
    if (typeof cg === 'string') {
      console.log(`skipped: ${cg}`);
      ctx.skip();
      return;
    }
    const logFile = path.join(tmp, 'real-cgroup.log');
    const ok = spawnSync('sh', ['-c', `${cg.enterPrefix} exec "${process.execPath}" -r "${REPO}" -e 'console.log(JSON.stringify(require("${REPO}").status()))'`], {
      env: { ...process.env, LEAK_AGENT_LOG: logFile, LEAK_AGENT_NATIVE: 'off' }, encoding: 'utf8', timeout: 60_000,
    });
    expect(ok.status).toBe(0);
    const started = readLogLines(logFile).find((l) => l.event === 'agent.started');
    expect(started?.container).toMatchObject({ cgroup: cg.version, limit, path: cg.dir });
    const before = readLogLines(logFile).filter((l) => l.event === 'container.oom_history').pop();
    expect(before?.oomKills).toBe(0);

    // A process that fills real pages past the limit is OOM-killed by the kernel...
    const hog = spawnSync('sh', ['-c', `${cg.enterPrefix} exec "${process.execPath}" -e 'const a=[]; for(;;) a.push(Buffer.alloc(8<<20, 1))'`], { encoding: 'utf8', timeout: 60_000 });
    expect(hog.signal).toBe('SIGKILL');
    expect(cg.oomKills()).toBeGreaterThanOrEqual(1);

    // ...and the next process the agent starts in that container says so at start.
    const logFile2 = path.join(tmp, 'real-cgroup-2.log');
    const after = spawnSync('sh', ['-c', `${cg.enterPrefix} exec "${process.execPath}" -r "${REPO}" -e '0'`], {
      env: { ...process.env, LEAK_AGENT_LOG: logFile2, LEAK_AGENT_NATIVE: 'off' }, encoding: 'utf8', timeout: 60_000,
    });
    expect(after.status).toBe(0);
    const history = readLogLines(logFile2).find((l) => l.event === 'container.oom_history');
    expect(history?.oomKills).toBeGreaterThanOrEqual(1);
    expect(String(history?.message)).toMatch(/OOM kill/);
  });
});
