/**
 * A collector that is down, slow, answering 503 or resetting connections must never keep the host
 * alive: when the host's own work is done the process exits, with its own exit code and output,
 * whether or not it called stop(). The host measures the gap between its last piece of work and
 * the 'exit' event itself; the bound asserted here is loose on purpose (the figure lives in
 * bench/exit-delay.js) — what it rules out is waiting for export retries, timeouts or sockets.
 */
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { OtlpReceiver } from './helpers/otlp-receiver';
import { jsonLines, REPO, runNodeAsync } from './helpers/process';

const DIR = fs.mkdtempSync(path.join(os.tmpdir(), 'la-faults-collector-'));
afterAll(() => fs.rmSync(DIR, { recursive: true, force: true }));

let r: OtlpReceiver | undefined;
afterEach(async () => {
  await r?.stop();
  r = undefined;
});

async function closedPort(): Promise<number> {
  const s = net.createServer();
  await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve));
  const port = (s.address() as net.AddressInfo).port;
  await new Promise<void>((resolve) => s.close(() => resolve()));
  return port;
}

/** The host: works for 2.5 s (long enough for the agent to bind telemetry and export several times), optionally calls stop(), then prints and exits with 3. */
function hostScript(callStop: boolean): string {
  return `
    let done = 0;
    process.on('exit', () => { process.stdout.write(JSON.stringify({ host: 'bye', exitDelayMs: Date.now() - done }) + '\\n'); });
    setTimeout(async () => {
      ${callStop ? `await require(${JSON.stringify(REPO)}).stop();` : ''}
      done = Date.now();
      process.exitCode = 3;
    }, 2500);
  `;
}

async function runHost(endpoint: string, callStop: boolean, extra: Record<string, string> = {}) {
  const env: Record<string, string | undefined> = {};
  for (const k of Object.keys(process.env)) if (k.startsWith('OTEL_') || k.startsWith('LEAK_AGENT_')) env[k] = undefined;
  return runNodeAsync({
    args: ['-r', REPO, '-e', hostScript(callStop)],
    env: { ...env, LEAK_AGENT_DIR: DIR, OTEL_EXPORTER_OTLP_ENDPOINT: endpoint, OTEL_METRIC_EXPORT_INTERVAL: '200', ...extra },
    timeoutMs: 40_000,
  });
}

function expectPromptExit(run: Awaited<ReturnType<typeof runHost>>): void {
  expect(run.signal, 'the host had to be killed: something kept it alive').toBeNull();
  expect(run.code).toBe(3);
  const bye = run.stdout.trim().split('\n').map((l) => JSON.parse(l) as { host: string; exitDelayMs: number });
  expect(bye).toHaveLength(1);
  expect(bye[0]!.host).toBe('bye');
  expect(bye[0]!.exitDelayMs).toBeLessThan(1_000);
}

type Trouble = 'down' | 'slow' | 'error 503' | 'reset';

async function collector(trouble: Trouble): Promise<string> {
  if (trouble === 'down') return `http://127.0.0.1:${await closedPort()}`;
  r = new OtlpReceiver();
  await r.start();
  if (trouble === 'slow') r.setMode({ kind: 'slow', delayMs: 30_000 });
  if (trouble === 'error 503') r.setMode({ kind: 'error', status: 503 });
  if (trouble === 'reset') r.setMode({ kind: 'reset' });
  return r.url;
}

describe('a collector in trouble never keeps the host alive', () => {
  for (const trouble of ['down', 'slow', 'error 503', 'reset'] as const) {
    it(`collector ${trouble}: the host exits with its own code when its work is done`, async () => {
      const run = await runHost(await collector(trouble), false);
      expectPromptExit(run);
      // The trouble was seen and reported (the agent did try), on the agent's log, not the host's stdout.
      expect(jsonLines(run.stderr).map((l) => l.event)).toContain('telemetry.started');
    });

    it(`collector ${trouble}: after stop() the host exits at once`, async () => {
      const run = await runHost(await collector(trouble), true);
      expectPromptExit(run);
      expect(jsonLines(run.stderr).map((l) => l.event)).toContain('agent.stopped');
    });
  }

});
