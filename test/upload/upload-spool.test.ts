/**
 * The spool and the file sink in-process (real files, real gzip): bounded spool dropping the
 * oldest with one clear line each, file:// delivery, idempotent enqueue, a gone source.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { gunzipSync } from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import type { AgentLogger, LogFields } from '../../src/log/logger';
import { readUploadOptions } from '../../src/upload/options';
import { Uploader } from '../../src/upload/uploader';
import { cleanup, spoolEntries, tmpDir, writeEpisode, writeFile } from './helpers';

afterAll(() => cleanup());

function memoryLogger(): AgentLogger & { lines: (LogFields & { event: string })[] } {
  const lines: (LogFields & { event: string })[] = [];
  return { lines, log: (event, fields = {}) => lines.push({ event, ...fields }), close: () => undefined };
}

const identity = { service: 'checkout', host: 'pod-7f9c', pid: 4242 };
/** These tests are about transport: their stand-in snapshots are not real ones, so they go unredacted (redaction: upload-redact.test.ts). */
const TRANSPORT_ENV = { LEAK_AGENT_REDACT: 'off' };

describe('spool', () => {
  it('keeps within its bounds by dropping the oldest entries, with one clear line each', async () => {
    const dir = tmpDir('spool-bound');
    // A target that does not parse: nothing is shipped, everything is kept (up to the bounds).
    const { options } = readUploadOptions({ ...TRANSPORT_ENV, LEAK_AGENT_UPLOAD: 'gs://nope', LEAK_AGENT_UPLOAD_SPOOL_MAX_FILES: '3' });
    const logger = memoryLogger();
    const up = new Uploader({ dir, options, logger, identity });
    const files = [1, 2, 3, 4, 5].map((i) => {
      const p = path.join(dir, 'loose', `f${i}.json`);
      writeFile(p, 1000, 'text');
      return p;
    });
    for (const f of files) expect(await up.enqueue([f])).toBe(1);
    expect(await up.enqueue([files[4] as string])).toBe(0); // idempotent
    await up.whenSettled();
    const dropped = logger.lines.filter((l) => l.event === 'upload.dropped');
    expect(dropped.map((l) => path.basename(String(l.source)))).toEqual(['f1.json', 'f2.json']);
    expect(String(dropped[0]?.message)).toMatch(/spool full \(limits: 3 files/);
    const left = spoolEntries(dir).map((n) => JSON.parse(fs.readFileSync(path.join(dir, 'spool', n), 'utf8')).source);
    expect(left.map((s: string) => path.basename(s)).sort()).toEqual(['f3.json', 'f4.json', 'f5.json']);
    // The evidence itself is never deleted by the spool.
    for (const f of files) expect(fs.existsSync(f)).toBe(true);
    up.stop();
  });

  it('file:// sink: an episode lands gzip-compressed under the documented keys, manifest listing the URIs', async () => {
    const dir = tmpDir('spool-file');
    const out = tmpDir('spool-file-out');
    const contents = writeEpisode(dir, 'ep-f', [
      { name: 'heap.heapsnapshot', kind: 'heapsnapshot', bytes: 400_000, content: 'text' },
      { name: 'profile.heapprofile', kind: 'heapprofile', bytes: 50_000, content: 'random' },
    ]);
    const { options } = readUploadOptions({ ...TRANSPORT_ENV, LEAK_AGENT_UPLOAD: `file://${out}/` });
    const logger = memoryLogger();
    const up = new Uploader({ dir, options, logger, identity });
    expect(await up.enqueue(path.join(dir, 'episodes', 'ep-f'))).toBe(3);
    await up.whenSettled();
    const folder = path.join(out, 'checkout/pod-7f9c/20261125T100000Z-4242-ep-f');
    expect(fs.readdirSync(folder).sort()).toEqual(['heap.heapsnapshot.gz', 'manifest.json.gz', 'profile.heapprofile.gz']);
    for (const [name, data] of contents) expect(gunzipSync(fs.readFileSync(path.join(folder, `${name}.gz`))).equals(data)).toBe(true);
    const manifest = JSON.parse(gunzipSync(fs.readFileSync(path.join(folder, 'manifest.json.gz'))).toString());
    for (const f of manifest.files) expect(f.uri).toBe(`file://${folder}/${path.basename(f.path)}.gz`);
    expect(logger.lines.filter((l) => l.event === 'upload.done')).toHaveLength(3);
    expect(fs.readdirSync(path.join(dir, 'spool')).filter((n) => n !== 'delivered')).toEqual([]); // only the delivery record is left
    up.stop();
  });

  it('a second verdict of the same episode spools nothing twice', async () => {
    const dir = tmpDir('spool-twice');
    writeEpisode(dir, 'ep-t', [{ name: 'heap.heapsnapshot', kind: 'heapsnapshot', bytes: 10_000, content: 'text' }]);
    const up = new Uploader({ dir, options: readUploadOptions({ ...TRANSPORT_ENV, LEAK_AGENT_UPLOAD: 'gs://not-yet' }).options, logger: memoryLogger(), identity });
    const episodeDir = path.join(dir, 'episodes', 'ep-t');
    expect(await up.enqueue({ episodeId: 'ep-t', episodeDir, episodeTime: Date.now(), files: [] })).toBe(2);
    expect(await up.enqueue({ episodeId: 'ep-t', episodeDir, episodeTime: Date.now() + 5_000, files: [] })).toBe(0);
    expect(spoolEntries(dir)).toHaveLength(2);
    up.stop();
  });

  it('a source deleted before upload gives one upload.failed line and leaves nothing behind', async () => {
    const dir = tmpDir('spool-gone');
    const out = tmpDir('spool-gone-out');
    const p = path.join(dir, 'loose', 'gone.json');
    writeFile(p, 1000, 'text');
    // No sink yet (bad target) so the entry waits; then a process with a good target finds the source gone.
    const waiting = new Uploader({ dir, options: readUploadOptions({ ...TRANSPORT_ENV, LEAK_AGENT_UPLOAD: 'gs://x' }).options, logger: memoryLogger(), identity });
    await waiting.enqueue([p]);
    waiting.stop();
    fs.rmSync(p);
    const logger = memoryLogger();
    const up = new Uploader({ dir, options: readUploadOptions({ ...TRANSPORT_ENV, LEAK_AGENT_UPLOAD: `file://${out}` }).options, logger, identity });
    up.start();
    await up.whenSettled();
    const failed = logger.lines.filter((l) => l.event === 'upload.failed');
    expect(failed).toHaveLength(1);
    expect(failed[0]).toMatchObject({ willRetry: false });
    expect(String(failed[0]?.reason)).toMatch(/is gone/);
    expect(spoolEntries(dir)).toEqual([]);
    up.stop();
  });
});
