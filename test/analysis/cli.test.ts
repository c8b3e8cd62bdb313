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
