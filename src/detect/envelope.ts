/**
 * Lower envelope of a bursty series. Pure.
 *
 * Why: traffic bursts hold tens of MB of in-flight work for a few seconds, and in old space what
 * they promoted stays until the next full GC — measured in the corpus (`leak-under-bursts`): 6–12 MB
 * above the floor for 10–20 s out of every 25 s, i.e. half of the 2 s bucket minima sit on a burst.
 * Their scatter, not the leak, then sets the noise yardstick (growth must be 5× the noise), and a
 * 6 MB-per-window leak under 10 MB bursts is never big enough. The floor between bursts is the live
 * set the service keeps; a leak raises it, bursts do not.
 *
 * The envelope at a point is the smallest value of the span before it, each earlier value first
 * carried forward along the series' own growth (`slopePerMs` ≥ 0): a plain trailing minimum lags a
 * rising series by the whole span (a leak would look as if it started a span later); carried
 * forward, a straight line is its own envelope, and a burst shorter than the span is removed.
 * Away from the start of the data the operation does not depend on absolute time, so trendless input
 * stays trendless.
 */
import { leastSquaresSlope } from './level-shift';

/**
 * e_i = min over the span around t_i of (v_j + slopePerMs · (t_i − t_j)), `times` ascending, ms. The span
 * is (t_i − spanMs, t_i]; where less than a span of data precedes t_i — the start of the history, or
 * just after `since` — it is the first spanMs of the data instead, so that the oldest points are a
 * floor too (otherwise a burst at the start of the history would stand as the highest level ever seen);
 * those later values are not carried back along the slope.
 * `since`: a step (spike) time the envelope must not reach back across — the level before a step
 * carried over it would turn the step into a ramp. O(n · points per span).
 */
export function lowerEnvelope(times: readonly number[], values: readonly number[], spanMs: number, slopePerMs: number, since = -Infinity): number[] {
  const slope = Math.max(0, slopePerMs);
  const n = values.length;
  let first = 0;
  while (first < n && (times[first] as number) < since) first++;
  const out = new Array<number>(n);
  let oldest = first; // first index inside the trailing span of point i (moves forward with i)
  for (let i = 0; i < n; i++) {
    const ti = times[i] as number;
    if (i < first) {
      out[i] = values[i] as number; // before the step: not this envelope's business
      continue;
    }
    const early = ti - spanMs < (times[first] as number);
    const until = early ? (times[first] as number) + spanMs : ti;
    while (!early && (times[oldest] as number) <= ti - spanMs) oldest++;
    let low = Infinity;
    for (let j = early ? first : oldest; j < n && (times[j] as number) <= until; j++) {
      const tj = times[j] as number;
      // Earlier values are carried forward along the growth; later ones (only at the start) are taken
      // as they are — carried backwards, a flat start would become a fall, and the fall a rise.
      const carried = tj <= ti ? (values[j] as number) + slope * (ti - tj) : (values[j] as number);
      if (carried < low) low = carried;
    }
    out[i] = low;
  }
  return out;
}

/**
 * The growth to carry the envelope along: the least-squares slope of the plain trailing minimum over
 * the points from `fromIndex`, per ms, never negative. Not Theil–Sen: a trailing minimum is a staircase,
 * and when most pairs of points sit on the same step the median pairwise slope is exactly zero
 * (measured in the corpus: a 100 KB/s leak under bursts gave 0). The staircase follows the floor with a
 * constant lag, so its least-squares slope is the floor's; and it has no upward outliers left to fear.
 */
export function floorGrowthPerMs(times: readonly number[], values: readonly number[], spanMs: number, fromIndex: number, since = -Infinity): number {
  const trailing = lowerEnvelope(times, values, spanMs, 0, since);
  let from = Math.max(0, fromIndex);
  while (from < times.length && (times[from] as number) < since) from++;
  if (times.length - from < 3) return 0;
  return Math.max(0, leastSquaresSlope(times.slice(from), trailing.slice(from)));
}
