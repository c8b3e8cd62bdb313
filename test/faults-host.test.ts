/**
 * Hosts that do unusual things: the wall clock jumps back and forth, the host forks (`cluster`),
 * runs worker threads, or calls gc() in a tight loop under --expose-gc. In each, the host's exit
 * code and its own output are unchanged, the agent writes no error and no false alert, and the
 * process exits by itself when the host's work is done.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { jsonLines, REPO, runNodeAsync } from './helpers/process';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});

function tempDir(): string {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), 'la-faults-host-'));
  dirs.push(d);
  return d;
}

function cleanEnv(extra: Record<string, string> = {}): Record<string, string | undefined> {
  const env: Record<string, string | undefined> = {};
  for (const k of Object.keys(process.env)) if (k.startsWith('OTEL_') || k.startsWith('LEAK_AGENT_')) env[k] = undefined;
  return { ...env, LEAK_AGENT_DIR: tempDir(), ...extra };
}

/** Runs `script` from a file (cluster workers re-run the main module, which `-e` does not give them). */
async function host(script: string, env: Record<string, string> = {}, nodeArgs: string[] = []) {
  const file = path.join(tempDir(), 'host.js');
  fs.writeFileSync(file, script);
  const run = await runNodeAsync({ args: [...nodeArgs, '-r', REPO, file], env: cleanEnv(env), timeoutMs: 60_000 });
  const lines = jsonLines(run.stderr);
  return { ...run, lines, events: lines.map((l) => l.event) };
}

describe('hosts that do unusual things', () => {
  it('the wall clock jumps back an hour, then forward a day: no error, no alert, the agent keeps sampling', async () => {
    // Date is replaced before the agent loads, as an NTP step or a VM resume would move it.
    const script = `
      const Real = Date;
      let offset = 0;
      class Jumpy extends Real {
        constructor(...a) { if (a.length) super(...a); else super(Real.now() + offset); }
        static now() { return Real.now() + offset; }
      }
      globalThis.Date = Jumpy;
      const agent = require(${JSON.stringify(REPO)});
      const keep = [];
      const work = setInterval(() => { keep.push(new Array(1000).fill(1)); if (keep.length > 200) keep.splice(0, 100); }, 5);
      setTimeout(() => { offset = -3600e3; }, 1500);
      setTimeout(() => { offset = 86400e3; }, 3000);
      setTimeout(() => { offset = 0; }, 4500);
      setTimeout(() => {
        clearInterval(work);
        const s = agent.status();
        console.log(JSON.stringify({ host: 'done', running: s.running, records: s.records > 0 }));
        process.exitCode = 4;
      }, 6000);
    `;
    const r = await host(`require(${JSON.stringify(REPO)}); ${script}`, {}, ['--expose-gc']);
    expect(r.signal).toBeNull();
    expect(r.code).toBe(4);
    expect(r.stdout.trim()).toBe(JSON.stringify({ host: 'done', running: true, records: true }));
    expect(r.lines.filter((l) => l.event === 'agent.error')).toEqual([]);
    expect(r.events).not.toContain('leak.detected');
  });

  it('a host that forks (cluster): every worker gets its own agent, nothing fails, everyone exits', async () => {
    const script = `
      const cluster = require('node:cluster');
      if (cluster.isPrimary) {
        let exited = 0;
        for (let i = 0; i < 2; i++) cluster.fork().on('exit', (code) => { exited += 1; if (code !== 0) process.exitCode = 9; });
        cluster.on('exit', () => { if (exited === 2) console.log('primary done'); });
      } else {
        const s = require(${JSON.stringify(REPO)}).status();
        console.log('worker ' + (s.running ? 'agent running' : 'no agent'));
        setTimeout(() => cluster.worker.disconnect(), 1500);
      }
    `;
    const r = await host(script, { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:9', OTEL_METRIC_EXPORT_INTERVAL: '200' });
    expect(r.signal).toBeNull();
    expect(r.code).toBe(0);
    expect(r.stdout.trim().split('\n').sort()).toEqual(['primary done', 'worker agent running', 'worker agent running']);
    const pids = new Set(r.lines.filter((l) => l.event === 'agent.started').map((l) => l.pid));
    expect(pids.size).toBe(3);
    expect(r.lines.filter((l) => l.event === 'agent.error')).toEqual([]);
  });

  it('a host with worker threads and a collector that is down: each thread has an agent, the process exits with the host\'s code', async () => {
    const script = `
      const { Worker } = require('node:worker_threads');
      const code = 'const s = require(' + JSON.stringify(${JSON.stringify(REPO)}) + ').status(); require("node:worker_threads").parentPort.postMessage(s.running); setTimeout(() => {}, 1500);';
      let done = 0;
      for (let i = 0; i < 2; i++) {
        new Worker(code, { eval: true }).on('message', (m) => console.log('worker agent ' + m)).on('exit', () => { done += 1; if (done === 2) { console.log('main done'); process.exitCode = 5; } });
      }
    `;
    const r = await host(script, { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:9', OTEL_METRIC_EXPORT_INTERVAL: '200' });
    expect(r.signal).toBeNull();
    expect(r.code).toBe(5);
    expect(r.stdout.trim().split('\n').sort()).toEqual(['main done', 'worker agent true', 'worker agent true']);
    expect(r.lines.filter((l) => l.event === 'agent.started')).toHaveLength(3);
    expect(r.lines.filter((l) => l.event === 'agent.error')).toEqual([]);
  });

  it('a host calling gc() in a tight loop (--expose-gc): no error, no alert, the agent keeps sampling, the host exits by itself', async () => {
    const script = `
      const agent = require(${JSON.stringify(REPO)});
      const end = Date.now() + 3000;
      let n = 0;
      const spin = () => { for (let i = 0; i < 10; i++) { global.gc(); n++; } if (Date.now() < end) setImmediate(spin); else finish(); };
      const finish = () => {
        const s = agent.status();
        console.log(JSON.stringify({ host: 'done', running: s.running, manyGcs: n > 20, sampled: s.records > 10 }));
        process.exitCode = 6;
      };
      spin();
    `;
    const r = await host(script, { LEAK_AGENT_WINDOW: '10s' }, ['--expose-gc']);
    expect(r.signal).toBeNull();
    expect(r.code).toBe(6);
    expect(r.stdout.trim()).toBe(JSON.stringify({ host: 'done', running: true, manyGcs: true, sampled: true }));
    expect(r.lines.filter((l) => l.event === 'agent.error')).toEqual([]);
    expect(r.events).not.toContain('leak.detected');
  });
});
