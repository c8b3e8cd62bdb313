/**
 * Suspects are groups that grew (net, between snapshots), not groups with new objects: a real
 * program with a refresh-in-place cache, a stable cache and a growing registry writes snapshots
 * with v8.writeHeapSnapshot; the CLI must name only the registry, with its net counts, list the
 * refreshed cache as churn, and with three snapshots drop a group that stopped growing.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureBuilt, runCli } from './cli-helpers';

interface Growth { countDelta: number; sizeDelta: number }
interface Entry extends Growth {
  name: string;
  retainedSize: number;
  newObjects: number;
  freedObjects: number;
  path: string[];
  intervals?: Growth[];
  includes?: { name: string }[];
}
interface Report {
  snapshotCount: number;
  basis: string;
  suspects: Entry[];
  churn: Entry[];
  unconfirmed: Entry[];
}

let dir: string;
const snap = (name: string): string => path.join(dir, name);

function program(mode: 'pair' | 'triple', files: string[]): void {
  const r = spawnSync(process.execPath, [path.join(__dirname, 'fixtures/churn-program.js'), mode, ...files], { encoding: 'utf8', timeout: 60_000 });
  if (r.status !== 0) throw new Error(`fixture ${mode} failed: ${r.stderr}`);
}

function analyze(after: string, baselines: string[]): Report {
  const r = runCli(['analyze', after, ...baselines.flatMap((b) => ['--baseline', b]), '--json']);
  expect(r.status, r.stderr).toBe(0);
  return JSON.parse(r.stdout) as Report;
}

const names = (list: Entry[]): string[] => list.flatMap((s) => [s.name, ...(s.includes ?? []).map((i) => i.name)]);

beforeAll(() => {
  ensureBuilt();
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'la-net-'));
  program('pair', [snap('p1.heapsnapshot'), snap('p2.heapsnapshot')]);
  program('triple', [snap('t1.heapsnapshot'), snap('t2.heapsnapshot'), snap('t3.heapsnapshot')]);
});

afterAll(() => {
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

describe('two snapshots: net growth per group', () => {
  it('names only the growing registry, with its net counts; the refreshed cache is churn', () => {
    const report = analyze(snap('p2.heapsnapshot'), [snap('p1.heapsnapshot')]);
    expect(report.snapshotCount).toBe(2);
    expect(report.basis).toMatch(/third snapshot/);
    expect(report.suspects.map((s) => s.name)).toEqual(['RegistryRecord']);
    const reg = report.suspects[0] as Entry;
    expect(reg.countDelta).toBe(30000);
    expect(reg.newObjects).toBe(30000);
    expect(reg.freedObjects).toBe(0);
    // 30,000 records of a header and a 16-element array each.
    expect(reg.sizeDelta).toBeGreaterThan(30000 * 16 * 8);
    expect(reg.path).toContain('registry');
    expect(names(report.suspects)).not.toContain('CacheEntry');
    expect(names(report.suspects)).not.toContain('StableEntry');

    const cache = report.churn.find((c) => c.name === 'CacheEntry');
    expect(cache, JSON.stringify(report.churn.map((c) => c.name))).toBeDefined();
    expect(cache?.countDelta).toBe(0);
    expect(cache?.newObjects).toBe(20000);
    expect(cache?.freedObjects).toBe(20000);
    expect(Math.abs(cache?.sizeDelta ?? Infinity)).toBeLessThan(20000 * 8);
    expect(names(report.churn)).not.toContain('StableEntry');
  });
});

describe('three snapshots confirm', () => {
  it('keeps the registry that grew in both intervals and drops the burst that stopped', () => {
    const report = analyze(snap('t3.heapsnapshot'), [snap('t1.heapsnapshot'), snap('t2.heapsnapshot')]);
    expect(report.snapshotCount).toBe(3);
    expect(report.basis).toMatch(/both intervals|every interval/);
    expect(report.suspects.map((s) => s.name)).toEqual(['RegistryRecord']);
    const reg = report.suspects[0] as Entry;
    expect(reg.countDelta).toBe(50000);
    expect(reg.intervals?.map((i) => i.countDelta)).toEqual([30000, 20000]);

    expect(names(report.suspects)).not.toContain('BurstItem');
    const burst = report.unconfirmed.find((u) => u.name === 'BurstItem');
    expect(burst, JSON.stringify(report.unconfirmed.map((c) => c.name))).toBeDefined();
    expect(burst?.countDelta).toBe(15000);
    expect(burst?.intervals?.map((i) => i.countDelta)).toEqual([15000, 0]);
    expect(names(report.suspects)).not.toContain('CacheEntry');
  });
});

describe('the HTML report', () => {
  it('lists the registry as the suspect and the refreshed cache as churn, with net and new/gone counts', () => {
    // An episode as the agent writes it, holding the two snapshots of the program above.
    const episode = path.join(dir, 'episode');
    fs.mkdirSync(episode);
    for (const f of ['p1.heapsnapshot', 'p2.heapsnapshot']) fs.copyFileSync(snap(f), path.join(episode, f));
    const manifest = {
      schema: 'leak-agent/episode@1',
      episodeId: 'ep-churn',
      createdAt: '2026-01-01T00:00:00.000Z',
      verdict: { kind: 'episode-end', memory: 'oldSpace', endedAt: Date.parse('2026-01-01T00:10:00Z'), reason: 'test' },
      files: [{ kind: 'heapsnapshot', path: 'p1.heapsnapshot' }, { kind: 'heapsnapshot', path: 'p2.heapsnapshot' }],
    };
    fs.writeFileSync(path.join(episode, 'manifest.json'), JSON.stringify(manifest));
    const out = path.join(dir, 'report.html');
    const r = runCli(['report', episode, '-o', out]);
    expect(r.status, r.stderr).toBe(0);
    const html = fs.readFileSync(out, 'utf8');
    const rows = (cls: string): string[] => [...html.matchAll(new RegExp(`<tr class="${cls}">([\\s\\S]*?)</tr>`, 'g'))].map((m) => m[1] as string);
    const suspects = rows('suspect');
    expect(suspects).toHaveLength(1);
    expect(suspects[0]).toContain('RegistryRecord');
    expect(suspects[0]).toContain('+30,000');
    expect(suspects[0]).toContain('30,000 / 0');
    const churn = rows('churn').find((row) => row.includes('<b>CacheEntry</b>'));
    expect(churn).toBeDefined();
    expect(churn).toContain('20,000 / 20,000');
    expect(html).toContain('a third snapshot would confirm');
  });
});
