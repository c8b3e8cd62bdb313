/**
 * The part of the minimum effect that does not depend on the fit: growth over one window must be at
 * least the absolute floor, and at least what would reach the limit within the horizon — the headroom
 * left (limit minus current use) over the sensitivity's horizon, times the window. A threshold in
 * time, not a share of the limit per window: the same leak rate is large enough at every window,
 * and a leak that would not reach any limit (heap, container or host) within the horizon is not,
 * however long the window (thresholds.ts, horizonSec).
 */
import type { Limit } from './scale-judge';
import type { Scale } from './scale';
import type { MemorySeries } from './verdict';

export function effectFloor(scale: Scale, memory: MemorySeries, limit: Limit | undefined, current: number): number {
  const th = scale.th;
  const headroom = limit ? Math.max(0, limit.bytes - current) : 0;
  return Math.max(th.minGrowthBytes[memory], (headroom / th.horizonSec) * scale.windowSec);
}
