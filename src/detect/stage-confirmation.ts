/**
 * Stage (old_space only): the growth must show in post-full-GC readings (full-gc-growth.ts), because
 * between full GCs the old generation also fills with promoted garbage that looks exactly like a slow
 * leak. The look-back spans up to two windows (full GCs are rare in a quiet process) but stops at a
 * step: a step must not confirm a trend. Pure.
 */
import type { Bucket } from './decimate';
import type { ConfirmationFacts } from './facts';
import { fullGcGrowth } from './full-gc-growth';
import type { Scale } from './scale';

const NOT_NEEDED: ConfirmationFacts = Object.freeze({ applies: false, informative: false, fresh: false, growth: 0, spanSec: 0, confirmed: true });

/**
 * @param buckets  the series' buckets from `since` (the latest step), at most two windows back
 * @param end      end of the window (ms)
 * @param slope    the fitted trend (bytes/s)
 * @param bursty   judged on the burst floor: compare the lowest post-full-GC readings near each end
 */
export function confirmWithFullGcs(scale: Scale, applies: boolean, buckets: readonly Bucket[], end: number, slope: number, bursty: boolean): ConfirmationFacts {
  if (!applies) return NOT_NEEDED;
  const th = scale.th;
  const minSpanSec = th.confirmMinSpanOfWindow * scale.windowSec;
  const shown = fullGcGrowth(buckets, minSpanSec, bursty ? th.burstSpanOfWindow * scale.windowMs : 0);
  if (!shown) return { applies, informative: false, fresh: false, growth: 0, spanSec: 0, confirmed: false };
  const informative = shown.spanSec >= minSpanSec;
  const fresh = end - shown.lastFullAt <= th.freshFullGcOfWindow * scale.windowMs;
  // Part of what the fitted trend predicts over that span, and at least the absolute floor's rate,
  // shown by a recent full GC: a pair from before most of the window's growth confirms nothing of it
  // (thresholds.ts, freshFullGcOfWindow); without one the agent asks V8 for a full GC.
  const needed = Math.max(th.confirmGrowthOfTrend * slope, th.minGrowthBytes.old_space / scale.windowSec) * shown.spanSec;
  return { applies, informative, fresh, growth: shown.growth, spanSec: shown.spanSec, confirmed: informative && fresh && shown.growth >= needed };
}
