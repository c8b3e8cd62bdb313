import { describe, expect, it } from 'vitest';
import { hamedRaoCorrection, mannKendall, mannKendallS, mannKendallVariance, ranks } from '../../src/detect/mann-kendall';
import { theilSen } from '../../src/detect/theil-sen';
import { normalCdf, normalQuantile, normalUpperTail } from '../../src/detect/normal';
import { bestStep, isStep, linearSse } from '../../src/detect/level-shift';
import { deceleration, slowedDown, stalled } from '../../src/detect/deceleration';
import { hingeResiduals } from '../../src/detect/hinge';
import { timeToLimit } from '../../src/detect/time-to-limit';
import { BucketMinima, type Bucket } from '../../src/detect/decimate';
import { fullGcGrowth } from '../../src/detect/full-gc-growth';
import { lowerTailScale, robustScale } from '../../src/detect/noise';
import { rng } from '../helpers/random';
import { gauss } from './synthetic';


describe('normal distribution', () => {
  it('matches table values', () => {
    expect(normalCdf(1.96)).toBeCloseTo(0.975, 4);
    expect(normalCdf(0)).toBeCloseTo(0.5, 7);
    expect(normalQuantile(0.975)).toBeCloseTo(1.959964, 5);
    expect(normalQuantile(0.005)).toBeCloseTo(-2.575829, 5);
    expect(normalUpperTail(3)).toBeCloseTo(0.0013499, 6);
    // Far tail stays positive and tiny instead of rounding to zero.
    expect(normalUpperTail(8)).toBeGreaterThan(0);
    expect(normalUpperTail(8)).toBeLessThan(1e-14);
  });
});

describe('Mann–Kendall', () => {
  // Hand computation for x = [1, 2, 3, 2, 4]:
  //   pairs from 1: +4; from 2: (3)+ (2)0 (4)+ = +2; from 3: (2)− (4)+ = 0; from 2: (4)+ = +1  → S = 7
  //   one tie group of size 2 (the value 2): Σ t(t−1)(2t+5) = 2·1·9 = 18
  //   Var(S) = (5·4·15 − 18)/18 = 282/18 = 15.667;  z = (7 − 1)/√15.667 = 1.5159;  p = 0.0648
  const x = [1, 2, 3, 2, 4];
  it('computes S and the tie-corrected variance', () => {
    expect(mannKendallS(x)).toBe(7);
    expect(mannKendallVariance(x)).toBeCloseTo(282 / 18, 10);
    const r = mannKendall(x);
    expect(r.z).toBeCloseTo(6 / Math.sqrt(282 / 18), 10);
    expect(r.pValue).toBeCloseTo(0.0648, 3);
    expect(r.correction).toBe(1);
  });
  it('gives all-tied series zero S and no evidence', () => {
    const r = mannKendall([5, 5, 5, 5, 5, 5]);
    expect(r.s).toBe(0);
    expect(r.varS).toBe(0); // (6·5·17 − 6·5·17)/18
    expect(r.pValue).toBe(1);
  });
  it('ranks ties by their average rank', () => {
    expect(ranks([3, 1, 3, 2])).toEqual([3.5, 1, 3.5, 2]);
  });
  it('Hamed–Rao: about 1 for independent noise, clearly above 1 for AR(1) noise', () => {
    const r = rng(7);
    const white = Array.from({ length: 60 }, () => gauss(r));
    const ar: number[] = [];
    let prev = 0;
    for (let i = 0; i < 60; i++) ar.push((prev = 0.9 * prev + gauss(r)));
    expect(hamedRaoCorrection(white)).toBeLessThan(1.5);
    expect(hamedRaoCorrection(ar)).toBeGreaterThan(2);
    // Never below 1: negative autocorrelation must not make the test more liberal.
    expect(hamedRaoCorrection([1, -1, 1, -1, 1, -1, 1, -1, 1, -1, 1, -1])).toBe(1);
  });
  it('the correction turns an autocorrelated random walk from "significant" into "not"', () => {
    // A random walk with no drift, seed chosen so the plain test is fooled.
    let fooled = 0;
    let corrected = 0;
    for (let seed = 1; seed <= 200; seed++) {
      const r = rng(seed);
      const y: number[] = [];
      let v = 0;
      for (let i = 0; i < 30; i++) y.push((v = 0.95 * v + gauss(r)));
      const t = y.map((_, i) => i);
      const sen = theilSen(t, y, 0);
      const det = y.map((val, i) => val - sen.slope * i);
      if (mannKendall(y).pValue < 0.01) fooled++;
      if (mannKendall(y, det).pValue < 0.01) corrected++;
    }
    expect(corrected).toBeLessThan(fooled);
  });
});

describe('Theil–Sen', () => {
  // Pairwise slopes of t = 0..4, y = [1, 2, 3, 2, 4], sorted:
  //   −1, 0, 1/3, 1/2, 2/3, 3/4, 1, 1, 1, 2   (N = 10)  → median (2/3 + 3/4)/2 = 17/24
  // Interval with Var(S) = 15.667 at 95%: C = 1.96·3.958 = 7.758; M1 = round(1.121) = 1, M2 = round(8.879) = 9
  //   lower = 1st slope = −1, upper = 10th slope = 2.  Intercept = median(y − 17/24·t) = 1.1667.
  it('matches the hand computation', () => {
    const s = theilSen([0, 1, 2, 3, 4], [1, 2, 3, 2, 4], 282 / 18, 0.95);
    expect(s.slope).toBeCloseTo(17 / 24, 12);
    expect(s.lower).toBe(-1);
    expect(s.upper).toBe(2);
    expect(s.intercept).toBeCloseTo(1 + 1 / 6, 10);
  });
  it('narrows the interval as the data grows and ignores a gross outlier', () => {
    const t = Array.from({ length: 30 }, (_, i) => i);
    const y = t.map((i) => 10 + 2 * i + ((i * 7) % 5) - 2);
    y[12] = 1e9;
    const mk = mannKendall(y);
    const s = theilSen(t, y, mk.varS);
    expect(s.slope).toBeCloseTo(2, 0);
    expect(s.lower).toBeGreaterThan(1.5);
    expect(s.upper).toBeLessThan(2.5);
  });
});

describe('level shift', () => {
  const t = Array.from({ length: 30 }, (_, i) => i);
  it('finds a clean step and its size', () => {
    const y = t.map((i) => (i < 14 ? 100 : 150) + (i % 3));
    const s = bestStep(t, y);
    expect(s?.index).toBe(14);
    expect(s?.size).toBe(50);
    expect(isStep(s, 0.5)).toBe(true);
  });
  it('does not call a ramp a step', () => {
    const y = t.map((i) => 100 + 3 * i + (i % 3));
    expect(isStep(bestStep(t, y), 0.5)).toBe(false);
  });
  it('computes the straight-line residual', () => {
    expect(linearSse([0, 1, 2], [0, 1, 2])).toBeCloseTo(0, 12);
    // Best line through (0,0),(1,1),(2,0) is y = 1/3: residuals −1/3, 2/3, −1/3 → SSE = 2/3.
    expect(linearSse([0, 1, 2], [0, 1, 0])).toBeCloseTo(2 / 3, 12);
  });
});

describe('deceleration', () => {
  const t = Array.from({ length: 30 }, (_, i) => i);
  it('flags a saturating curve and not a line', () => {
    expect(deceleration(t, t.map((i) => 100 * (1 - Math.exp(-i / 8))), 0.5).decelerating).toBe(true);
    expect(deceleration(t, t.map((i) => 5 * i), 0.5).decelerating).toBe(false);
  });
});

describe('stall guard', () => {
  const t = Array.from({ length: 30 }, (_, i) => i);
  it('flags growth that stopped in the last third, not a line or a noisy line', () => {
    const filledAt20 = t.map((i) => 4 * Math.min(i, 20));
    expect(stalled(t, filledAt20, theilSen(t, filledAt20, 0).slope, 0.5).stalled).toBe(true);
    expect(stalled(t, t.map((i) => 5 * i), 5, 0.5)).toEqual({ recentSlope: 5, stalled: false });
    const r = rng(3);
    const noisy = t.map((i) => 5 * i + gauss(r));
    expect(stalled(t, noisy, theilSen(t, noisy, 0).slope, 0.5).stalled).toBe(false);
  });
});

describe('hinge residuals', () => {
  const t = Array.from({ length: 30 }, (_, i) => 1_795_000_000 + 2 * i); // epoch seconds: precision matters
  it('are zero for a line and for flat-then-rising, unlike a straight line fit', () => {
    for (const r of hingeResiduals(t, t.map((x) => 3 * x + 7))) expect(Math.abs(r)).toBeLessThan(1e-3);
    const hinge = t.map((_, i) => 1000 + 50 * Math.max(0, i - 12));
    for (const r of hingeResiduals(t, hinge)) expect(Math.abs(r)).toBeLessThan(1e-3);
    // The straight line leaves runs of same-signed residuals: + at the ends, − in the middle.
    const line = theilSen(t, hinge, 0);
    const straight = hinge.map((v, i) => v - (line.intercept + line.slope * (t[i] as number)));
    expect(Math.max(...straight.map(Math.abs))).toBeGreaterThan(100);
  });
  it('keep the noise: residuals of noise around a hinge have about its spread', () => {
    const r = rng(5);
    const noisy = t.map((_, i) => 50 * Math.max(0, i - 12) + 10 * gauss(r));
    const res = hingeResiduals(t, noisy);
    const sd = Math.sqrt(res.reduce((s, x) => s + x * x, 0) / res.length);
    expect(sd).toBeGreaterThan(6);
    expect(sd).toBeLessThan(12);
  });
});

describe('time to limit', () => {
  it('divides the headroom by the slope and its bounds', () => {
    expect(timeToLimit(100, 1100, 10, 5, 20)).toEqual({ seconds: 100, lowerSeconds: 50, upperSeconds: 200 });
    expect(timeToLimit(100, 1100, 10, -1, 20).upperSeconds).toBeNull();
  });
});

describe('bucket minima', () => {
  it('keeps the minimum and the full-GC minimum per bucket, bounded', () => {
    const b = new BucketMinima(1000, 3);
    b.add(100, 50);
    b.add(200, 40, true);
    b.add(300, 45);
    b.add(1500, 70);
    b.add(2500, 80);
    b.add(3500, 90);
    expect(b.size).toBe(3);
    const all = b.since(0);
    expect(all.map((x) => x.min)).toEqual([70, 80, 90]);
    const c = new BucketMinima(1000, 10);
    c.add(100, 50);
    c.add(200, 40, true);
    c.add(300, 45);
    const [first] = c.since(0);
    expect(first).toMatchObject({ min: 40, fullMin: 40, last: 45, lastT: 300, count: 3 });
  });
});

describe('slowing guard', () => {
  it('flags a window that grows at less than the ratio of the half window before it', () => {
    const prior = [0, 2, 4, 6, 8, 10].map((t) => ({ t, v: 100 + 10 * t }));
    const pt = prior.map((p) => p.t);
    const pv = prior.map((p) => p.v);
    expect(slowedDown(pt, pv, 4, 0.5, 4)).toEqual({ priorSlope: 10, slowed: true });
    expect(slowedDown(pt, pv, 6, 0.5, 4).slowed).toBe(false);
    // Too few points before the window: not judged.
    expect(slowedDown(pt.slice(0, 3), pv.slice(0, 3), 1, 0.5, 4).slowed).toBe(false);
    // A flat or falling half window before never flags (a leak that starts inside the look-back).
    expect(slowedDown(pt, pt.map(() => 100), 1, 0.5, 4).slowed).toBe(false);
  });
});

describe('lower-tail scale', () => {
  it('is σ for normal noise and ignores bursts above the floor', () => {
    const r = rng(77);
    const times = Array.from({ length: 3000 }, (_, i) => i);
    const noise = times.map(() => gauss(r));
    expect(lowerTailScale(times, noise, 0)).toBeCloseTo(1, 1);
    // Half of the points 20σ higher: the median-based robust scale is taken over, the lower tail is not
    // (its 10th and 40th percentiles become the floor's 20th and 80th: 1.6σ).
    const bursty = noise.map((v, i) => (i % 10 < 5 ? v + 20 : v));
    expect(robustScale(bursty)).toBeGreaterThan(10);
    expect(lowerTailScale(times, bursty, 0)).toBeLessThan(2);
    expect(lowerTailScale(times, bursty, 0, 0.05, 0.3)).toBeCloseTo(1, 0);
    // Around a rising line, with the line's slope given.
    expect(lowerTailScale(times, noise.map((v, i) => v + 0.5 * i), 0.5)).toBeCloseTo(1, 1);
  });
});

describe('full-GC growth', () => {
  const bucket = (t: number, min: number, fullMin = Number.NaN): Bucket => ({ start: t, t, min, fullMin, last: min, lastT: t, count: 1 });

  it('compares the latest full GC with the earliest one (live vs live)', () => {
    const seg = [bucket(0, 50, 50), bucket(10_000, 60), bucket(20_000, 55, 55), bucket(30_000, 70), bucket(40_000, 62, 62)];
    expect(fullGcGrowth(seg, 15)).toEqual({ growth: 12, spanSec: 40, lastFullAt: 40_000 });
    // Full GCs too close together: the smallest reading before the latest full GC instead.
    expect(fullGcGrowth(seg.slice(0, 2).concat([bucket(12_000, 58, 58)]), 15)).toEqual({ growth: 8, spanSec: 12, lastFullAt: 12_000 });
  });

  it('under bursts compares the smallest full-GC readings of a span at each end', () => {
    // A flat live set of 50 with full GCs that land inside bursts (+20) now and then: single readings
    // would show +20 or −20 depending on which GCs land where.
    const seg = [bucket(0, 70, 70), bucket(5000, 50, 50), bucket(10000, 52, 52), bucket(60000, 50, 50), bucket(65000, 51, 51), bucket(70000, 70, 70)];
    expect(fullGcGrowth(seg, 15, 0).growth).toBe(0);
    expect(fullGcGrowth(seg, 15, 20000)).toEqual({ growth: 0, spanSec: 70, lastFullAt: 70_000 });
    // No full GC after the first bucket: nothing to say.
    expect(fullGcGrowth([bucket(0, 50, 50), bucket(1000, 60)], 15)).toBeUndefined();
  });
});
