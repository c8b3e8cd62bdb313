/**
 * Mann–Kendall trend test with tie correction and the Hamed–Rao (1998) correction for
 * autocorrelation.
 *
 * Why these: post-GC memory is neither normal nor independent. Mann–Kendall only uses the signs of
 * pairwise differences, so it is blind to the scale and shape of the noise; allocation sizes repeat,
 * so equal values (ties) are common and must shrink the variance; and consecutive post-GC values are
 * strongly autocorrelated (the heap carries over), which makes the plain test fire on noise. Hamed–Rao
 * inflates the variance by the effective-sample-size ratio n/n* computed from the autocorrelation of
 * the ranks of the detrended series.
 */
import { normalUpperTail } from './normal';

export interface MannKendallResult {
  n: number;
  /** S = Σ_{i<j} sign(x_j − x_i). */
  s: number;
  /** Var(S) with the tie correction, before the autocorrelation correction. */
  varS: number;
  /** n/n*: the variance inflation factor, max(Hamed–Rao, AR(1)) (>= 1; 1 = no autocorrelation). */
  correction: number;
  /** Var(S) × correction. */
  varCorrected: number;
  /** Continuity-corrected z from the corrected variance. */
  z: number;
  /** One-sided p-value for an increasing trend. */
  pValue: number;
}

/** S statistic: count of increasing pairs minus decreasing pairs. O(n²), n is a few dozen here. */
export function mannKendallS(values: readonly number[]): number {
  let s = 0;
  for (let i = 0; i < values.length - 1; i++) {
    const vi = values[i] as number;
    for (let j = i + 1; j < values.length; j++) s += Math.sign((values[j] as number) - vi);
  }
  return s;
}

/** Var(S) = [n(n−1)(2n+5) − Σ t(t−1)(2t+5)] / 18, where t runs over the sizes of groups of equal values. */
export function mannKendallVariance(values: readonly number[]): number {
  const n = values.length;
  const counts = new Map<number, number>();
  for (const v of values) counts.set(v, (counts.get(v) ?? 0) + 1);
  let ties = 0;
  for (const t of counts.values()) if (t > 1) ties += t * (t - 1) * (2 * t + 5);
  return (n * (n - 1) * (2 * n + 5) - ties) / 18;
}

/** Ranks 1..n with ties given their average rank. */
export function ranks(values: readonly number[]): number[] {
  const order = values.map((v, i) => ({ v, i })).sort((a, b) => a.v - b.v);
  const out = new Array<number>(values.length);
  let k = 0;
  while (k < order.length) {
    let m = k;
    while (m + 1 < order.length && (order[m + 1] as { v: number }).v === (order[k] as { v: number }).v) m++;
    const avg = (k + m) / 2 + 1;
    for (let q = k; q <= m; q++) out[(order[q] as { i: number }).i] = avg;
    k = m + 1;
  }
  return out;
}

/** Sample autocorrelation of `x` at lag `lag`. */
function autocorrelation(x: readonly number[], lag: number): number {
  const n = x.length;
  let mean = 0;
  for (const v of x) mean += v;
  mean /= n;
  let den = 0;
  for (const v of x) den += (v - mean) * (v - mean);
  if (den === 0) return 0;
  let num = 0;
  for (let i = 0; i + lag < n; i++) num += ((x[i] as number) - mean) * ((x[i + lag] as number) - mean);
  return num / den;
}

/**
 * Hamed–Rao n/n*: 1 + 2/(n(n−1)(n−2)) Σ_{k=1}^{n−1} (n−k)(n−k−1)(n−k−2) ρ_k, over the lags whose rank
 * autocorrelation is significant at 5% (|ρ_k| > 1.96/√n), as in the original paper.
 *
 * `detrended` must already have the Sen slope removed (a trend itself would look like autocorrelation).
 * The factor is floored at 1: negative autocorrelation would make the test more liberal, and a
 * production alarm should never be easier to raise than the independent-sample test allows.
 */
export function hamedRaoCorrection(detrended: readonly number[]): number {
  const n = detrended.length;
  if (n < 4) return 1;
  const r = ranks(detrended);
  const bound = 1.96 / Math.sqrt(n);
  let sum = 0;
  for (let k = 1; k < n - 2; k++) {
    const rho = autocorrelation(r, k);
    if (Math.abs(rho) > bound) sum += (n - k) * (n - k - 1) * (n - k - 2) * rho;
  }
  const factor = 1 + (2 / (n * (n - 1) * (n - 2))) * sum;
  return Number.isFinite(factor) ? Math.max(1, factor) : 1;
}

/**
 * Effective-sample-size factor of an AR(1) model (Yue & Wang 2004): 1 + 2 Σ_{k=1}^{n−1} (1 − k/n) ρ^k,
 * with ρ the lag-1 autocorrelation of the detrended values, corrected for its small-sample bias
 * (E[ρ̂] ≈ ρ − (1 + 3ρ)/n, Kendall 1954) and clamped to [0, 0.99].
 *
 * Why alongside Hamed–Rao: HR only counts lags whose sample autocorrelation clears 1.96/√n, and on a
 * 30-point window the sample autocorrelation of strongly autocorrelated noise rarely does; measured
 * on AR(1) noise with φ = 0.9 per point, HR alone passed 17% of trendless windows at p < 0.01, the
 * maximum of both about 5% (bench scratch run, 4000 windows). Persistence and the effect size take it
 * from there.
 */
export function ar1Correction(detrended: readonly number[]): number {
  const n = detrended.length;
  if (n < 4) return 1;
  const raw = autocorrelation(detrended, 1);
  const rho = Math.min(0.99, Math.max(0, raw + (1 + 3 * raw) / n));
  let factor = 1;
  let power = 1;
  for (let k = 1; k < n; k++) {
    power *= rho;
    if (power < 1e-9) break;
    factor += 2 * (1 - k / n) * power;
  }
  return factor;
}

/**
 * Cap of the variance inflation: at most 4, i.e. never fewer than a quarter of the points counted as
 * independent. Beyond that the factor no longer measures noise but shape: a leak retained in bursts,
 * or one whose post-GC series bends at a full GC, is monotonic but not straight, and its residuals —
 * even around the best bent line — are smooth, so the factor reached ~20 and held a 17 MB-per-window
 * Buffer leak at p 0.015 for minutes. Noise that wanders enough to need more is what the effect size
 * (growth ≥ 5× the slow noise of two windows) and the new-high guard in detector.ts are for.
 * Measured with bench/longrun.js (10 days × 5 noise regimes): the same false alarms with and without
 * the cap (1 in the regime whose noise is correlated over longer than the window).
 */
export const MAX_CORRECTION = 4;

/**
 * The full test. `detrended` (values minus the Sen trend) feeds the autocorrelation correction (the
 * larger of Hamed–Rao and the AR(1) factor); pass undefined to skip it (independent samples).
 */
export function mannKendall(values: readonly number[], detrended?: readonly number[]): MannKendallResult {
  const n = values.length;
  const s = mannKendallS(values);
  const varS = mannKendallVariance(values);
  const correction = detrended ? Math.min(MAX_CORRECTION, Math.max(hamedRaoCorrection(detrended), ar1Correction(detrended))) : 1;
  const varCorrected = varS * correction;
  let z = 0;
  if (varCorrected > 0) {
    if (s > 0) z = (s - 1) / Math.sqrt(varCorrected);
    else if (s < 0) z = (s + 1) / Math.sqrt(varCorrected);
  }
  return { n, s, varS, correction, varCorrected, z, pValue: varCorrected > 0 ? normalUpperTail(z) : 1 };
}
