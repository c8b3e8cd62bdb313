/**
 * The minimum effect in time: growth that would reach the limit (heap, container or host) within the
 * sensitivity's horizon is large enough whatever the window, above the absolute floor. The same leak
 * rate must be reportable at every window and limit; a rate that takes longer than the horizon to
 * reach the limit is not, however long the window.
 */
import { describe, expect, it } from 'vitest';
import { effectFloor } from '../../src/detect/effect-floor';
import { scaleFor } from '../../src/detect/scale';
import { resolveThresholds } from '../../src/detect/thresholds';
import type { LeakVerdict } from '../../src/detect/verdict';
import { gauss, leaks, MiB, rng, runSynthetic } from './synthetic';

const GiB = 1024 * MiB;
/** This machine's default V8 heap limit (about a sixth of 24 GB). */
const DEFAULT_HEAP = 4345 * MiB;
const normal = resolveThresholds('normal');

describe('minimum effect as a function of window and limit', () => {
  const windows = [30_000, 60_000, 30 * 60_000, 2 * 3600_000];
  const limits = [128 * MiB, 4 * GiB];

  it('the same leak rate is large enough at 30 s, 60 s, 30 min and 2 h windows, on 128 MB and 4 GB heaps', () => {
    // 40 KB/s (144 MB/h): above the absolute floor at a 30 s window (1 MiB per 30 s = 35 KB/s), and a
    // 4 GB heap is full in 30 hours.
    const rate = 40 * 1024;
    for (const windowMs of windows) {
      for (const limit of limits) {
        const scale = scaleFor(windowMs, normal);
        const floor = effectFloor(scale, 'old_space', { bytes: limit, source: 'heap' }, 50 * MiB);
        expect(floor, `${windowMs / 1000} s window, ${limit / MiB} MiB heap`).toBeLessThanOrEqual(rate * scale.windowSec);
      }
    }
  });

  it('growth that would take longer than the horizon to reach the limit is not large enough, whatever the window', () => {
    for (const windowMs of [30 * 60_000, 2 * 3600_000, 6 * 3600_000]) {
      const scale = scaleFor(windowMs, normal);
      const headroom = 4 * GiB - 50 * MiB;
      const slower = (0.9 * headroom) / normal.horizonSec;
      expect(effectFloor(scale, 'old_space', { bytes: 4 * GiB, source: 'heap' }, 50 * MiB)).toBeGreaterThan(slower * scale.windowSec);
    }
  });

  it('counts the headroom left, the container and the host alike, and never goes below the absolute floor', () => {
    const scale = scaleFor(30 * 60_000, normal);
    const at = (bytes: number, source: 'heap' | 'container' | 'host', current: number): number => effectFloor(scale, 'external', { bytes, source }, current);
    expect(at(512 * MiB, 'container', 400 * MiB)).toBeLessThan(at(512 * MiB, 'container', 100 * MiB));
    expect(at(24 * GiB, 'host', 100 * MiB)).toBeCloseTo(((24 * GiB - 100 * MiB) / normal.horizonSec) * scale.windowSec, -3);
    expect(at(512 * MiB, 'container', 512 * MiB)).toBe(normal.minGrowthBytes.external);
    expect(effectFloor(scale, 'external', undefined, 0)).toBe(normal.minGrowthBytes.external);
  });

  it('the figures of docs/detection.md ("Smallest reported leak"), in MB/h', () => {
    // 50 MiB in use; in the container 60 MiB used by the rest of the process.
    const mbPerHour = (windowMs: number, bytes: number, source: 'heap' | 'container'): number => {
      const scale = scaleFor(windowMs, normal);
      return Number((((effectFloor(scale, 'old_space', { bytes, source }, 50 * MiB) / scale.windowSec) * 3600) / 1e6).toFixed(1));
    };
    const conditions = [[256 * MiB, 'heap'], [2048 * MiB, 'heap'], [4096 * MiB, 'heap'], [452 * MiB, 'container']] as const;
    expect(conditions.map(([b, s]) => mbPerHour(60_000, b, s))).toEqual([62.9, 62.9, 62.9, 62.9]);
    expect(conditions.map(([b, s]) => mbPerHour(30 * 60_000, b, s))).toEqual([2.1, 12.5, 25.3, 2.5]);
  });

  it('a longer horizon at higher sensitivity', () => {
    const [low, high] = [resolveThresholds('low'), resolveThresholds('high')];
    expect(low.horizonSec).toBeLessThan(normal.horizonSec);
    expect(normal.horizonSec).toBeLessThan(high.horizonSec);
  });
});

describe('leaks on a large default heap limit, reported at short windows', () => {
  it('650 KB/s at a 30 s window on a 4.3 GB heap: reported within 60 s', () => {
    const r = rng(650);
    const res = runSynthetic({ old: (s) => 8 * MiB + 650 * 1024 * s + 0.2 * MiB * gauss(r) }, 90, { windowMs: 30_000, heapLimit: DEFAULT_HEAP });
    const found = leaks(res);
    expect(found.length).toBe(1);
    expect(((found[0] as LeakVerdict).detectedAt - res.t0) / 1000).toBeLessThanOrEqual(60);
  });

  it('25 KB/s (90 MB/h) at a 60 s window on a 4.3 GB heap: reported within 1.5 windows', () => {
    for (const seed of [1, 2, 3]) {
      const r = rng(25 + seed);
      const res = runSynthetic({ old: (s) => 30 * MiB + 25 * 1024 * s + 0.03 * MiB * gauss(r) }, 150, { windowMs: 60_000, heapLimit: DEFAULT_HEAP });
      const found = leaks(res);
      expect(found.length, `seed ${seed}`).toBe(1);
      expect(((found[0] as LeakVerdict).detectedAt - res.t0) / 1000).toBeLessThanOrEqual(90);
    }
  });

  it('a service growing 50 MB/h at the default 30 min window on a 4.3 GB heap: reported within 1.5 windows', () => {
    const r = rng(50);
    const rate = 50e6 / 3600;
    const res = runSynthetic({ old: (s) => 80 * MiB + rate * s + 0.3 * MiB * gauss(r) }, 2 * 3600, { windowMs: 30 * 60_000, heapLimit: DEFAULT_HEAP, fullEvery: 30 });
    const found = leaks(res);
    expect(found.length).toBe(1);
    expect(((found[0] as LeakVerdict).detectedAt - res.t0) / 1000).toBeLessThanOrEqual(1.5 * 1800);
  }, 300_000);

  it('the same 25 KB/s leak in a 512 MB container, external memory: reported at a 60 s window', () => {
    const r = rng(7);
    const res = runSynthetic({ old: () => 40 * MiB + 0.05 * MiB * gauss(r), external: (s) => 10 * MiB + 25 * 1024 * s + 0.02 * MiB * gauss(r) }, 150, { windowMs: 60_000, heapLimit: DEFAULT_HEAP, containerLimit: 512 * MiB });
    const found = leaks(res, 'external');
    expect(found.length).toBe(1);
    expect((found[0] as LeakVerdict).limitSource).toBe('container');
  });
});
