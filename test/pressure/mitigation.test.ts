import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { MITIGATION_EXIT_CODE, decideMitigation, type MitigationConfig } from '../../src/pressure/mitigation';
import { readConfig } from '../../src/config/env';
import { REPO, readLogLines } from '../helpers/process';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'la-mitigation-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

const FIXTURE = path.join(REPO, 'test', 'fixtures', 'pressure', 'mitigated-server.js');
const config: MitigationConfig = { mode: 'exit', deadlineMs: 30_000, minIntervalMs: 3_600_000, startupGraceMs: 120_000 };

describe('decideMitigation', () => {
  it('never acts when off, during start-up, twice, or within the interval of the last one', () => {
    const base = { config, now: 10_000_000, uptimeMs: 600_000, lastAt: undefined, alreadyStarted: false };
    expect(decideMitigation(base)).toEqual({ act: true });
    expect(decideMitigation({ ...base, config: { ...config, mode: 'off' } })).toMatchObject({ act: false, reason: 'LEAK_AGENT_MITIGATE is off' });
    expect(decideMitigation({ ...base, uptimeMs: 30_000 })).toMatchObject({ act: false, reason: expect.stringMatching(/start-up is never mitigated/) });
    expect(decideMitigation({ ...base, alreadyStarted: true })).toMatchObject({ act: false });
    expect(decideMitigation({ ...base, lastAt: base.now - 600_000 })).toMatchObject({ act: false, reason: expect.stringMatching(/last mitigation was 600 s ago/) });
    expect(decideMitigation({ ...base, lastAt: base.now - 4_000_000 })).toEqual({ act: true });
  });

  it('is off by default; bad values are one problem each and the default', () => {
    expect(readConfig({}).config.pressure.mitigation).toEqual({ mode: 'off', deadlineMs: 30_000, minIntervalMs: 3_600_000, startupGraceMs: 120_000 });
    const { config: c, problems } = readConfig({ LEAK_AGENT_MITIGATE: 'restart', LEAK_AGENT_MITIGATE_DEADLINE: '1h' });
    expect(problems.map((p) => p.variable)).toEqual(['LEAK_AGENT_MITIGATE', 'LEAK_AGENT_MITIGATE_DEADLINE']);
    expect(c.pressure.mitigation.mode).toBe('off');
  });
});

interface Run { code: number | null; out: Record<string, unknown>[]; body: string | undefined; log: Record<string, unknown>[]; stderr: string }

/** Starts the service, sends one slow request as soon as it listens, and waits for the exit. */
function runService(dir: string, extra: Record<string, string>): Promise<Run> {
  const logFile = path.join(dir, 'agent.log');
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('LEAK_AGENT_') && !k.startsWith('NODE_') && !k.startsWith('OTEL_')) env[k] = v;
  Object.assign(env, {
    AGENT_PATH: REPO, LEAK_AGENT_DIR: dir, LEAK_AGENT_LOG: logFile, LEAK_AGENT_NATIVE: 'off',
    // Critical at once: heap use of a 64 MiB heap is far above 2%.
    LEAK_AGENT_PRESSURE_HEAP: '1%', LEAK_AGENT_CRITICAL_HEAP: '2%', LEAK_AGENT_MITIGATE_AFTER: '1s', ...extra,
  });
  const child = spawn(process.execPath, ['--max-old-space-size=64', FIXTURE], { env });
  const out: Record<string, unknown>[] = [];
  let stderr = '';
  let body: string | undefined;
  let buf = '';
  child.stderr.on('data', (d: Buffer) => { stderr += d.toString(); });
  child.stdout.on('data', (d: Buffer) => {
    buf += d.toString();
    let nl: number;
    while ((nl = buf.indexOf('\n')) >= 0) {
      const line = JSON.parse(buf.slice(0, nl)) as Record<string, unknown>;
      buf = buf.slice(nl + 1);
      out.push(line);
      if (typeof line.port === 'number') {
        // The request is in flight when the mitigation starts (it takes 1.5 s; the agent acts at its second drain).
        http.get(`http://127.0.0.1:${line.port}/in-flight`, (res) => {
          let b = '';
          res.on('data', (c: Buffer) => { b += c.toString(); });
          res.on('end', () => { body = `${res.statusCode} ${b}`; });
        }).on('error', (err) => { body = `error ${err.message}`; });
      }
    }
  });
  return new Promise((resolve) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, out, body, log: fs.existsSync(logFile) ? readLogLines(logFile) : [], stderr });
    });
  });
}

describe('graceful mitigation (LEAK_AGENT_MITIGATE=exit)', () => {
  const dir = path.join(tmp, 'exit');
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });

  it('when critical: hook stops the server, the in-flight request completes, the process exits with the documented code, agent.mitigated is the last line', async () => {
    const run = await runService(dir, { LEAK_AGENT_MITIGATE: 'exit' });
    expect(run.code, run.stderr).toBe(MITIGATION_EXIT_CODE);
    expect(MITIGATION_EXIT_CODE).toBe(75);
    expect(run.out.find((l) => l.hook === 'exit')).toBeDefined();
    expect(run.out.find((l) => l.closed === true)).toBeDefined();
    expect(run.out.find((l) => l.event === 'mitigate')).toMatchObject({ action: 'exit' });
    expect(run.out.find((l) => l.exiting)).toBeUndefined();
    expect(run.body).toBe('200 done /in-flight\n');
    const events = run.log.map((l) => l.event);
    expect(events.indexOf('mitigation.started')).toBeGreaterThan(-1);
    expect(events.indexOf('agent.stopped')).toBeGreaterThan(events.indexOf('mitigation.started'));
    const last = run.log[run.log.length - 1];
    expect(last).toMatchObject({ event: 'agent.mitigated', action: 'exit', exitCode: 75, hooks: 1, problems: [] });
    expect((last?.reasons as string[])[0]).toMatch(/^critical/);
    const record = JSON.parse(fs.readFileSync(path.join(dir, 'mitigation.json'), 'utf8'));
    expect(record).toMatchObject({ action: 'exit', at: expect.any(String), pid: expect.any(Number) });
  }, 60_000);

  it('the next process within LEAK_AGENT_MITIGATE_INTERVAL reads the record and does not mitigate again', async () => {
    fs.rmSync(path.join(dir, 'agent.log'), { force: true });
    const run = await runService(dir, { LEAK_AGENT_MITIGATE: 'exit', LIFE_MS: '4000' });
    expect(run.code, run.stderr).toBe(0);
    expect(run.out.find((l) => l.exiting === 'by itself')).toBeDefined();
    expect(run.out.find((l) => l.hook)).toBeUndefined();
    const skipped = run.log.filter((l) => l.event === 'mitigation.skipped').map((l) => l.reason as string);
    expect(skipped.some((r) => /the last mitigation was \d+ s ago/.test(r))).toBe(true);
    expect(run.log.find((l) => l.event === 'agent.mitigated')).toBeUndefined();
  }, 60_000);
});

describe('LEAK_AGENT_MITIGATE=hook', () => {
  it('calls the hook and emits mitigate once and logs agent.mitigated; the agent does not exit the process', async () => {
    const dir = path.join(tmp, 'hook');
    fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
    const run = await runService(dir, { LEAK_AGENT_MITIGATE: 'hook', LIFE_MS: '5000' });
    expect(run.code, run.stderr).toBe(0);
    expect(run.out.filter((l) => l.hook === 'hook')).toHaveLength(1);
    // The hook closed the server, so the process ended on its own once the request was answered (code 0, not 75).
    expect(run.out.find((l) => l.closed === true)).toBeDefined();
    expect(run.body).toBe('200 done /in-flight\n');
    expect(run.log.filter((l) => l.event === 'agent.mitigated'), JSON.stringify(run.log)).toEqual([expect.objectContaining({ action: 'hook', exitCode: null })]);
  }, 60_000);
});

describe('start-up', () => {
  it('is never mitigated: critical inside LEAK_AGENT_MITIGATE_AFTER is one mitigation.skipped line', async () => {
    const dir = path.join(tmp, 'startup');
    fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
    const run = await runService(dir, { LEAK_AGENT_MITIGATE: 'exit', LEAK_AGENT_MITIGATE_AFTER: '2m', LIFE_MS: '3500' });
    expect(run.code, run.stderr).toBe(0);
    expect(run.out.find((l) => l.hook)).toBeUndefined();
    const skipped = run.log.filter((l) => l.event === 'mitigation.skipped');
    expect(skipped).toHaveLength(1);
    expect(skipped[0]?.reason).toMatch(/start-up is never mitigated/);
    expect(fs.existsSync(path.join(dir, 'mitigation.json'))).toBe(false);
  }, 60_000);
});
