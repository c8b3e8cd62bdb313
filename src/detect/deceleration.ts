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
