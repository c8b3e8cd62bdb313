/**
 * Level-shift (step) detection by the single best change point.
 *
 * A sudden step (a big request, a one-time load of a table, a burst of in-flight work) makes a
 * window look like a trend to Mann–Kendall and even to Theil–Sen when it sits near the middle. A
 * leak is a ramp; a step is two flat levels. We fit both models and call it a step when two levels
 * explain the data much better than a straight line (least squares on the same points).
 */

export interface Step {
  /** Index of the first point after the step. */
  index: number;
  /** Time of the first point after the step. */
  at: number;
  /** Median level before and after, and the difference (positive = up). */
  before: number;
  after: number;
  size: number;
  /** Residual sums of squares of the two-level and of the straight-line model. */
  sseStep: number;
  sseLinear: number;
}

function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? (s[m] as number) : ((s[m - 1] as number) + (s[m] as number)) / 2;
}

/** Centred sums of squares and cross-products of (x, y): what a least-squares line is made of. */
function centredSums(x: readonly number[], y: readonly number[]): { sxx: number; sxy: number; syy: number } {
  const n = x.length;
  let mx = 0;
  let my = 0;
  for (let i = 0; i < n; i++) {
    mx += x[i] as number;
    my += y[i] as number;
  }
  mx /= n;
  my /= n;
  let sxx = 0;
  let sxy = 0;
  let syy = 0;
  for (let i = 0; i < n; i++) {
    const dx = (x[i] as number) - mx;
    const dy = (y[i] as number) - my;
    sxx += dx * dx;
    sxy += dx * dy;
    syy += dy * dy;
  }
  return { sxx, sxy, syy };
}

/** Least-squares residual sum of squares of a straight line through (x, y). */
export function linearSse(x: readonly number[], y: readonly number[]): number {
  const { sxx, sxy, syy } = centredSums(x, y);
  return sxx === 0 ? syy : Math.max(0, syy - (sxy * sxy) / sxx);
}

/** Least-squares slope of y on x (0 for fewer than two distinct x). */
export function leastSquaresSlope(x: readonly number[], y: readonly number[]): number {
  if (x.length < 2) return 0;
  const { sxx, sxy } = centredSums(x, y);
  return sxx > 0 ? sxy / sxx : 0;
}

/**
 * The best single split with at least `minSegment` points on each side (minimum two-level SSE,
 * computed with prefix sums in O(n)). Returns undefined when the series is too short.
 */
export function bestStep(times: readonly number[], values: readonly number[], minSegment = 3): Step | undefined {
  const n = values.length;
  if (n < 2 * minSegment) return undefined;
  const pre = [0];
  const pre2 = [0];
  for (const v of values) {
    pre.push((pre[pre.length - 1] as number) + v);
    pre2.push((pre2[pre2.length - 1] as number) + v * v);
  }
  const sse = (a: number, b: number): number => {
    const k = b - a;
    const s = (pre[b] as number) - (pre[a] as number);
    return (pre2[b] as number) - (pre2[a] as number) - (s * s) / k;
  };
  let best = -1;
  let bestSse = Infinity;
  for (let k = minSegment; k <= n - minSegment; k++) {
    const e = sse(0, k) + sse(k, n);
    if (e < bestSse) {
      bestSse = e;
      best = k;
    }
  }
  const before = median(values.slice(0, best) as number[]);
  const after = median(values.slice(best) as number[]);
  return {
    index: best,
    at: times[best] as number,
    before,
    after,
    size: after - before,
    sseStep: Math.max(0, bestSse),
    sseLinear: linearSse(times, values),
  };
}

/**
 * A step, not a ramp: the two-level model leaves at most `ratio` of the straight line's residual,
 * and the step is upward. (A ramp split in two leaves a quarter of a flat model's residual but far
 * more than the line's, so a leak never passes.)
 */
export function isStep(step: Step | undefined, ratio: number): step is Step {
  return step !== undefined && step.size > 0 && step.sseStep <= ratio * step.sseLinear;
}
