/**
 * Stage: the noise yardsticks a trend is measured against, from the kept history as the trend sees it
 * (one view). Pure: the view's noise memory comes in and its next value goes out.
 *  - slowNoise: the slow wander of the last two windows (see slowNoise), never below its own median
 *    over the last four windows of evaluations. It is estimated from a few windows only, and an alert
 *    is most likely exactly when that estimate happens to be low (a quiet hour before a rise): the
 *    noise level of this process, not of this hour. (Measured, bench/longrun.js: a 3 MB external rise
 *    in 30 min on noise of sd 1 MB was an alert because the hour before had a spread of 0.55 MB.)
 *  - windowNoise: how far the series moves over a whole window when it is not leaking — differences
 *    one window apart over the kept history, remembered only from evaluations that found no trend, so
 *    a leak never inflates its own yardstick. It sees noise correlated over longer than the window,
 *    which half a window of lag and two windows of history underestimate.
 *  - priorHigh: the highest level of the (up to three) windows before this one, for the new-high guard.
 */
import type { Bucket } from './decimate';
import type { NoiseFacts } from './facts';
import { laggedScale, robustScale } from './noise';
import type { Scale } from './scale';
import { medianOf } from './theil-sen';
import type { NoiseMemory } from './tracker';

/** Appends `value` to a list bounded to `max` entries (a copy; the oldest entries go). */
function bounded(list: readonly number[], value: number, max: number): number[] {
  const next = [...list, value];
  return next.length > max ? next.slice(next.length - max) : next;
}

/**
 * Slow wander of a series, from the last two windows. Two estimates, each blind to a different case:
 *  - laggedScale over the whole history (differences half a window apart, their median removed):
 *    unaffected by a steady trend, but inflated when a leak started inside the history (a hinge,
 *    which no single median difference removes);
 *  - the spread of the levels in the window before this one: unaffected by a leak that starts in
 *    this window, but inflated by a trend that ran through it.
 * The smaller one is used. On trendless noise both measure the wander (σ·√(1 − φ^lag) and the
 * spread of a window's levels), which is what fakes trends.
 */
function slowNoise(scale: Scale, history: readonly Bucket[], values: readonly number[], from: number): number {
  const lagged = laggedScale(values, scale.th.bucketsPerWindow / 2);
  const before = values.filter((_, i) => (history[i] as Bucket).start < from);
  const levels = before.length >= scale.th.minPoints ? robustScale(before) : 0;
  if (lagged === 0) return levels;
  if (levels === 0) return lagged;
  return Math.min(lagged, levels);
}

/**
 * @param quiet   no trend and no episode on this series: this evaluation may teach the window noise
 * @param from    start of the window judged (ms)
 */
export function noiseLevels(scale: Scale, memory: NoiseMemory, quiet: boolean, history: readonly Bucket[], values: readonly number[], from: number): { facts: NoiseFacts; memory: NoiseMemory } {
  const th = scale.th;
  const noiseFrom = Math.max(0, history.findIndex((b) => b.start >= from - scale.windowMs));
  const estimates = bounded(memory.estimates, slowNoise(scale, history.slice(noiseFrom), values.slice(noiseFrom), from), th.historyBuckets);
  const raw = estimates[estimates.length - 1] as number;
  const overWindow = values.length >= th.bucketsPerWindow + th.windowNoiseMinDifferences ? laggedScale(values, th.bucketsPerWindow) : 0;
  const quietList = overWindow > 0 && quiet ? bounded(memory.quiet, overWindow, th.historyBuckets) : memory.quiet;
  let priorHigh = -Infinity;
  for (let i = 0; i < history.length && (history[i] as Bucket).start < from; i++) priorHigh = Math.max(priorHigh, values[i] as number);
  return {
    facts: { slowNoise: Math.max(raw, medianOf(estimates)), windowNoise: quietList.length ? medianOf(quietList) : 0, priorHigh },
    memory: { estimates, quiet: quietList },
  };
}
