import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createChildCgroup, type ChildCgroup } from '../helpers/cgroup';
import { REPO, readLogLines } from '../helpers/process';
import { OtlpReceiver } from '../helpers/otlp-receiver';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'la-pressure-cgroup-'));
let cg: ChildCgroup | string | undefined;
const groups: ChildCgroup[] = [];
afterAll(() => {
  if (cg && typeof cg !== 'string') cg.remove();
  for (const g of groups) g.remove();
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

  it('with LEAK_AGENT_MITIGATE=exit it exits 75 before the kernel acts, agent.mitigated last, and its flushed telemetry arrives', async (ctx) => {
    const group = createChildCgroup('leak-agent-mitigate', LIMIT);
    if (typeof group === 'string') {
      console.log(`skipped: ${group}`);
      ctx.skip();
      return;
    }
    groups.push(group);
    const receiver = new OtlpReceiver();
    await receiver.start();
    try {
      const logFile = path.join(tmp, 'agent-mitigate.log');
      const env: NodeJS.ProcessEnv = {};
      for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('LEAK_AGENT_') && !k.startsWith('NODE_') && !k.startsWith('OTEL_')) env[k] = v;
      Object.assign(env, {
        LEAK_AGENT_LOG: logFile, LEAK_AGENT_DIR: path.join(tmp, 'evidence-mitigate'), LEAK_AGENT_NATIVE: 'off', AGENT_PATH: REPO,
        LEAK_AGENT_MITIGATE: 'exit', LEAK_AGENT_MITIGATE_AFTER: '1s', LEAK_AGENT_MITIGATE_DEADLINE: '10s',
        OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url, OTEL_EXPORTER_OTLP_PROTOCOL: 'http/protobuf',
        // No periodic export during the run: metrics that arrive came from the flush at exit.
        OTEL_METRIC_EXPORT_INTERVAL: '600000',
      });
      const child = spawn('sh', ['-c', `${group.enterPrefix} exec "${process.execPath}" "${FIXTURE}"`], { env });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (d: Buffer) => { stdout += d.toString(); });
      child.stderr.on('data', (d: Buffer) => { stderr += d.toString(); });
      const exit = await new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
        const timer = setTimeout(() => child.kill('SIGKILL'), 240_000);
        child.on('close', (code, signal) => {
          clearTimeout(timer);
          resolve({ code, signal });
        });
      });
      expect(exit, stdout + stderr).toEqual({ code: 75, signal: null });
      expect(group.oomKills()).toBe(0);
      const lines = stdout.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as Record<string, unknown>);
      const mitigated = lines.find((l) => l.mitigate === 'exit');
      expect(mitigated, stdout).toBeDefined();
      console.log(`mitigated at ${(100 * (mitigated?.usage as number) / LIMIT).toFixed(1)}% of the ${LIMIT / 1_048_576} MiB limit`);
      const log = readLogLines(logFile);
      expect(log[log.length - 1]).toMatchObject({ event: 'agent.mitigated', action: 'exit', exitCode: 75 });
      const records = receiver.logs.filter((l) => l.attributes['event.name'] === 'memory.pressure');
      expect(records.map((r) => r.attributes['leak_agent.pressure.signal'])).toEqual(expect.arrayContaining(['container', 'critical']));
      const active = receiver.named('leak_agent.pressure.active');
      expect(active.length).toBeGreaterThan(0);
    } finally {
      await receiver.stop();
    }
  }, 300_000);
});
