/**
 * Recorded corpus runs replayed through the detector: the GC records and memory readings a real
 * child process produced (bench/scenarios/child.js, `score.js --keep`), kept where one of them
 * showed a detector bug, so the fix stays fixed on the data that found it.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as zlib from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { Detector, type DetectorInput } from '../../src/detect/detector';
import type { Thresholds } from '../../src/detect/thresholds';
import type { Verdict } from '../../src/detect/verdict';

/** One tick of a recording: child.js writes one per second, a memory reading and the GC records since. */
type Tick = Pick<DetectorInput, 'records' | 'memory'>;

function readTicks(name: string): Tick[] {
  const text = zlib.gunzipSync(fs.readFileSync(path.join(__dirname, 'fixtures', name))).toString('utf8');
  return text.trim().split('\n').map((l) => JSON.parse(l) as Tick & { type: string }).filter((l) => l.type === 'tick');
}

function replay(ticks: Tick[], thresholds: Partial<Thresholds> = {}): { verdicts: Verdict[]; detector: Detector; askedForFullGc: number } {
  const detector = new Detector({ windowMs: 60_000, sensitivity: 'normal', thresholds });
  const verdicts: Verdict[] = [];
  let askedForFullGc = 0;
  for (const tick of ticks) {
    const seen = detector.observe({ records: tick.records, memory: tick.memory, container: undefined, hostMemoryBytes: 8 * 2 ** 30 });
    verdicts.push(...seen.verdicts);
    if (seen.series.old_space.needsFullGc) askedForFullGc += 1;
  }
  return { verdicts, detector, askedForFullGc };
}

describe('one-time-step, recorded (a 12 MB table loaded at 40 s)', () => {
  // A 12 MB table loaded at 40 s; the live set settled 0.27 MB higher in the 16 s after it (full GCs at
  // 48 and 64 s), then stayed flat while promoted garbage rose ~20 KB/s with no full GC until 114 s.
  const ticks = readTicks('one-time-step.rec.jsonl.gz');

  it('reports the step as a spike and raises no leak: the old full-GC pair does not confirm the later rise', () => {
    const { verdicts, detector, askedForFullGc } = replay(ticks);
    expect(verdicts.filter((v) => v.kind === 'leak')).toEqual([]);
    expect(verdicts.filter((v) => v.kind === 'spike' && v.memory === 'old_space')).toHaveLength(1);
    expect(detector.states().old_space.state).not.toBe('leak');
    // From 97 s (the pair 33 s old) it asked for a fresh full GC instead; a replay cannot give it one.
    expect(askedForFullGc).toBeGreaterThan(5);
  });

  it('taking the 48→64 s pair as confirmation (no freshness rule), the rise is a false leak alarm', () => {
    const { verdicts } = replay(ticks, { freshFullGcOfWindow: Infinity });
    const found = verdicts.filter((v) => v.kind === 'leak');
    expect(found).toHaveLength(1);
    expect(found[0]?.memory).toBe('old_space');
  });
});
