/**
 * The CLI's contract for bad input and for machines: a clear one-line error and a non-zero exit
 * (never a hang or a stack trace), and a clean JSON document on stdout with progress on stderr.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as zlib from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureBuilt, leakySnapshots, runCli } from './cli-helpers';

let dir: string;
let before: string;
let after: string;

beforeAll(() => {
  ensureBuilt();
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'la-cli-'));
  [before, after] = leakySnapshots('map', dir);
});

afterAll(() => {
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

function write(name: string, content: string | Buffer): string {
  const p = path.join(dir, name);
  fs.writeFileSync(p, content);
  return p;
}

function expectCleanFailure(args: string[], pattern: RegExp): void {
  const r = runCli(args, 30_000);
  expect(r.error, 'the CLI must not hang').toBeUndefined();
  expect(r.signal).toBeNull();
  expect(r.status).toBe(2);
  expect(r.stdout).toBe('');
  const lines = r.stderr.trim().split('\n').filter((l) => l.startsWith('leak-agent:'));
  expect(lines).toHaveLength(1);
  expect(lines[0]).toMatch(pattern);
  expect(r.stderr).not.toMatch(/\n\s+at /); // no stack trace
}

describe('leak-agent analyze: bad input', () => {
  it('empty and whitespace-only files', () => {
    expectCleanFailure(['analyze', write('empty.heapsnapshot', ''), '--json'], /empty file/);
    expectCleanFailure(['analyze', write('blank.heapsnapshot', '\n\n'), '--json'], /empty file/);
  });

  it('a snapshot cut short (as when the writer was OOM-killed), plain and gzipped', () => {
    const full = fs.readFileSync(after);
    expectCleanFailure(['analyze', write('cut.heapsnapshot', full.subarray(0, Math.floor(full.length / 2))), '--json'], /truncated snapshot/);
    const gz = zlib.gzipSync(full);
    expectCleanFailure(['analyze', write('cut.heapsnapshot.gz', gz.subarray(0, Math.floor(gz.length / 2))), '--json'], /truncated|gzip/);
  });

  it('corrupted bytes in the middle of the arrays', () => {
    const full = Buffer.from(fs.readFileSync(after));
    const at = full.indexOf('"edges"') + 1000;
    full.write('@@garbage@@', at);
    expectCleanFailure(['analyze', write('corrupt.heapsnapshot', full), '--json'], /unexpected '@'/);
  });

  it('wrong meta: a node field the analysis needs is missing', () => {
    const text = fs.readFileSync(after, 'utf8').replace('"self_size"', '"shallow"');
    expectCleanFailure(['analyze', write('meta.heapsnapshot', text), '--json'], /wrong meta: snapshot\.meta\.node_fields lacks "self_size"/);
  });

  it('not a snapshot at all, a missing file, and bad usage', () => {
    expectCleanFailure(['analyze', write('page.heapsnapshot', '<!doctype html><p>404</p>')], /not a heap snapshot/);
    expectCleanFailure(['analyze', path.join(dir, 'nope.heapsnapshot')], /cannot read .*ENOENT/);
    expectCleanFailure(['analyze'], /exactly one snapshot/);
    expectCleanFailure(['analyze', after, '--frobnicate'], /unknown option --frobnicate/);
    expectCleanFailure(['explode'], /unknown command "explode"/);
  });
});

describe('leak-agent analyze --json', () => {
  it('prints only JSON on stdout, with the documented suspect shape; progress goes to stderr', () => {
    const r = runCli(['analyze', after, '--baseline', before, '--json']);
    expect(r.status).toBe(0);
    expect(r.stderr).toMatch(/parsing|dominators/);
    const doc = JSON.parse(r.stdout) as Record<string, unknown>;
    expect(doc).toMatchObject({ mode: 'diff', snapshot: after, baselines: [before] });
    expect(doc.nodeCount).toBeGreaterThan(1000);
    expect(Array.isArray(doc.topConstructors)).toBe(true);
    const suspects = doc.suspects as Record<string, unknown>[];
    expect(suspects.length).toBeGreaterThan(0);
    for (const s of suspects) {
      expect(typeof s.name).toBe('string');
      expect(typeof s.countDelta).toBe('number');
      expect(typeof s.sizeDelta).toBe('number');
      expect(typeof s.retainedSize).toBe('number');
      expect(typeof s.explanation).toBe('string');
      expect(Array.isArray(s.path)).toBe(true);
      expect((s.path as unknown[]).every((p) => typeof p === 'string')).toBe(true);
      expect((s.path as string[])[0]).toBe('(GC roots)');
    }
  });

  it('warns on stderr (and in the JSON) when the baseline is not older than the snapshot', () => {
    const r = runCli(['analyze', before, '--baseline', after, '--json']);
    expect(r.status).toBe(0);
    expect(r.stderr).toMatch(/warning: baseline .* higher object ids/);
    expect(JSON.parse(r.stdout).warnings).toHaveLength(1);
  });

  it('reads gzipped snapshots the same way', () => {
    const gz = write('after.heapsnapshot.gz', zlib.gzipSync(fs.readFileSync(after)));
    const plain = JSON.parse(runCli(['analyze', after, '--json', '--quiet']).stdout);
    const zipped = JSON.parse(runCli(['analyze', gz, '--json', '--quiet']).stdout);
    expect(zipped.suspects).toEqual(plain.suspects);
  });
});

describe('leak-agent report: malformed episode files', () => {
  // A valid episode without snapshots or profile: the report notes what is missing and renders.
  const verdict = {
    kind: 'leak', memory: 'old_space', episodeId: 'ep-1', detectedAt: 1_790_000_000_000, growthBytesPerSec: 1000,
    growthLowerBytesPerSec: 900, growthUpperBytesPerSec: 1100, confidence: 0.95, pValue: 0.001, windowMs: 60_000,
    points: 30, currentBytes: 5e7, limitBytes: 5e8, limitSource: 'heap', timeToLimitSec: 450_000,
    timeToLimitLowerSec: 400_000, timeToLimitUpperSec: 500_000,
  };
  const valid = (): Record<string, unknown> => ({
    schema: 'leak-agent/episode@1', episodeId: 'ep-1', createdAt: '2026-12-02T00:00:00.000Z', updatedAt: '2026-12-02T00:00:00.000Z',
    service: { name: 'svc', version: null }, process: { pid: 1, node: 'v20', host: 'h', argv0: 'node' }, container: null,
    verdict: { ...verdict }, files: [],
  });
  let n = 0;
  /** `manifest` as JSON, or a Buffer written as it is. */
  function episodeWith(manifest: unknown, series?: unknown): string {
    const ep = path.join(dir, `episode-${n++}`);
    fs.mkdirSync(ep);
    fs.writeFileSync(path.join(ep, 'manifest.json'), Buffer.isBuffer(manifest) ? manifest : JSON.stringify(manifest));
    if (series !== undefined) fs.writeFileSync(path.join(ep, 'series.json'), JSON.stringify(series));
    return ep;
  }
  const manifestOf = (ep: string): string => path.join(ep, 'manifest.json').replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');

  it('a manifest that is not an object, or not JSON', () => {
    for (const bad of [null, [], 'a string', 42]) {
      const ep = episodeWith(bad);
      expectCleanFailure(['report', ep], new RegExp(`${manifestOf(ep)}: the manifest is .*, expected a JSON object`));
    }
    const ep = episodeWith(Buffer.from('{"schema": "leak-agent/episode@1", '));
    expectCleanFailure(['report', ep], new RegExp(`manifest ${manifestOf(ep)} is not valid JSON`));
  });

  it('a manifest without a verdict, or with a verdict of unknown kind', () => {
    const none = valid();
    delete none.verdict;
    const ep1 = episodeWith(none);
    expectCleanFailure(['report', ep1], new RegExp(`${manifestOf(ep1)}: "verdict" is missing, expected an object with "kind" "leak", "spike", "episode-end"`));
    const odd = valid();
    odd.verdict = { kind: 'mystery' };
    const ep2 = episodeWith(odd);
    expectCleanFailure(['report', ep2], new RegExp(`${manifestOf(ep2)}: unknown "verdict.kind", expected "leak", "spike", "episode-end"`));
  });

  it('a manifest whose schema or files list is wrong', () => {
    const schema = { ...valid(), schema: 'something/else' };
    const ep1 = episodeWith(schema);
    expectCleanFailure(['report', ep1], new RegExp(`${manifestOf(ep1)}: unknown "schema", expected "leak-agent/episode@1"`));
    const cases: [unknown, RegExp][] = [
      [{ a: 1 }, /"files" is an? object, expected an array of evidence files/],
      [[null], /files\[0\] is null, expected an object with "kind" and "path"/],
      [[{ kind: 7, path: '/x' }], /files\[0\]\.kind is a number, expected a string/],
      [[{ kind: 'heapsnapshot', path: 42 }], /files\[0\]\.path is a number, expected a file path/],
      [[{ kind: 'heapsnapshot', path: '' }], /files\[0\]\.path is empty, expected a file path/],
      [[{ kind: 'series', path: '/x', uri: {} }], /files\[0\]\.uri is an? object, expected a string or no "uri"/],
    ];
    for (const [files, pattern] of cases) {
      const ep = episodeWith({ ...valid(), files });
      expectCleanFailure(['report', ep], new RegExp(`${manifestOf(ep)}: ${pattern.source}`));
    }
  });

  it('display fields of the wrong type and a malformed series still give a report, with notes', () => {
    const m = valid();
    m.verdict = { ...verdict, pValue: 'tiny', points: null, confidence: {} };
    const profile = write('odd.heapprofile', JSON.stringify({ head: { callFrame: {}, selfSize: 0, children: [null] } }));
    m.files = [{ kind: 'heapprofile', path: profile, bytes: 1, sha256: 'x' }];
    const ep = episodeWith(m, null);
    const out = path.join(ep, 'report.html');
    const r = runCli(['report', ep, '-o', out, '--quiet']);
    expect(r.status, r.stderr).toBe(0);
    const html = fs.readFileSync(out, 'utf8');
    expect(html).toContain('manifest fields not of the expected type, shown as —: verdict.confidence, verdict.pValue, verdict.points');
    expect(html).toMatch(/series\.json: the series is null, expected a JSON object/);
    expect(html).toMatch(/odd\.heapprofile is not a sampling heap profile: a node is not an object/);
  });

  it('an episode path that is not a directory, and an output that cannot be written', () => {
    const file = write('not-a-dir', 'x');
    expectCleanFailure(['report', file], /not-a-dir is not an episode directory/);
    const ep = episodeWith(valid());
    expectCleanFailure(['report', ep, '-o', path.join(dir, 'missing-dir', 'r.html')], /ENOENT.*missing-dir/);
  });
});

describe('leak-agent analyze: the line names the file', () => {
  it('a corrupt baseline is named as the baseline, not the snapshot', () => {
    const bad = write('bad-baseline.heapsnapshot', fs.readFileSync(after, 'utf8').replace('"self_size"', '"shallow"'));
    expectCleanFailure(['analyze', after, '--baseline', bad], /bad-baseline\.heapsnapshot: wrong meta/);
    expectCleanFailure(['analyze', write('cut-after.heapsnapshot', '{"snapshot":')], /cut-after\.heapsnapshot: truncated snapshot/);
  });
});
