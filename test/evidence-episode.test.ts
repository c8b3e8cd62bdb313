/**
 * The episode's manifest as the one record of what exists: a file written is listed with its size
 * and sha256 before the write returns, and what the uploader (URIs) and retention (deletions)
 * recorded in the file meanwhile survives the episode's next rewrite.
 */
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { LeakVerdict } from '../src/detect/verdict';
import { Episode } from '../src/evidence/episode';
import type { EpisodeManifest } from '../src/evidence/manifest-types';
import { recordUri } from '../src/upload/manifest-update';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'evidence-episode-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

const VERDICT: LeakVerdict = {
  kind: 'leak', memory: 'old_space', episodeId: 'ep-1', detectedAt: 0, growthBytesPerSec: 1, growthLowerBytesPerSec: 1,
  growthUpperBytesPerSec: 1, confidence: 0.95, pValue: 0.01, windowMs: 60_000, points: 10, currentBytes: 1, limitBytes: 2,
  limitSource: 'heap', timeToLimitSec: null, timeToLimitLowerSec: null, timeToLimitUpperSec: null,
};
const read = (e: Episode): EpisodeManifest => JSON.parse(fs.readFileSync(e.manifestPath, 'utf8'));

describe('episode manifest', () => {
  it('lists a file with its size and sha256 when the write returns', () => {
    const episode = new Episode(path.join(tmp, 'a'), VERDICT, { name: 'svc', version: null }, undefined);
    expect(read(episode).files).toEqual([]);
    episode.writeFile('series', 'series.json', '{"x":1}\n');
    const [entry] = read(episode).files;
    expect(entry).toEqual({ kind: 'series', path: episode.pathFor('series.json'), bytes: 8, sha256: createHash('sha256').update('{"x":1}\n').digest('hex') });
  });

  it('a file being written is listed under writing, then under files once complete', () => {
    const episode = new Episode(path.join(tmp, 'b'), VERDICT, { name: 'svc', version: null }, undefined);
    const file = episode.pathFor('heap-1.heapsnapshot');
    episode.beginFile('heapsnapshot', file);
    expect(read(episode)).toMatchObject({ files: [], writing: [{ kind: 'heapsnapshot', path: file }] });
    fs.writeFileSync(file, 'snapshot');
    episode.completeFile('heapsnapshot', file, 8, 'abc');
    expect(read(episode)).toMatchObject({ files: [{ path: file, bytes: 8, sha256: 'abc' }], writing: [] });
  });

  it('keeps the URI the uploader recorded when it adds the next file', async () => {
    const episode = new Episode(path.join(tmp, 'c'), VERDICT, { name: 'svc', version: null }, undefined);
    episode.writeFile('heapprofile', 'allocations-1.heapprofile', '{}');
    expect(await recordUri(episode.dir, episode.pathFor('allocations-1.heapprofile'), 's3://b/k/allocations-1.heapprofile')).toBe(true);
    episode.writeFile('pprof', 'allocations-1.pb.gz', 'gz');
    const files = read(episode).files;
    expect(files.map((f) => [path.basename(f.path), f.uri ?? null])).toEqual([
      ['allocations-1.heapprofile', 's3://b/k/allocations-1.heapprofile'],
      ['allocations-1.pb.gz', null],
    ]);
  });

  it('a file the episode adds while the uploader records a URI stays listed (no stale rewrite)', async () => {
    for (let i = 0; i < 20; i++) {
      const episode = new Episode(path.join(tmp, `race-${i}`), VERDICT, { name: 'svc', version: null }, undefined);
      episode.writeFile('heapprofile', 'allocations-1.heapprofile', '{}');
      const recording = recordUri(episode.dir, episode.pathFor('allocations-1.heapprofile'), 's3://b/k/allocations-1.heapprofile');
      // Let the uploader's read-modify-write get under way, then the episode writes its next file.
      for (let k = 0; k < i % 5; k++) await new Promise((r) => setImmediate(r));
      episode.writeFile('pprof', 'allocations-1.pb.gz', 'gz');
      await recording;
      // The file on disk, as a reader (the CLI, the uploader, a crash) sees it now.
      const files = read(episode).files.map((f) => [path.basename(f.path), f.uri ?? null]);
      expect(files, `iteration ${i}`).toEqual([
        ['allocations-1.heapprofile', 's3://b/k/allocations-1.heapprofile'],
        ['allocations-1.pb.gz', null],
      ]);
    }
  });

  it('does not list again a file retention deleted and recorded', () => {
    const episode = new Episode(path.join(tmp, 'd'), VERDICT, { name: 'svc', version: null }, undefined);
    const file = episode.pathFor('heap-1.heapsnapshot');
    episode.completeFile('heapsnapshot', file, 8, 'abc');
    const onDisk = read(episode);
    onDisk.files = [];
    onDisk.deleted = [{ path: file, at: new Date().toISOString(), why: 'disk budget retention' }];
    fs.writeFileSync(episode.manifestPath, JSON.stringify(onDisk));
    episode.writeFile('series', 'series.json', '{}');
    expect(read(episode).files.map((f) => path.basename(f.path))).toEqual(['series.json']);
    expect(read(episode).deleted).toMatchObject([{ path: file }]);
  });
});
