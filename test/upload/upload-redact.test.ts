/**
 * LEAK_AGENT_REDACT in a real host: a real heap snapshot whose process held credentials from its
 * environment goes to a file:// target redacted by default (constructor names kept, the local
 * evidence untouched), as written with `off`, and never at all when it cannot be redacted. A bad
 * value is one clear line and the default.
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadSnapshot } from '../../src/analysis/load';
import { buildPrivate, cleanup, killHosts, readLog, spoolEntries, startHost, tmpDir } from './helpers';

let build: string;
let snapshot: Buffer;
const DB_PASSWORD = 'pg-' + 'Zq81hHs0vLw3';
const API_TOKEN = 'tok_' + 'live_9JkQ2mXbR7';

beforeAll(async () => {
  build = await buildPrivate();
  const file = path.join(tmpDir('redact-src'), 'heap.heapsnapshot');
  const program = `
    class OrderCache { constructor() { this.entries = new Map(); } }
    globalThis.cache = new OrderCache();
    globalThis.config = { db: process.env.DB_PASSWORD, token: process.env.API_TOKEN };
    require('v8').writeHeapSnapshot(process.argv[1]);`;
  const r = spawnSync(process.execPath, ['-e', program, file], { env: { PATH: process.env.PATH ?? '', DB_PASSWORD, API_TOKEN }, encoding: 'utf8', timeout: 60_000 });
  expect(r.status, r.stderr).toBe(0);
  snapshot = fs.readFileSync(file);
  expect(snapshot.toString()).toContain(DB_PASSWORD);
});

afterAll(() => {
  killHosts();
  cleanup(build);
});

/** An episode holding the real snapshot, as the evidence stage leaves it. */
function episodeWith(dir: string, data: Buffer): string {
  const epDir = path.join(dir, 'episodes', 'ep-r');
  fs.mkdirSync(epDir, { recursive: true, mode: 0o700 });
  const file = path.join(epDir, 'heap-1.heapsnapshot');
  fs.writeFileSync(file, data, { mode: 0o600 });
  const manifest = {
    schema: 'leak-agent/episode@1', episodeId: 'ep-r', createdAt: '2026-11-25T10:00:00.000Z', updatedAt: '2026-11-25T10:00:00.000Z',
    service: { name: 'checkout', version: null }, process: { pid: 1, node: process.version, host: 'pod-7f9c', argv0: 'node' },
    container: null, verdict: { kind: 'leak', episodeId: 'ep-r' },
    files: [{ kind: 'heapsnapshot', path: file, bytes: data.length, sha256: createHash('sha256').update(data).digest('hex') }],
  };
  fs.writeFileSync(path.join(epDir, 'manifest.json'), JSON.stringify(manifest));
  return file;
}

async function ship(extra: Record<string, string>, data = snapshot): Promise<{ dir: string; out: string; local: string; sent: Buffer | undefined; log: ReturnType<typeof readLog> }> {
  const dir = tmpDir('redact');
  const out = tmpDir('redact-out');
  const local = episodeWith(dir, data);
  const run = startHost(build, { LEAK_AGENT_DIR: dir, LEAK_AGENT_LOG: path.join(dir, 'agent.log'), LEAK_AGENT_UPLOAD: `file://${out}`, ...extra }, { verdicts: ['ep-r'], wait: true });
  const res = await run.done;
  expect(res.code, res.stderr).toBe(0);
  const find = (d: string): string | undefined => {
    for (const n of fs.readdirSync(d)) {
      const p = path.join(d, n);
      if (fs.statSync(p).isDirectory()) {
        const f = find(p);
        if (f) return f;
      } else if (n === 'heap-1.heapsnapshot.gz') return p;
    }
    return undefined;
  };
  const sent = find(out);
  return { dir, out, local, sent: sent ? gunzipSync(fs.readFileSync(sent)) : undefined, log: readLog(path.join(dir, 'agent.log')) };
}

describe('LEAK_AGENT_REDACT', () => {
  it('by default the uploaded snapshot has no string contents: the credentials are gone, the names stay, the local file is untouched', async () => {
    const r = await ship({});
    expect(r.sent).toBeDefined();
    const text = (r.sent as Buffer).toString();
    expect(text).not.toContain(DB_PASSWORD);
    expect(text).not.toContain(API_TOKEN);
    expect(text).toContain('OrderCache');
    // The graph the analysis reads is the same: nodes and edges byte for byte.
    const sentFile = path.join(r.out, 'sent.heapsnapshot');
    fs.writeFileSync(sentFile, r.sent as Buffer);
    const [a, b] = await Promise.all([loadSnapshot(r.local), loadSnapshot(sentFile)]);
    expect(b.nodeCount).toBe(a.nodeCount);
    expect(Buffer.from(b.nodes.buffer, b.nodes.byteOffset, b.nodes.byteLength).equals(Buffer.from(a.nodes.buffer, a.nodes.byteOffset, a.nodes.byteLength))).toBe(true);
    expect(Buffer.from(b.edges.buffer, b.edges.byteOffset, b.edges.byteLength).equals(Buffer.from(a.edges.buffer, a.edges.byteOffset, a.edges.byteLength))).toBe(true);
    expect(fs.readFileSync(r.local).equals(snapshot)).toBe(true);
    expect(r.log.find((l) => l.event === 'upload.done' && String(l.source).endsWith('.heapsnapshot'))).toMatchObject({ redaction: 'strings' });
    expect(fs.readdirSync(path.join(r.dir, 'spool')).filter((n) => n !== 'delivered')).toEqual([]); // only the delivery record is left
  });

  it('off ships the snapshot as written', async () => {
    const r = await ship({ LEAK_AGENT_REDACT: 'off' });
    expect(r.sent?.equals(snapshot)).toBe(true);
  });

  it('all removes every string, names included', async () => {
    const r = await ship({ LEAK_AGENT_REDACT: 'all' });
    const text = (r.sent as Buffer).toString();
    expect(text).not.toContain(DB_PASSWORD);
    expect(text).not.toContain('OrderCache');
  });

  it('a bad value: one clear line naming it, and the default', async () => {
    const r = await ship({ LEAK_AGENT_REDACT: 'yes please' });
    const errors = r.log.filter((l) => l.event === 'agent.error' && l.variable === 'LEAK_AGENT_REDACT');
    expect(errors).toHaveLength(1);
    expect(String(errors[0]?.message)).toMatch(/LEAK_AGENT_REDACT.*yes please.*one of off, strings, all.*strings/);
    expect((r.sent as Buffer).toString()).not.toContain(DB_PASSWORD);
  });

  it('a snapshot that cannot be redacted is never sent: one upload.failed line, it stays in the spool', async () => {
    const r = await ship({}, snapshot.subarray(0, 4000));
    expect(r.sent).toBeUndefined();
    const failed = r.log.filter((l) => l.event === 'upload.failed');
    expect(failed).toHaveLength(1);
    expect(failed[0]).toMatchObject({ willRetry: false });
    expect(String(failed[0]?.reason)).toMatch(/cannot redact .*heap-1\.heapsnapshot .*not uploaded unredacted/);
    expect(spoolEntries(r.dir)).toHaveLength(2);
    expect(fs.readdirSync(path.join(r.dir, 'spool')).some((n) => n.includes('redacted'))).toBe(false);
  });
});
