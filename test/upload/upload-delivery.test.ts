/**
 * Delivery guarantees of the upload stage, in-process against real sinks (a loopback HTTP collector,
 * a file:// directory) with a real Episode writing its evidence as the capture stage does:
 * - every artifact reaches the sink once per episode, also when the episode gains files later (the
 *   pair's second snapshot and profile) and its manifest is rewritten, and across a new process;
 * - the file sink's copies are private (0600 files in 0700 directories, whatever the umask).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { LeakVerdict } from '../../src/detect/verdict';
import { Episode } from '../../src/evidence/episode';
import type { AgentLogger, LogFields } from '../../src/log/logger';
import { readUploadOptions } from '../../src/upload/options';
import { Uploader } from '../../src/upload/uploader';
import { startCollector, type Collector } from './collector';
import { cleanup, tmpDir } from './helpers';

const collectors: Collector[] = [];
afterAll(async () => {
  await Promise.all(collectors.map((c) => c.close()));
  cleanup();
});

function memoryLogger(): AgentLogger & { lines: (LogFields & { event: string })[] } {
  const lines: (LogFields & { event: string })[] = [];
  return { lines, log: (event, fields = {}) => lines.push({ event, ...fields }), close: () => undefined };
}

const identity = { service: 'checkout', host: 'pod-7f9c', pid: 4242 };
/** These tests are about transport: their stand-in snapshots are not real ones, so they go unredacted (redaction: upload-redact.test.ts). */
const TRANSPORT_ENV = { LEAK_AGENT_REDACT: 'off' };
const service = { name: 'checkout', version: null };
const verdict = { kind: 'leak', memory: 'old_space', episodeId: 'ep-pair', detectedAt: Date.parse('2026-11-25T10:00:00Z') } as unknown as LeakVerdict;

/** Writes an episode the way the capture stage does for a leak verdict: profile pair, snapshot, series, manifest. */
async function firstEvidence(root: string): Promise<Episode> {
  const ep = new Episode(root, verdict, service, undefined);
  await ep.writeFile('heapprofile', 'allocations-1.heapprofile', '{"head":{}}'.repeat(500));
  await ep.writeFile('pprof', 'allocations-1.pb.gz', Buffer.alloc(3000, 7));
  await ep.writeFile('heapsnapshot', 'heap-1.heapsnapshot', '{"snapshot":{}}'.repeat(2000));
  await ep.writeFile('series', 'series.json', '{"samples":[]}');
  ep.writeManifest();
  return ep;
}

/** The pair's second snapshot and profile, written later in the same episode (the manifest is rewritten from memory). */
async function pairEvidence(ep: Episode): Promise<void> {
  await ep.writeFile('heapprofile', 'allocations-2.heapprofile', '{"head":{"x":1}}'.repeat(500));
  await ep.writeFile('pprof', 'allocations-2.pb.gz', Buffer.alloc(3000, 9));
  await ep.writeFile('heapsnapshot', 'heap-2.heapsnapshot', '{"snapshot":{"n":2}}'.repeat(2000));
  ep.writeManifest();
}

const puts = (c: Collector): Map<string, number> => new Map([...c.stored].map(([k, v]) => [path.basename(k), v.length]));

describe('delivery', () => {
  it('an episode that gains its pair later: every evidence file reaches an HTTP sink exactly once', async () => {
    const c = await startCollector({ kind: 'ok' });
    collectors.push(c);
    const dir = tmpDir('delivery-http');
    const { options } = readUploadOptions({ ...TRANSPORT_ENV, LEAK_AGENT_UPLOAD: c.url });
    const up = new Uploader({ dir, options, logger: memoryLogger(), identity });
    const ep = await firstEvidence(dir);
    // As the policy ships: once after the verdict, once more when the episode gained files.
    await up.enqueue({ episodeId: ep.id, episodeDir: ep.dir, episodeTime: verdict.detectedAt, files: [] });
    await up.whenSettled();
    await pairEvidence(ep);
    await up.enqueue({ episodeId: ep.id, episodeDir: ep.dir, files: [] });
    await up.whenSettled();
    up.stop();

    const got = puts(c);
    for (const name of ['allocations-1.heapprofile', 'allocations-1.pb.gz', 'heap-1.heapsnapshot', 'series.json', 'allocations-2.heapprofile', 'allocations-2.pb.gz', 'heap-2.heapsnapshot']) {
      expect(got.get(`${name}.gz`), name).toBe(1);
    }
    // The manifest is the episode's index: sent again only because its content changed (it lists the pair now).
    expect(got.get('manifest.json.gz')).toBe(2);
    expect(c.requests).toBe(9);
  });

  it('a new process re-shipping a delivered episode sends nothing again; the delivery record says what arrived where', async () => {
    const c = await startCollector({ kind: 'ok' });
    collectors.push(c);
    const dir = tmpDir('delivery-restart');
    const { options } = readUploadOptions({ ...TRANSPORT_ENV, LEAK_AGENT_UPLOAD: c.url });
    const ep = await firstEvidence(dir);
    const first = new Uploader({ dir, options, logger: memoryLogger(), identity });
    await first.enqueue({ episodeId: ep.id, episodeDir: ep.dir, files: [] });
    await first.whenSettled();
    first.stop();
    expect(c.requests).toBe(5);
    // The capture stage rewrites the manifest from its own copy (without the URIs the uploader recorded).
    ep.writeManifest();

    const logger = memoryLogger();
    const second = new Uploader({ dir, options, logger, identity });
    second.start();
    expect(await second.enqueue({ episodeId: ep.id, episodeDir: ep.dir, files: [] })).toBe(0);
    await second.whenSettled();
    second.stop();
    expect(c.requests).toBe(5);
    expect([...puts(c).values()].every((n) => n === 1)).toBe(true);
    // The record lives in the spool; the episode folder holds only what its manifest lists.
    const listed = new Set([...ep.files().map((f) => path.basename(f.path)), 'manifest.json']);
    expect(fs.readdirSync(ep.dir).filter((n) => !listed.has(n))).toEqual([]);
    const records = fs.readdirSync(path.join(dir, 'spool', 'delivered'));
    expect(records).toHaveLength(1);
    const delivered = JSON.parse(fs.readFileSync(path.join(dir, 'spool', 'delivered', records[0] as string), 'utf8'));
    expect(delivered.episodeDir).toBe(ep.dir);
    expect(Object.keys(delivered.objects)).toHaveLength(5);
    for (const [key, o] of Object.entries(delivered.objects) as [string, { uri: string; sha256: string | null; filesDigest?: string }][]) {
      expect(o.uri).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/ingest\/checkout\/pod-7f9c\//);
      if (key.endsWith('manifest.json.gz')) expect(o.filesDigest).toMatch(/^[0-9a-f]{64}$/);
      else expect(o.sha256).toMatch(/^[0-9a-f]{64}$/);
    }
  });
});

describe('file:// sink', () => {
  it('writes private copies: 0600 files in 0700 directories it creates, whatever the umask', async () => {
    const dir = tmpDir('delivery-mode');
    const out = path.join(tmpDir('delivery-mode-out'), 'evidence');
    const ep = await firstEvidence(dir);
    const { options } = readUploadOptions({ ...TRANSPORT_ENV, LEAK_AGENT_UPLOAD: `file://${out}` });
    const old = process.umask(0);
    try {
      const up = new Uploader({ dir, options, logger: memoryLogger(), identity });
      await up.enqueue({ episodeId: ep.id, episodeDir: ep.dir, files: [] });
      await up.whenSettled();
      up.stop();
    } finally {
      process.umask(old);
    }
    const walk = (d: string): string[] => fs.readdirSync(d).flatMap((n) => {
      const p = path.join(d, n);
      return fs.statSync(p).isDirectory() ? [p, ...walk(p)] : [p];
    });
    const all = [out, ...walk(out)];
    expect(all.filter((p) => p.endsWith('.gz'))).toHaveLength(5);
    for (const p of all) {
      const mode = fs.statSync(p).mode & 0o777;
      expect(mode.toString(8), p).toBe(fs.statSync(p).isDirectory() ? '700' : '600');
    }
  });

  it('never changes the mode of a destination directory it did not create', async () => {
    const dir = tmpDir('delivery-keep');
    const out = tmpDir('delivery-keep-out');
    fs.chmodSync(out, 0o755);
    const ep = await firstEvidence(dir);
    const up = new Uploader({ dir, options: readUploadOptions({ ...TRANSPORT_ENV, LEAK_AGENT_UPLOAD: `file://${out}` }).options, logger: memoryLogger(), identity });
    await up.enqueue({ episodeId: ep.id, episodeDir: ep.dir, files: [] });
    await up.whenSettled();
    up.stop();
    expect((fs.statSync(out).mode & 0o777).toString(8)).toBe('755');
    expect(fs.readdirSync(out)).toEqual(['checkout']);
  });
});

describe('a process that died before it could spool a file', () => {
  it('the next process finds the file in the manifest and delivers it, into the episode\'s folder, once', async () => {
    const c = await startCollector({ kind: 'ok' });
    collectors.push(c);
    const dir = tmpDir('delivery-resume');
    const { options } = readUploadOptions({ ...TRANSPORT_ENV, LEAK_AGENT_UPLOAD: c.url });
    const ep = await firstEvidence(dir);
    const first = new Uploader({ dir, options, logger: memoryLogger(), identity });
    await first.enqueue({ episodeId: ep.id, episodeDir: ep.dir, episodeTime: verdict.detectedAt, files: [] });
    await first.whenSettled();
    first.stop();
    // The pair is written and listed in the manifest, then the process is gone before it ships it.
    await pairEvidence(ep);

    const second = new Uploader({ dir, options, logger: memoryLogger(), identity: { ...identity, pid: 5151 } });
    second.start();
    await second.whenSettled();
    second.stop();
    const got = puts(c);
    for (const name of ['heap-1.heapsnapshot', 'heap-2.heapsnapshot', 'allocations-2.heapprofile', 'allocations-2.pb.gz']) expect(got.get(`${name}.gz`), name).toBe(1);
    expect(got.get('manifest.json.gz')).toBe(2);
    // One folder for the whole episode: the first process's.
    expect(new Set([...c.stored.keys()].map((k) => path.dirname(k))).size).toBe(1);
    expect([...c.stored.keys()][0]).toContain('-4242-');
  });
});
