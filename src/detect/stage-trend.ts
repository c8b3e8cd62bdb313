/**
 * Stages on the judged segment (the points after the latest step, or the whole window): the trend
 * (Mann–Kendall with ties and the bent-line autocorrelation correction, Theil–Sen slope and interval),
 * the effect (growth over one window against the minimum effect) and the guards against shapes that
 * grow but are not leaks. Pure.
 */
import type { Bucket } from './decimate';
import { deceleration, slowedDown, stalled } from './deceleration';
import type { EffectFacts, GuardFacts, NoiseFacts, TrendFacts } from './facts';
import { hingeResiduals } from './hinge';
import { mannKendall } from './mann-kendall';
import { robustScale } from './noise';
import type { Scale } from './scale';
import { theilSen } from './theil-sen';

/** Undefined when the segment is too short to judge (a step was just seen). */
export function judgeTrend(scale: Scale, times: readonly number[], values: readonly number[]): TrendFacts | undefined {
  const th = scale.th;
  if (values.length < Math.ceil(th.minPoints / 2)) return undefined;
  const rough = theilSen(times, values, 0);
  const detrended = values.map((v, i) => v - rough.slope * (times[i] as number));
  // Residuals within measurement resolution of a line are not noise: their "autocorrelation" is a
  // rounding pattern, so no correction is applied to such a clean series.
  const spread = Math.max(...detrended) - Math.min(...detrended);
  const mk = mannKendall(values, spread < th.resolutionBytes ? undefined : hingeResiduals(times, values));
  const sen = theilSen(times, values, mk.varCorrected, th.confidence);
  return {
    times, values, pValue: mk.pValue, slope: sen.slope, lower: sen.lower, upper: sen.upper, intercept: sen.intercept,
    scatter: robustScale(detrended),
    significant: mk.pValue < th.alpha && sen.lower > 0,
    nearlySignificant: mk.pValue < th.holdAlphaFactor * th.alpha,
  };
}

/**
 * Noise: the larger of the spread inside the window and the slow wander; on the burst floor also the
 * scatter of the lowest minima (a floor is smoother than the noise it sits on).
 * @param floor the part of the minimum effect that does not depend on the fit
 */
export function judgeEffect(scale: Scale, trend: TrendFacts, noise: NoiseFacts, lowest: number, floor: number): EffectFacts {
  const th = scale.th;
  const scatter = Math.max(trend.scatter, noise.slowNoise, lowest);
  const effect = Math.max(floor, th.minGrowthOfNoise * scatter, th.minGrowthOfWindowNoise * noise.windowNoise);
  const growth = trend.slope * scale.windowSec;
  return { floor, noise: scatter, effect, growth, bigEnough: growth >= effect, nearlyBigEnough: growth >= th.holdEffectFraction * effect };
}

export interface GuardInput {
  history: readonly Bucket[];
  /** The judged view's values of the history, and of the window (for the current level). */
  historyValues: readonly number[];
  windowValues: readonly number[];
  /** Start of the window and of the judged part after the latest step (ms). */
  from: number;
  since: number;
  priorHigh: number;
  floor: number;
}

export function judgeGuards(scale: Scale, trend: TrendFacts, input: GuardInput): GuardFacts {
  const th = scale.th;
  const decel = deceleration(trend.times, trend.values, th.decelerationRatio);
  const stall = stalled(trend.times, trend.values, trend.slope, th.decelerationRatio);
  // The part of a window before this one (same view, never across a step) for the slowing guard.
  const priorFrom = Math.max(input.from - th.slowingLookBackOfWindow * scale.windowMs, input.since);
  const priorTimes: number[] = [];
  const priorValues: number[] = [];
  input.history.forEach((b, i) => {
    if (b.t >= priorFrom && b.t < input.from) {
      priorTimes.push(b.t / 1000);
      priorValues.push(input.historyValues[i] as number);
    }
  });
  const slowing = slowedDown(priorTimes, priorValues, trend.slope, th.slowingRatio, Math.ceil(th.minPoints / 2));
  // New high: memory must be above the highest level of the windows before this one. Noise
  // correlated over longer than a window (a daily cycle, a slowly drifting load) produces rises of a
  // window's length that pass every test above, but it comes back: the level it rises to has been
  // seen before. A leak's level has not. (Measured, bench/longrun.js, AR(1) noise correlated over ~50
  // min, 30 min window, with the bent-line correction: 3 → 1 false alarm in 10 simulated days.) The
  // median of the latest few buckets is the current level, so one low reading does not hold it back.
  const tail = input.windowValues.slice(-th.levelBuckets).sort((a, b) => a - b);
  const level = tail[Math.floor(tail.length / 2)] as number;
  return {
    decelerating: decel.decelerating,
    filledThenSlowed: decel.decelerating && decel.firstSlope * (scale.windowSec / 2) >= input.floor,
    stalled: stall.stalled,
    slowed: slowing.slowed,
    newHigh: !(level <= input.priorHigh),
  };
}
