import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createChildCgroup, type ChildCgroup } from '../helpers/cgroup';
import { REPO, readLogLines } from '../helpers/process';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'la-pressure-cgroup-'));
let cg: ChildCgroup | string | undefined;
afterAll(() => {
  if (cg && typeof cg !== 'string') cg.remove();
  fs.rmSync(tmp, { recursive: true, force: true });
});

const LIMIT = 160 * 1_048_576;
const FIXTURE = path.join(REPO, 'test', 'fixtures', 'pressure', 'leak-to-limit.js');

describe('memory pressure in a real memory cgroup', () => {
  it('a process leaking towards its container limit turns degraded, then critical, before the kernel OOM-kills it', async (ctx) => {
    cg = createChildCgroup('leak-agent-pressure', LIMIT);
    if (typeof cg === 'string') {
      console.log(`skipped: ${cg}`);
      ctx.skip();
      return;
    }
    const group = cg;
    const logFile = path.join(tmp, 'agent.log');
    const env: NodeJS.ProcessEnv = {};
    for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('LEAK_AGENT_') && !k.startsWith('NODE_') && !k.startsWith('OTEL_')) env[k] = v;
    Object.assign(env, { LEAK_AGENT_LOG: logFile, LEAK_AGENT_DIR: path.join(tmp, 'evidence'), LEAK_AGENT_NATIVE: 'off', AGENT_PATH: REPO });
    const child = spawn('sh', ['-c', `${group.enterPrefix} exec "${process.execPath}" "${FIXTURE}"`], { env });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => { stdout += d.toString(); });
    child.stderr.on('data', (d: Buffer) => { stderr += d.toString(); });
    const exit = await new Promise<{ code: number | null; signal: NodeJS.Signals | null; at: number }>((resolve) => {
      const timer = setTimeout(() => child.kill('SIGKILL'), 240_000);
      child.on('close', (code, signal) => {
        clearTimeout(timer);
        resolve({ code, signal, at: Date.now() });
      });
    });
    const lines = stdout.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines.find((l) => 'error' in l), stdout + stderr).toBeUndefined();
    // The kernel ended it, not the test's timer.
    expect(exit.signal, stdout + stderr).toBe('SIGKILL');
    expect(group.oomKills()).toBeGreaterThanOrEqual(1);

    // Other signals may come and go on the way (a full-GC rate under external memory pressure); the container's is the one that must hold.
    const degraded = lines.find((l) => l.status === 'degraded' && (l.reasons as string[]).some((r) => r.startsWith('container memory')));
    const critical = lines.find((l) => l.status === 'critical');
    expect(degraded, stdout).toBeDefined();
    expect(critical, stdout).toBeDefined();
    const degradedAt = degraded?.t as number;
    const criticalAt = critical?.t as number;
    expect(degradedAt).toBeLessThan(criticalAt);
    expect(criticalAt).toBeLessThan(exit.at);
    console.log(`degraded ${((exit.at - degradedAt) / 1000).toFixed(1)} s and critical ${((exit.at - criticalAt) / 1000).toFixed(1)} s before the OOM kill (limit ${LIMIT / 1_048_576} MiB, ~0.5 MB/s at the end)`);

    // The log says the same, once per crossing, with the figures; the line reached the file before the kill.
    const log = readLogLines(logFile);
    const container = log.filter((l) => l.event === 'memory.pressure' && l.signal === 'container');
    expect(container).toHaveLength(1);
    expect(container[0]).toMatchObject({ threshold: 0.9, status: 'degraded' });
    expect(container[0]?.containerUse).toBeGreaterThanOrEqual(0.9);
    const crit = log.filter((l) => l.event === 'memory.pressure' && l.signal === 'critical');
    expect(crit).toHaveLength(1);
    expect(crit[0]?.status).toBe('critical');
    expect(crit[0]?.containerUse).toBeGreaterThanOrEqual(0.97);
    expect(log.filter((l) => l.event === 'memory.pressure.cleared' && (l.signal === 'container' || l.signal === 'critical'))).toEqual([]);
  }, 300_000);
});
