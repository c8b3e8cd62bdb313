/**
 * Time until a limit at the fitted growth, with the interval that follows from the slope's
 * confidence interval: the fastest plausible growth gives the shortest time, the slowest the longest
 * (unbounded when the slowest plausible growth is not positive).
 */

export interface TimeToLimit {
  seconds: number | null;
  lowerSeconds: number | null;
  upperSeconds: number | null;
}

export function timeToLimit(currentBytes: number, limitBytes: number, slope: number, slopeLower: number, slopeUpper: number): TimeToLimit {
  const headroom = Math.max(0, limitBytes - currentBytes);
  const at = (rate: number): number | null => (rate > 0 && Number.isFinite(rate) ? headroom / rate : null);
  return { seconds: at(slope), lowerSeconds: at(slopeUpper), upperSeconds: at(slopeLower) };
}
