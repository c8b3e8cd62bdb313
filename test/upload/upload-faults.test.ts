/**
 * Fault suite for delivery: an HTTP sink and an S3 store that are down, slow, stalled, erroring or
 * resetting connections while the host works. When the host's work is done it exits with its own
 * code, promptly (the bound here is loose on purpose: what it rules out is waiting for a retry, a
 * timeout or a socket), and nothing is lost: the spool keeps every artifact, and the next process
 * with a working target delivers each exactly once (the S3 one to a real s3rver).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as net from 'node:net';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCollector, type Collector } from './collector';
import { ROOT, buildPrivate, cleanup, expectedKey, freePort, killHosts, readLog, spoolEntries, startHost, tmpDir, writeEpisode } from './helpers';

let build: string;
const collectors: Collector[] = [];
const servers: net.Server[] = [];
let s3rver: ChildProcess | undefined;

beforeAll(async () => {
  build = await buildPrivate();
});

afterAll(async () => {
  killHosts();
  if (s3rver?.pid && s3rver.exitCode === null) process.kill(s3rver.pid, 'SIGTERM');
  await Promise.all(collectors.map((c) => c.close()));
  for (const s of servers) s.close();
  cleanup(build);
});

const FILES = [
  { name: 'heap-1.heapsnapshot', kind: 'heapsnapshot', bytes: 2_000_000, content: 'random' as const },
  { name: 'allocations-1.heapprofile', kind: 'heapprofile', bytes: 80_000, content: 'text' as const },
];

const baseEnv = (dir: string, upload: string, extra: Record<string, string> = {}): Record<string, string> => ({
  LEAK_AGENT_DIR: dir, LEAK_AGENT_LOG: path.join(dir, 'agent.log'), LEAK_AGENT_UPLOAD: upload,
  // Transport faults: the stand-in snapshot is not a real one (redaction: upload-redact.test.ts).
  LEAK_AGENT_REDACT: 'off',
  LEAK_AGENT_UPLOAD_RETRY_BASE: '100ms', LEAK_AGENT_UPLOAD_RETRY_MAX: '500ms', LEAK_AGENT_UPLOAD_TIMEOUT: '30s',
  AWS_ACCESS_KEY_ID: 'S3RVER', AWS_SECRET_ACCESS_KEY: 'S3RVER', AWS_REGION: 'us-east-1', ...extra,
});

/** A TCP server that misbehaves below HTTP: accepts and never answers, or resets every connection. */
async function rawServer(kind: 'stall' | 'reset'): Promise<number> {
  const server = net.createServer((socket) => {
    if (kind === 'reset') socket.on('data', () => socket.resetAndDestroy());
    else socket.on('data', () => socket.pause());
    socket.on('error', () => undefined);
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return (server.address() as net.AddressInfo).port;
}

/** An S3 endpoint that answers every request with 500 InternalError (after reading the body). */
async function s3Erroring(): Promise<number> {
  const server = http.createServer((req, res) => {
    req.resume();
    req.on('end', () => res.writeHead(500, { 'content-type': 'application/xml' }).end('<?xml version="1.0"?><Error><Code>InternalError</Code><Message>bad day</Message></Error>'));
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return (server.address() as net.AddressInfo).port;
}

interface Outcome {
  code: number | null;
  signal: NodeJS.Signals | null;
  exitDelayMs: number;
}

async function runUntilDone(dir: string, env: Record<string, string>): Promise<Outcome> {
  const run = startHost(build, env, { verdicts: ['ep-f'], workMs: 1_500 });
  const timer = setTimeout(() => run.child.kill('SIGKILL'), 40_000);
  const res = await run.done;
  clearTimeout(timer);
  const exit = res.stdout.split('\n').find((l) => l.includes('"host.exit"'));
  expect(res.stdout).not.toContain('host.crash');
  return { code: res.code, signal: res.signal, exitDelayMs: exit ? (JSON.parse(exit) as { exitDelayMs: number }).exitDelayMs : NaN };
}

function expectPromptExitAndSpooled(name: string, dir: string, o: Outcome): void {
  expect(o.signal, `${name}: the host had to be killed: something kept it alive`).toBeNull();
  expect(o.code, name).toBe(0);
  console.info('%s: exit %d ms after the host finished its work', name, o.exitDelayMs);
  expect(o.exitDelayMs, name).toBeLessThan(3_000);
  // Nothing lost: both files and the manifest still wait in the spool.
  expect(spoolEntries(dir), name).toHaveLength(3);
  const failed = readLog(path.join(dir, 'agent.log')).filter((l) => l.event === 'upload.failed');
  for (const f of failed) expect(f.willRetry, `${name}: ${String(f.reason)}`).toBe(true);
}

describe('the host exits when its work is done, whatever the sink does, and nothing is lost', () => {
  it('HTTP sink down, erroring, slow, stalled or resetting; the next process delivers each artifact once', async () => {
    const downPort = await freePort();
    const erroring = await startCollector({ kind: 'fail-first', count: 1_000_000 });
    const slow = await startCollector({ kind: 'slow', chunkDelayMs: 200, answerDelayMs: 60_000 });
    const stalled = await startCollector({ kind: 'stall-first', afterBytes: 1 });
    collectors.push(erroring, slow, stalled);
    const resetPort = await rawServer('reset');
    const cases: [string, string][] = [
      ['down', `http://127.0.0.1:${downPort}/ingest`],
      ['erroring', erroring.url],
      ['slow', slow.url],
      ['stalled', stalled.url],
      ['resetting', `http://127.0.0.1:${resetPort}/ingest`],
    ];
    const dirs = new Map<string, string>();
    for (const [name, url] of cases) {
      const dir = tmpDir(`faults-http-${name}`);
      writeEpisode(dir, 'ep-f', FILES);
      dirs.set(name, dir);
      expectPromptExitAndSpooled(name, dir, await runUntilDone(dir, baseEnv(dir, url)));
    }
    expect(erroring.stored.size).toBe(0);

    // The sink is back: a new process with the same directory ships what the spool kept, once each.
    const good = await startCollector({ kind: 'ok' });
    collectors.push(good);
    const dir = dirs.get('erroring') as string;
    const next = startHost(build, baseEnv(dir, good.url), { wait: true });
    const res = await next.done;
    expect(res.code, res.stderr).toBe(0);
    expect(spoolEntries(dir)).toEqual([]);
    expect([...good.stored.values()].map((b) => b.length)).toEqual([1, 1, 1]);
  });

  it('S3 store down, stalled, resetting or erroring; the next process delivers each artifact once to s3rver', async () => {
    const downPort = await freePort();
    const stallPort = await rawServer('stall');
    const resetPort = await rawServer('reset');
    const errorPort = await s3Erroring();
    const cases: [string, number][] = [['down', downPort], ['stalled', stallPort], ['resetting', resetPort], ['erroring', errorPort]];
    const dirs = new Map<string, { dir: string; pid: number }>();
    for (const [name, port] of cases) {
      const dir = tmpDir(`faults-s3-${name}`);
      writeEpisode(dir, 'ep-f', FILES);
      const env = baseEnv(dir, 's3://evidence/prod', { AWS_ENDPOINT_URL_S3: `http://127.0.0.1:${port}` });
      expectPromptExitAndSpooled(`s3 ${name}`, dir, await runUntilDone(dir, env));
      const queued = readLog(path.join(dir, 'agent.log')).find((l) => l.event === 'upload.queued');
      dirs.set(name, { dir, pid: Number(String(queued?.key).split('/')[2]?.split('-')[1]) });
    }

    // s3rver comes up; the successor of the stalled host ships its spool.
    const port = await freePort();
    const store = tmpDir('faults-s3rver');
    s3rver = spawn(process.execPath, [path.join(ROOT, 'node_modules/s3rver/bin/s3rver.js'), '-d', store, '-a', '127.0.0.1', '-p', String(port), '--configure-bucket', 'evidence'], { stdio: ['ignore', 'pipe', 'pipe'] });
    await new Promise<void>((resolve, reject) => {
      let out = '';
      s3rver?.stdout?.on('data', (d: Buffer) => {
        out += d.toString();
        if (out.includes('listening')) resolve();
      });
      s3rver?.once('exit', (code) => reject(new Error(`s3rver exited with ${code}`)));
    });
    const { dir, pid } = dirs.get('stalled') as { dir: string; pid: number };
    const next = startHost(build, baseEnv(dir, 's3://evidence/prod', { AWS_ENDPOINT_URL_S3: `http://127.0.0.1:${port}` }), { wait: true });
    const res = await next.done;
    expect(res.code, res.stderr).toBe(0);
    expect(spoolEntries(dir)).toEqual([]);
    const done = readLog(path.join(dir, 'agent.log')).filter((l) => l.event === 'upload.done');
    expect(done.map((d) => d.uri).sort()).toEqual(
      [...FILES.map((f) => f.name), 'manifest.json'].map((n) => `s3://evidence/prod/${expectedKey(pid, 'ep-f', n)}`).sort());
    // s3rver keeps each object once under its key (the store's own files: one per object).
    const objects = fs.readdirSync(path.join(store, 'evidence'), { recursive: true }).filter((n) => String(n).endsWith('._S3rver_object'));
    expect(objects).toHaveLength(3);
  });
});
