import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { REPO, jsonLines, runNode, runNodeAsync } from '../helpers/process';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'la-health-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

const env = { LEAK_AGENT_DIR: tmp, LEAK_AGENT_NATIVE: 'off' };

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.on('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
  });
}

describe('health()', () => {
  it('answers in every agent state: loaded, after drains, after stop(), and again after stop()', () => {
    const run = runNode({
      args: ['-e', `
        const agent = require(${JSON.stringify(REPO)});
        const seen = { loaded: agent.health() };
        setTimeout(async () => {
          seen.running = agent.health();
          seen.same = agent.health() === agent.health();
          await agent.stop();
          seen.stopped = agent.health();
          await agent.stop();
          seen.stoppedTwice = agent.health();
          console.log(JSON.stringify(seen));
        }, 2500);`],
      env,
    });
    expect(run.status, run.stderr).toBe(0);
    const seen = JSON.parse(run.stdout);
    expect(seen.loaded).toEqual({ status: 'ok', reasons: ['no memory reading yet'], figures: expect.any(Object) });
    expect(seen.running.status).toBe('ok');
    expect(seen.running.reasons).toEqual([]);
    expect(seen.running.figures.heapUse).toBeGreaterThan(0);
    expect(seen.running.figures.heapUse).toBeLessThan(0.5);
    expect(seen.same).toBe(true);
    expect(seen.stopped).toMatchObject({ status: 'ok', reasons: ['leak-agent is stopped'] });
    expect(seen.stoppedTwice).toMatchObject({ status: 'ok', reasons: ['leak-agent is stopped'] });
  });

  it('answers when the agent is disabled, and the ESM entry exports it', () => {
    const run = runNode({
      args: ['--input-type=module', '-e', `
        import { health, healthHandler } from ${JSON.stringify(path.join(REPO, 'dist', 'index.mjs'))};
        console.log(JSON.stringify({ h: health(), handler: typeof healthHandler() }));`],
      env: { ...env, LEAK_AGENT_ENABLED: 'false' },
    });
    expect(run.status, run.stderr).toBe(0);
    expect(JSON.parse(run.stdout)).toEqual({ h: { status: 'ok', reasons: ['leak-agent is disabled'], figures: expect.any(Object) }, handler: 'function' });
  });

  it('is degraded when heap use passes a (low) configured threshold, and logs memory.pressure once', () => {
    const run = runNode({
      args: ['-e', `
        const agent = require(${JSON.stringify(REPO)});
        const keep = [];
        for (let i = 0; i < 200; i++) keep.push(new Array(50_000).fill(i));
        const events = [];
        agent.on('pressure', (p) => events.push(p.signal + ':' + p.active));
        setTimeout(async () => {
          const h = agent.health();
          await agent.stop();
          console.log(JSON.stringify({ h, events, kept: keep.length }));
        }, 2500);`],
      env: { ...env, LEAK_AGENT_PRESSURE_HEAP: '1%', LEAK_AGENT_CRITICAL_HEAP: '99%' },
    });
    expect(run.status, run.stderr).toBe(0);
    const { h, events } = JSON.parse(run.stdout);
    expect(h.status).toBe('degraded');
    expect(h.reasons[0]).toMatch(/^heap use .* \(threshold 1%\)$/);
    expect(events).toEqual(['heap:true']);
    const lines = jsonLines(run.stderr).filter((l) => l.event === 'memory.pressure');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({ signal: 'heap', threshold: 0.01, status: 'degraded' });
    expect(lines[0]?.heapUse).toBeGreaterThan(0.01);
  });
});

describe('the health handler and endpoint', () => {
  it('healthHandler() answers 200 with the JSON of health() on a plain http server', () => {
    const run = runNode({
      args: ['-e', `
        const http = require('node:http');
        const agent = require(${JSON.stringify(REPO)});
        const server = http.createServer(agent.healthHandler()).listen(0, '127.0.0.1', async () => {
          const res = await fetch('http://127.0.0.1:' + server.address().port + '/');
          console.log(JSON.stringify({ code: res.status, type: res.headers.get('content-type'), body: await res.json() }));
          server.close();
          await agent.stop();
        });`],
      env,
    });
    expect(run.status, run.stderr).toBe(0);
    const r = JSON.parse(run.stdout);
    expect(r.code).toBe(200);
    expect(r.type).toMatch(/^application\/json/);
    expect(r.body.status).toBe('ok');
  });

  it('answers 503 when critical', () => {
    const run = runNode({
      args: ['--max-old-space-size=64', '-e', `
        const http = require('node:http');
        const agent = require(${JSON.stringify(REPO)});
        setTimeout(() => {
          const server = http.createServer(agent.healthHandler()).listen(0, '127.0.0.1', async () => {
            const res = await fetch('http://127.0.0.1:' + server.address().port + '/');
            console.log(JSON.stringify({ code: res.status, body: await res.json() }));
            server.close();
            await agent.stop();
          });
        }, 2500);`],
      env: { ...env, LEAK_AGENT_PRESSURE_HEAP: '1%', LEAK_AGENT_CRITICAL_HEAP: '2%' },
    });
    expect(run.status, run.stderr).toBe(0);
    const r = JSON.parse(run.stdout);
    expect(r.code).toBe(503);
    expect(r.body.status).toBe('critical');
    expect(r.body.reasons[0]).toMatch(/^critical/);
  });

  it('LEAK_AGENT_HEALTH_PORT serves GET /health on loopback and never keeps the host alive', async () => {
    const port = await freePort();
    const started = Date.now();
    const run = await runNodeAsync({
      args: ['-e', `
        const agent = require(${JSON.stringify(REPO)});
        setTimeout(async () => {
          const ok = await fetch('http://127.0.0.1:${port}/health');
          const missing = await fetch('http://127.0.0.1:${port}/other');
          console.log(JSON.stringify({ code: ok.status, body: await ok.json(), missing: missing.status }));
        }, 1500);`],
      env: { ...env, LEAK_AGENT_HEALTH_PORT: String(port) },
      timeoutMs: 20_000,
    });
    expect(run.code, run.stderr).toBe(0);
    // The host's work ends after its fetches; the unref'd endpoint does not hold it (the timeout is 20 s).
    expect(Date.now() - started).toBeLessThan(15_000);
    const r = JSON.parse(run.stdout);
    expect(r).toMatchObject({ code: 200, missing: 404 });
    expect(r.body.status).toBe('ok');
    expect(jsonLines(run.stderr).find((l) => l.event === 'health.listening')).toMatchObject({ host: '127.0.0.1', port });
  });

  it('a port in use is one agent.error line, and health() still answers', async () => {
    const blocker = net.createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', () => resolve()));
    const port = (blocker.address() as net.AddressInfo).port;
    try {
      const run = await runNodeAsync({
        args: ['-e', `
          const agent = require(${JSON.stringify(REPO)});
          setTimeout(() => console.log(JSON.stringify(agent.health())), 1500);`],
        env: { ...env, LEAK_AGENT_HEALTH_PORT: String(port) },
      });
      expect(run.code, run.stderr).toBe(0);
      expect(JSON.parse(run.stdout).status).toBe('ok');
      const errors = jsonLines(run.stderr).filter((l) => l.event === 'agent.error');
      expect(errors).toHaveLength(1);
      expect(errors[0]?.message).toMatch(/health endpoint on 127\.0\.0\.1:\d+ failed: .*EADDRINUSE/);
    } finally {
      blocker.close();
    }
  });
});
