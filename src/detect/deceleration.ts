/**
 * Deceleration (plateau) guard: caches grow fast while they warm up, then ever more slowly until
 * they are full. Over a window such a curve still has a significant upward trend, but its second
 * half grows much more slowly than its first. A leak grows at a steady (or rising) rate.
 */
import { theilSen } from './theil-sen';

export interface Deceleration {
  firstSlope: number;
  secondSlope: number;
  decelerating: boolean;
}

/**
 * Splits the points at the middle of their time span and compares Theil–Sen slopes.
 * @param ratio decelerating when secondSlope < ratio × firstSlope
 */
export function deceleration(times: readonly number[], values: readonly number[], ratio: number): Deceleration {
  const n = times.length;
  const mid = ((times[0] as number) + (times[n - 1] as number)) / 2;
  let k = 0;
  while (k < n && (times[k] as number) < mid) k++;
  if (k < 3 || n - k < 3) return { firstSlope: 0, secondSlope: 0, decelerating: false };
  const first = theilSen(times.slice(0, k), values.slice(0, k), 0);
  const second = theilSen(times.slice(k), values.slice(k), 0);
  return {
    firstSlope: first.slope,
    secondSlope: second.slope,
    decelerating: first.slope > 0 && second.slope < ratio * first.slope,
  };
}

/**
 * Stall guard: the Theil–Sen slope of the last third of the window's time span against the slope of
 * the whole window. A cache that fills for longer than a window and then stops still shows a full
 * window of significant growth, and its halves may not differ enough for the plateau guard; what it
 * no longer has is recent growth. A leak is still growing at the moment it is reported.
 * @param ratio stalled when recentSlope < ratio × slope
 */
export function stalled(times: readonly number[], values: readonly number[], slope: number, ratio: number): { recentSlope: number; stalled: boolean } {
  const n = times.length;
  const from = (times[n - 1] as number) - ((times[n - 1] as number) - (times[0] as number)) / 3;
  let k = 0;
  while (k < n && (times[k] as number) < from) k++;
  if (n - k < 4 || !(slope > 0)) return { recentSlope: slope, stalled: false };
  const recent = theilSen(times.slice(k), values.slice(k), 0).slope;
  return { recentSlope: recent, stalled: recent < ratio * slope };
}

/**
 * Slowing guard: the window's slope against the Theil–Sen slope of the half window before it. A cache
 * whose misses get rarer as it fills (growth like √t) keeps a nearly straight line inside one window —
 * its halves differ by less than the plateau guard's ratio (measured in the corpus: 1.4 then 1.3 MB per
 * half window) — but it grew much faster before the window began (2.7 MB in the half window before).
 * A leak grows at its own steady rate; one that starts inside the look-back grew more slowly before.
 * Needs `minPoints` points before the window, so the first window after start-up is not judged by it.
 * @param ratio slowed when slope < ratio × priorSlope
 */
export function slowedDown(priorTimes: readonly number[], priorValues: readonly number[], slope: number, ratio: number, minPoints: number): { priorSlope: number; slowed: boolean } {
  if (priorTimes.length < minPoints) return { priorSlope: 0, slowed: false };
  const priorSlope = theilSen(priorTimes, priorValues, 0).slope;
  return { priorSlope, slowed: priorSlope > 0 && slope < ratio * priorSlope };
}
