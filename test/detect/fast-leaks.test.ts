/**
 * Fast leaks at the default 30 min window: the window alone judges nothing before 30 min of data, so
 * the detector also judges on shorter scales (window/2 … window/32), where only growth that would
 * reach the limit within a few of those scales counts. One drain per virtual second, like the agent.
 */
import { describe, expect, it } from 'vitest';
import { Detector } from '../../src/detect/detector';
import { shortScalesOf, resolveThresholds } from '../../src/detect/thresholds';
import type { LeakVerdict } from '../../src/detect/verdict';
import { anyLeak, gauss, leaks, MiB, rng, runSynthetic } from './synthetic';

const DEFAULT_WINDOW = 30 * 60_000;

describe('short scales', () => {
  it('at the default window: window/2 down to window/32 (56 s); none at a 60 s window', () => {
    const th = resolveThresholds('normal');
    expect(shortScalesOf(DEFAULT_WINDOW, th)).toEqual([900_000, 450_000, 225_000, 113_000, 56_000]);
    expect(shortScalesOf(60_000, th)).toEqual([]);
    expect(new Detector({ windowMs: 60_000, sensitivity: 'normal' }).scalesMs).toEqual([60_000]);
  });
});

describe('fast leaks at the default 30 min window', () => {
  it('1 MB/s into a 256 MB heap: reported within 2 min of the start, before the heap is full', () => {
    for (const seed of [1, 2, 3]) {
      const r = rng(1000 + seed);
      const old = (s: number): number => 30 * MiB + MiB * s + 0.3 * MiB * gauss(r);
      const fullAt = Math.ceil((226 * MiB) / MiB); // the second the live set reaches 256 MB
      const res = runSynthetic({ old }, fullAt, { windowMs: DEFAULT_WINDOW, heapLimit: 256 * MiB, fullEvery: 10 });
      const found = leaks(res);
      expect(found.length, `seed ${seed}`).toBe(1);
      const v = found[0] as LeakVerdict;
      expect((v.detectedAt - res.t0) / 1000, `seed ${seed}`).toBeLessThanOrEqual(120);
      expect(v.timeToLimitSec as number).toBeGreaterThan(0);
      expect(Math.abs(v.growthBytesPerSec - MiB) / MiB).toBeLessThan(0.2);
    }
  });

  it('200 KB/s into a 2 GB heap: reported within 15 min', () => {
    const r = rng(200);
    const res = runSynthetic({ old: (s) => 60 * MiB + 200 * 1024 * s + 0.5 * MiB * gauss(r) }, 15 * 60, { windowMs: DEFAULT_WINDOW, heapLimit: 2048 * MiB, fullEvery: 20 });
    const found = leaks(res);
    expect(found.length).toBe(1);
    expect(((found[0] as LeakVerdict).detectedAt - res.t0) / 1000).toBeLessThanOrEqual(15 * 60);
  });

  it('one leak, one alert: the scales that see it later join the episode', () => {
    const r = rng(5);
    const res = runSynthetic({ old: (s) => 30 * MiB + 600 * 1024 * s + 0.2 * MiB * gauss(r) }, 500, { windowMs: DEFAULT_WINDOW, heapLimit: 512 * MiB, fullEvery: 10 });
    expect(leaks(res).length).toBe(1);
    expect(res.verdicts.filter((v) => v.kind === 'episode-end')).toEqual([]);
    expect(res.detector.states().old_space.state).toBe('leak');
  });

  it('a slow leak is left to the window: 20 KB/s in a 2 GB heap is not reported by a short scale', () => {
    const r = rng(20);
    const res = runSynthetic({ old: (s) => 60 * MiB + 20 * 1024 * s + 0.1 * MiB * gauss(r) }, 25 * 60, { windowMs: DEFAULT_WINDOW, heapLimit: 2048 * MiB, fullEvery: 20 });
    expect(anyLeak(res)).toEqual([]);
  });
});

describe('no false alarms from the short scales', () => {
  it('noisy flat heaps, an hour each, 256 MB and 2 GB limits', () => {
    for (const [seed, limit] of [[1, 256 * MiB], [2, 2048 * MiB]] as const) {
      const r = rng(300 + seed);
      let x = 0;
      const old = (): number => { x = 0.98 * x + 0.5 * MiB * gauss(r); return 120 * MiB + x; };
      const res = runSynthetic({ old, garbagePerSec: 50_000 }, 3600, { windowMs: DEFAULT_WINDOW, heapLimit: limit, fullEvery: 30 });
      expect(anyLeak(res), `seed ${seed}`).toEqual([]);
    }
  }, 300_000);

  it('a 60 MB table loaded at once into a 256 MB heap is a step, not a fast leak', () => {
    const r = rng(60);
    const res = runSynthetic({ old: (s) => (s < 300 ? 60 : 120) * MiB + 0.2 * MiB * gauss(r) }, 900, { windowMs: DEFAULT_WINDOW, heapLimit: 256 * MiB, fullEvery: 10 });
    expect(anyLeak(res)).toEqual([]);
  });

  it('a cache that fills 40 MB in its first minute, then serves hits, in a 512 MB heap', () => {
    const r = rng(40);
    const fill = (s: number): number => Math.min(s, 60) * ((40 * MiB) / 60);
    const res = runSynthetic({ old: (s) => 50 * MiB + fill(s) + 0.2 * MiB * gauss(r) }, 1200, { windowMs: DEFAULT_WINDOW, heapLimit: 512 * MiB, fullEvery: 10 });
    expect(anyLeak(res)).toEqual([]);
  });
});
