/**
 * Theil–Sen slope: the median of all pairwise slopes, with the distribution-free confidence
 * interval of Sen (1968) / Gilbert (1987) built from Var(S) of the Mann–Kendall test.
 *
 * Why: it ignores up to ~29% outliers (a GC that ran at an odd moment, a burst), needs no normal
 * noise, and its interval uses the same (autocorrelation-corrected) variance as the trend test,
 * so the growth bounds we report are as honest as the p-value.
 */
import { normalQuantile } from './normal';

export interface SenSlope {
  /** Units of values per unit of times (bytes per second when times are seconds). */
  slope: number;
  lower: number;
  upper: number;
  /** Median of (y − slope·x): the line is y = intercept + slope·x. */
  intercept: number;
  /** Two-sided confidence level of [lower, upper]. */
  confidence: number;
}

function median(sorted: readonly number[]): number {
  const n = sorted.length;
  if (n === 0) return Number.NaN;
  const mid = Math.floor(n / 2);
  return n % 2 === 1 ? (sorted[mid] as number) : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}

export function medianOf(values: readonly number[]): number {
  return median([...values].sort((a, b) => a - b));
}

/**
 * @param times   strictly increasing x values (pairs with equal x are skipped)
 * @param varS    Var(S) to build the interval from (pass the corrected one)
 */
export function theilSen(times: readonly number[], values: readonly number[], varS: number, confidence = 0.95): SenSlope {
  const slopes: number[] = [];
  for (let i = 0; i < times.length - 1; i++) {
    for (let j = i + 1; j < times.length; j++) {
      const dx = (times[j] as number) - (times[i] as number);
      if (dx !== 0) slopes.push(((values[j] as number) - (values[i] as number)) / dx);
    }
  }
  slopes.sort((a, b) => a - b);
  const slope = median(slopes);
  const intercept = medianOf(values.map((v, i) => v - slope * (times[i] as number)));
  const N = slopes.length;
  // Gilbert (1987) eq. 16.7: C = z_{1-α/2} √Var(S); M1 = (N − C)/2, M2 = (N + C)/2; the interval is
  // the M1-th and (M2 + 1)-th smallest slopes (1-based), clamped to the available slopes.
  const c = normalQuantile(1 - (1 - confidence) / 2) * Math.sqrt(Math.max(0, varS));
  const m1 = Math.round((N - c) / 2);
  const m2 = Math.round((N + c) / 2);
  const lower = N === 0 ? Number.NaN : (slopes[Math.min(N - 1, Math.max(0, m1 - 1))] as number);
  const upper = N === 0 ? Number.NaN : (slopes[Math.min(N - 1, Math.max(0, m2))] as number);
  return { slope, lower, upper, intercept, confidence };
}
