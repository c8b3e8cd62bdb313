/**
 * The HTTP PUT sink against real loopback servers that fail in the ways networks fail, a restart
 * after SIGKILL mid-upload, and two processes sharing one spool. Every artifact must arrive exactly
 * once, and the host process must never crash.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCollector, type Behaviour, type Collector } from './collector';
import { buildPrivate, cleanup, expectedKey, freePort, hostResult, killHosts, readLog, spoolEntries, startHost, tmpDir, writeEpisode } from './helpers';

let build: string;
const collectors: Collector[] = [];

beforeAll(async () => {
  build = await buildPrivate();
});

afterAll(async () => {
  killHosts();
  await Promise.all(collectors.map((c) => c.close()));
  cleanup(build);
});

const httpEnv = (dir: string, url: string, extra: Record<string, string> = {}): Record<string, string> => ({
  LEAK_AGENT_DIR: dir, LEAK_AGENT_LOG: path.join(dir, 'agent.log'), LEAK_AGENT_UPLOAD: `${url}?token=abc`,
  LEAK_AGENT_UPLOAD_HEADERS: 'Authorization=Bearer t0k,X-Team=payments',
  // Transport tests: the stand-in snapshots are not real ones (redaction: upload-redact.test.ts).
  LEAK_AGENT_REDACT: 'off',
  LEAK_AGENT_UPLOAD_RETRY_BASE: '100ms', LEAK_AGENT_UPLOAD_RETRY_MAX: '1s', LEAK_AGENT_UPLOAD_TIMEOUT: '10s', ...extra,
});

const EPISODE_FILES = [
  { name: 'heap.heapsnapshot', kind: 'heapsnapshot', bytes: 1_500_000, content: 'text' as const },
  { name: 'profile.heapprofile', kind: 'heapprofile', bytes: 100_000, content: 'text' as const },
  { name: 'series.json', kind: 'series', bytes: 600_000, content: 'random' as const },
];

/** Each file (and the manifest) acknowledged exactly once, byte-identical after gunzip. */
function expectExactlyOnce(c: Collector, pid: number, episodeId: string, contents: Map<string, Buffer>): void {
  const expected = [...contents.keys(), 'manifest.json'].map((n) => `/ingest/${expectedKey(pid, episodeId, n)}`).sort();
  expect([...c.stored.keys()].sort()).toEqual(expected);
  for (const [key, bodies] of c.stored) expect(bodies, key).toHaveLength(1);
  for (const [name, data] of contents) {
    const body = c.stored.get(`/ingest/${expectedKey(pid, episodeId, name)}`)?.[0] as Buffer;
    expect(gunzipSync(body).equals(data), name).toBe(true);
  }
}

describe('HTTP PUT sink', () => {
  it('a 500-answering, a slow, a connection-cutting and a down-then-back collector each end with every artifact exactly once', async () => {
    const downPort = await freePort();
    const scenarios: { name: string; behaviour: Behaviour; delayListenMs?: number; port?: number; expectRetries: boolean }[] = [
      { name: 'fails', behaviour: { kind: 'fail-first', count: 3 }, expectRetries: true },
      { name: 'slow', behaviour: { kind: 'slow', chunkDelayMs: 5, answerDelayMs: 300 }, expectRetries: false },
      { name: 'cuts', behaviour: { kind: 'cut-first', count: 2 }, expectRetries: true },
      // Down until the agent has been refused at least once, then back.
      { name: 'down', behaviour: { kind: 'ok' }, port: downPort, delayListenMs: Infinity, expectRetries: true },
    ];
    await Promise.all(scenarios.map(async (s) => {
      const c = await startCollector(s.behaviour, s.port ?? 0, s.delayListenMs ?? 0);
      collectors.push(c);
      const dir = tmpDir(`http-${s.name}`);
      const contents = writeEpisode(dir, `ep-${s.name}`, EPISODE_FILES);
      const run = startHost(build, httpEnv(dir, c.url), { verdicts: [`ep-${s.name}`], wait: true });
      if (s.delayListenMs === Infinity) {
        while (!readLog(path.join(dir, 'agent.log')).some((l) => l.event === 'upload.failed')) await new Promise((r) => setTimeout(r, 50));
        await c.listen();
      }
      const res = await run.done;
      expect(res.code, `${s.name}: ${res.stderr}`).toBe(0);
      expect(res.stdout).not.toContain('host.crash');
      const result = hostResult(res.stdout);
      console.info('%s: event-loop delay max %d ms, p99 %d ms', s.name, result.eventLoopMaxMs.toFixed(1), result.eventLoopP99Ms.toFixed(1));

      expectExactlyOnce(c, run.child.pid as number, `ep-${s.name}`, contents);
      for (const h of c.headersSeen) expect(h).toMatchObject({ authorization: 'Bearer t0k', 'x-team': 'payments', 'content-type': 'application/gzip' });

      const log = readLog(path.join(dir, 'agent.log'));
      const failed = log.filter((l) => l.event === 'upload.failed');
      if (s.expectRetries) {
        expect(failed.length, s.name).toBeGreaterThan(0);
        for (const f of failed) {
          expect(f).toMatchObject({ willRetry: true });
          expect(f.nextAttemptInMs as number).toBeGreaterThan(0);
          expect(f.nextAttemptInMs as number).toBeLessThanOrEqual(1_000);
          expect(typeof f.attempt).toBe('number');
        }
      }
      const done = log.filter((l) => l.event === 'upload.done');
      expect(done).toHaveLength(4);
      expect(path.basename(String(done[3]?.source))).toBe('manifest.json');
      // The URI in logs and manifest never carries the query-string token.
      for (const d of done) expect(String(d.uri)).toMatch(new RegExp(`^http://127\\.0\\.0\\.1:${c.port}/ingest/checkout/pod-7f9c/`));
      for (const d of done) expect(String(d.uri)).not.toContain('token');
      const manifest = JSON.parse(fs.readFileSync(path.join(dir, `episodes/ep-${s.name}/manifest.json`), 'utf8'));
      for (const f of manifest.files) expect(f.uri).toBe(`http://127.0.0.1:${c.port}/ingest/${expectedKey(run.child.pid as number, `ep-${s.name}`, path.basename(f.path))}`);
      expect(spoolEntries(dir)).toEqual([]);
    }));
  });

  it('a process SIGKILLed mid-upload leaves its work in the spool; the next process with the same directory completes it', async () => {
    const c = await startCollector({ kind: 'stall-first', afterBytes: 1_000_000 });
    collectors.push(c);
    const dir = tmpDir('http-restart');
    const contents = writeEpisode(dir, 'ep-r', [{ name: 'heap.heapsnapshot', kind: 'heapsnapshot', bytes: 6 * 1024 * 1024, content: 'random' }]);
    const first = startHost(build, httpEnv(dir, c.url, { LEAK_AGENT_UPLOAD_TIMEOUT: '60s' }), { verdicts: ['ep-r'], wait: true });
    const firstPid = first.child.pid as number;
    // Kill it while the collector is in the middle of receiving the snapshot.
    while (c.stalledBytes() < 1_000_000) await new Promise((r) => setTimeout(r, 50));
    process.kill(firstPid, 'SIGKILL');
    const killed = await first.done;
    expect(killed.signal).toBe('SIGKILL');
    expect(c.stored.size).toBe(0);
    const spool = fs.readdirSync(path.join(dir, 'spool'));
    expect(spool.filter((n) => n.endsWith('.json'))).toHaveLength(2); // snapshot + manifest
    expect(spool.filter((n) => n.endsWith('.lock'))).toHaveLength(1); // held by a dead process

    // The successor raises no verdict of its own: it only finds the spool and finishes the work.
    const second = startHost(build, httpEnv(dir, c.url), { wait: true });
    const res = await second.done;
    expect(res.code, res.stderr).toBe(0);
    // Keys keep the pid of the process that recorded them.
    expectExactlyOnce(c, firstPid, 'ep-r', contents);
    expect(fs.readdirSync(path.join(dir, 'spool')).filter((n) => n !== 'delivered')).toEqual([]); // only the delivery record is left
    const log = readLog(path.join(dir, 'agent.log'));
    const done = log.filter((l) => l.event === 'upload.done');
    expect(done.map((d) => path.basename(String(d.source)))).toEqual(['heap.heapsnapshot', 'manifest.json']);
  });

  it('a collector that refuses the credentials: one upload.failed line, no retry storm, artifacts stay spooled', async () => {
    const c = await startCollector({ kind: 'forbid' });
    collectors.push(c);
    const dir = tmpDir('http-403');
    writeEpisode(dir, 'ep-403', [{ name: 'heap.heapsnapshot', kind: 'heapsnapshot', bytes: 50_000, content: 'text' }]);
    const run = startHost(build, httpEnv(dir, c.url), { verdicts: ['ep-403'], wait: true });
    const res = await run.done;
    expect(res.code, res.stderr).toBe(0);
    const failed = readLog(path.join(dir, 'agent.log')).filter((l) => l.event === 'upload.failed');
    expect(failed).toHaveLength(1);
    expect(failed[0]).toMatchObject({ willRetry: false, nextAttemptInMs: null });
    expect(String(failed[0]?.reason)).toMatch(/HTTP 403 \(bad token\)/);
    expect(c.requests).toBe(1);
    expect(spoolEntries(dir)).toHaveLength(2);
  });

  it('two processes sharing one spool never upload the same entry twice', async () => {
    const c = await startCollector({ kind: 'slow', chunkDelayMs: 2, answerDelayMs: 150 });
    collectors.push(c);
    const dir = tmpDir('http-shared');
    const files = [1, 2, 3, 4, 5].map((i) => ({ name: `part-${i}.json`, kind: 'series', bytes: 300_000, content: 'text' as const }));
    const contents = writeEpisode(dir, 'ep-s', files);
    const a = startHost(build, httpEnv(dir, c.url), { verdicts: ['ep-s'], wait: true });
    const logFile = path.join(dir, 'agent.log');
    while (readLog(logFile).filter((l) => l.event === 'upload.queued').length < 6) await new Promise((r) => setTimeout(r, 20));
    const b = startHost(build, httpEnv(dir, c.url), { wait: true });
    const [ra, rb] = await Promise.all([a.done, b.done]);
    expect(ra.code, ra.stderr).toBe(0);
    expect(rb.code, rb.stderr).toBe(0);
    expectExactlyOnce(c, a.child.pid as number, 'ep-s', contents);
    expect(readLog(logFile).filter((l) => l.event === 'upload.done')).toHaveLength(6);
  });
});
