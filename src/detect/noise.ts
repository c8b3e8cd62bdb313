/**
 * Noise scales of a memory series, robust to the outliers post-GC readings have (a burst, a GC that
 * ran late). Pure.
 */
import { normalQuantile } from './normal';
import { medianOf, theilSen } from './theil-sen';

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

/** Robust scatter of `values` around their Theil–Sen line (times in seconds). */
export function scatterAroundLine(times: readonly number[], values: readonly number[]): number {
  if (values.length < 3) return 0;
  const { slope } = theilSen(times, values, 0);
  return robustScale(values.map((v, i) => v - slope * (times[i] as number)));
}

/**
 * Scatter of the lowest points of `values` around a line of the given slope (per second; `times` in
 * seconds), from two low percentiles of the residuals: (q_hi − q_lo) / (z_hi − z_lo) = σ for normal
 * noise. Bursts above a floor do not enter it while they cover less than 1 − hi of the points (a
 * median-based scale is taken over by bursts at half: the corpus' bursts cover about half the buckets).
 * The slope is the floor's: around the values' own Theil–Sen line, which bursts tilt, the lowest points
 * of a clean rising floor spread out (measured: 0.3 → 2.3 MB as one burst entered the window).
 */
export function lowerTailScale(times: readonly number[], values: readonly number[], slope: number, lo = 0.1, hi = 0.4): number {
  if (values.length < 6) return 0;
  const sorted = values.map((v, i) => v - slope * (times[i] as number)).sort((a, b) => a - b);
  const at = (q: number): number => {
    const x = q * (sorted.length - 1);
    const k = Math.floor(x);
    const low = sorted[k] as number;
    return low + (x - k) * ((sorted[Math.min(k + 1, sorted.length - 1)] as number) - low);
  };
  return (at(hi) - at(lo)) / (normalQuantile(hi) - normalQuantile(lo));
}
