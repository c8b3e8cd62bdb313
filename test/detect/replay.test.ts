/**
 * The kept recordings replayed through the detector: the GC records and memory readings real child
 * processes produced (bench/scenarios/child.js). fixtures/corpus/ holds one run of each scenario of
 * bench/scenarios/workloads.js, recorded with `node bench/scenarios/score.js --runs 1 --keep`
 * (--max-old-space-size=128, 60 s window, Node 20, 2 Dec 2026; the agent's per-tick status removed);
 * fixtures/one-time-step.rec.jsonl.gz is the run of recorded.test.ts.
 *
 * Every verdict of every replay is kept in replay.verdicts.json: a change of the detector that changes
 * any of them shows here, and is accepted with `npx vitest run test/detect/replay.test.ts -u` only
 * when the change is meant (say which verdicts moved and why in the commit).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as zlib from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { Detector, type DetectorInput } from '../../src/detect/detector';
import type { Verdict } from '../../src/detect/verdict';

interface Start { type: 'start'; t: number; scenario: string; leak: boolean; leakStartMs: number }
type Tick = Pick<DetectorInput, 'records' | 'memory'> & { type: 'tick' };

const fixtures = path.join(__dirname, 'fixtures');
const files = [
  ...fs.readdirSync(path.join(fixtures, 'corpus')).filter((f) => f.endsWith('.rec.jsonl.gz')).sort().map((f) => path.join(fixtures, 'corpus', f)),
  path.join(fixtures, 'one-time-step.rec.jsonl.gz'),
];

function read(file: string): { start: Start; ticks: Tick[] } {
  const lines = zlib.gunzipSync(fs.readFileSync(file)).toString('utf8').trim().split('\n').map((l) => JSON.parse(l) as Start | Tick);
  return { start: lines.find((l): l is Start => l.type === 'start') as Start, ticks: lines.filter((l): l is Tick => l.type === 'tick') };
}

/** One line per verdict: seconds after the start, kind, series, rate (B/s) or size, and the reason. */
function describeVerdict(v: Verdict, t0: number): string {
  switch (v.kind) {
    case 'leak': return `${((v.detectedAt - t0) / 1000).toFixed(0)} s leak ${v.memory} ${Math.round(v.growthBytesPerSec)} B/s p=${v.pValue.toExponential(2)}`;
    case 'spike': return `${((v.at - t0) / 1000).toFixed(0)} s spike ${v.memory} ${Math.round(v.sizeBytes / 1024)} KiB`;
    case 'episode-end': return `${((v.endedAt - t0) / 1000).toFixed(0)} s end ${v.memory} ${v.episodeId.split('-')[1]}: ${v.reason}`;
  }
}

function replay(ticks: readonly Tick[], windowMs: number): Verdict[] {
  const detector = new Detector({ windowMs, sensitivity: 'normal' });
  const verdicts: Verdict[] = [];
  for (const tick of ticks) verdicts.push(...detector.observe({ records: tick.records, memory: tick.memory, container: undefined, hostMemoryBytes: 8 * 2 ** 30 }).verdicts);
  return verdicts;
}

describe('kept recordings, replayed', () => {
  const runs = files.map((file) => ({ name: path.basename(file, '.rec.jsonl.gz'), ...read(file) }));
  const at60 = new Map(runs.map((r) => [r.name, replay(r.ticks, 60_000)]));

  it('at the recorded 60 s window: every leak found on its series after it started, no leak alarm on the others', () => {
    for (const run of runs) {
      const leaks = (at60.get(run.name) as Verdict[]).filter((v) => v.kind === 'leak');
      if (run.start.leak) {
        expect(leaks.length, run.name).toBeGreaterThan(0);
        expect(leaks.every((v) => v.detectedAt >= run.start.leakStartMs), run.name).toBe(true);
      } else {
        expect(leaks, run.name).toEqual([]);
      }
    }
  });

  it('at the default 30 min window (only its short scales judge 150 s runs): no leak alarm on the clean scenarios', () => {
    for (const run of runs.filter((r) => !r.start.leak)) expect(replay(run.ticks, 30 * 60_000).filter((v) => v.kind === 'leak'), run.name).toEqual([]);
  }, 120_000);

  it('gives the kept verdicts at 60 s and 30 s windows', async () => {
    const out: Record<string, { '60s': string[]; '30s': string[] }> = {};
    for (const run of runs) {
      out[run.name] = {
        '60s': (at60.get(run.name) as Verdict[]).map((v) => describeVerdict(v, run.start.t)),
        '30s': replay(run.ticks, 30_000).map((v) => describeVerdict(v, run.start.t)),
      };
    }
    await expect(`${JSON.stringify(out, null, 1)}\n`).toMatchFileSnapshot('./fixtures/replay.verdicts.json');
  }, 120_000);
});
