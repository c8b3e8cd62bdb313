/**
 * Noise scales of a memory series, robust to the outliers post-GC readings have (a burst, a GC that
 * ran late). Pure.
 */
import { medianOf } from './theil-sen';

/** Robust noise scale: 1.4826 × median absolute deviation (= σ for normal noise). */
export function robustScale(residuals: readonly number[]): number {
  const med = medianOf(residuals);
  return 1.4826 * medianOf(residuals.map((r) => Math.abs(r - med)));
}

/**
 * Slow-noise scale from the history: robust spread of differences `lag` buckets apart, minus their
 * median (the median difference is the trend, so a leak does not inflate it), divided by √2.
 * For AR(1) noise this is σ·√(1 − φ^lag): it sees the slow wander that residuals inside one window
 * hide (a window of strongly autocorrelated noise looks smooth), which is exactly what fakes trends.
 */
export function laggedScale(values: readonly number[], maxLag: number): number {
  // Early in the process there is less history than lag + 10: use a shorter lag rather than nothing.
  const lag = Math.min(maxLag, values.length - 10);
  if (lag < 5) return 0;
  const diffs: number[] = [];
  for (let i = 0; i + lag < values.length; i++) diffs.push((values[i + lag] as number) - (values[i] as number));
  return robustScale(diffs) / Math.SQRT2;
}
