import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { REPO, jsonLines, readLogLines, runNode } from './helpers/process';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'la-lifecycle-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

describe('loading the package', () => {
  it('starts one agent per process; a second load (even of a second copy) is a no-op', () => {
    const copy = path.join(tmp, 'copy-of-package');
    fs.mkdirSync(copy);
    fs.cpSync(path.join(REPO, 'dist'), path.join(copy, 'dist'), { recursive: true });
    fs.copyFileSync(path.join(REPO, 'package.json'), path.join(copy, 'package.json'));
    const run = runNode({
      args: ['-r', REPO, '-e', `
        const a = require(${JSON.stringify(REPO)});
        const b = require(${JSON.stringify(copy)});
        console.log(JSON.stringify({ a: a.status(), b: b.status() }));`],
      cwd: tmp,
    });
    expect(run.status).toBe(0);
    const started = jsonLines(run.stderr).filter((l) => l.event === 'agent.started');
    expect(started).toHaveLength(1);
    const { a, b } = JSON.parse(run.stdout) as { a: Record<string, unknown>; b: Record<string, unknown> };
    expect(a.running).toBe(true);
    expect(b.pid).toBe(a.pid);
    expect(['native', 'js']).toContain(a.sampler);
  });

  it('LEAK_AGENT_ENABLED=false starts nothing', () => {
    const run = runNode({
      args: ['-r', REPO, '-e', `console.log(JSON.stringify(require(${JSON.stringify(REPO)}).status()))`],
      env: { LEAK_AGENT_ENABLED: 'false' },
    });
    expect(run.status).toBe(0);
    expect(jsonLines(run.stderr)).toEqual([]);
    expect(JSON.parse(run.stdout)).toMatchObject({ running: false });
  });

  it('a bad environment value gets one clear line and the host keeps running with the default', () => {
    const run = runNode({
      args: ['-r', REPO, '-e', `setTimeout(() => console.log('host still running'), 50)`],
      env: { LEAK_AGENT_WINDOW: 'forever', LEAK_AGENT_NATIVE: 'off' },
    });
    expect(run.status).toBe(0);
    expect(run.stdout).toContain('host still running');
    const errors = jsonLines(run.stderr).filter((l) => l.event === 'agent.error');
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatchObject({ variable: 'LEAK_AGENT_WINDOW', value: 'forever', using: '30m' });
    expect(String(errors[0]?.message)).toMatch(/LEAK_AGENT_WINDOW="forever".*expected a duration/);
    expect(jsonLines(run.stderr).find((l) => l.event === 'agent.started')?.window).toBe('30m');
  });

  it('works from ESM: import and --import share one agent with require', () => {
    // As a user has it: the package installed under node_modules, loaded by name.
    const appDir = path.join(tmp, 'esm-app');
    fs.mkdirSync(path.join(appDir, 'node_modules'), { recursive: true });
    fs.symlinkSync(REPO, path.join(appDir, 'node_modules', 'leak-agent'));
    const app = path.join(appDir, 'app.mjs');
    fs.writeFileSync(app, `
      import { createRequire } from 'node:module';
      import * as agent from 'leak-agent';
      const cjs = createRequire(import.meta.url)('leak-agent');
      console.log(JSON.stringify({ esm: agent.status(), cjs: cjs.status(), fns: [typeof agent.snapshot, typeof agent.stop, typeof agent.on] }));
    `);
    const run = runNode({ args: ['--import', 'leak-agent', app], cwd: appDir });
    expect(run.status).toBe(0);
    expect(jsonLines(run.stderr).filter((l) => l.event === 'agent.started')).toHaveLength(1);
    const out = JSON.parse(run.stdout) as { esm: { pid: number; running: boolean }; cjs: { pid: number }; fns: string[] };
    expect(out.esm.running).toBe(true);
    expect(out.esm.pid).toBe(out.cjs.pid);
    expect(out.fns).toEqual(['function', 'function', 'function']);
  });

  it('logs JSON lines to LEAK_AGENT_LOG with the start facts, and agent.stopped on stop()', () => {
    const log = path.join(tmp, 'logs', 'agent.log');
    const run = runNode({
      args: ['-r', REPO, '-e', `require(${JSON.stringify(REPO)}).stop(); console.log(JSON.stringify(require(${JSON.stringify(REPO)}).status()))`],
      env: { LEAK_AGENT_LOG: log },
    });
    expect(run.status).toBe(0);
    expect(run.stderr).toBe('');
    const lines = readLogLines(log);
    for (const line of lines) {
      expect(typeof line.event).toBe('string');
      expect(new Date(line.time).toISOString()).toBe(line.time);
    }
    const started = lines.find((l) => l.event === 'agent.started');
    expect(started).toMatchObject({ node: process.version, pid: expect.any(Number), sampler: expect.stringMatching(/^(native|js)$/) });
    expect(started?.version).toBe(JSON.parse(fs.readFileSync(path.join(REPO, 'package.json'), 'utf8')).version);
    expect(started?.heapLimit).toBeGreaterThan(0);
    expect(lines.at(-1)?.event).toBe('agent.stopped');
    expect(JSON.parse(run.stdout).running).toBe(false);
    expect(fs.statSync(log).mode & 0o777).toBe(0o600);
  });

  it('an unwritable log path falls back to stderr with one clear line, and the host runs on', () => {
    const run = runNode({
      args: ['-r', REPO, '-e', `console.log('ok')`],
      env: { LEAK_AGENT_LOG: '/proc/version/cannot/write/here.log' },
    });
    expect(run.status).toBe(0);
    expect(run.stdout.trim()).toBe('ok');
    const lines = jsonLines(run.stderr);
    expect(lines[0]).toMatchObject({ event: 'agent.error', where: 'log' });
    expect(String(lines[0]?.message)).toContain('/proc/version/cannot/write/here.log');
    expect(lines.some((l) => l.event === 'agent.started')).toBe(true);
  });

  it('never keeps the host process alive', () => {
    const run = runNode({ args: ['-r', REPO, '-e', '0'], timeoutMs: 20_000 });
    // The drain timer is 1 s; an un-unref'd timer would keep the process up until the spawn timeout
    // kills it (status null, signal SIGTERM).
    expect(run.status).toBe(0);
    expect(run.signal).toBeNull();
  });

  it('a worker thread that loads the agent gets its own agent', () => {
    const run = runNode({
      args: ['-e', `
        const { Worker } = require('node:worker_threads');
        const main = require(${JSON.stringify(REPO)});
        const w = new Worker('const a = require(${JSON.stringify(REPO).replace(/"/g, '\\"')}); require("node:worker_threads").parentPort.postMessage(a.status()); a.stop();', { eval: true });
        w.on('message', (s) => { console.log(JSON.stringify({ main: main.status(), worker: s })); main.stop(); });
      `],
    });
    expect(run.status).toBe(0);
    const out = JSON.parse(run.stdout) as { main: { running: boolean }; worker: { running: boolean } };
    expect(out.main.running).toBe(true);
    expect(out.worker.running).toBe(true);
    expect(jsonLines(run.stderr).filter((l) => l.event === 'agent.started')).toHaveLength(2);
  });
});
