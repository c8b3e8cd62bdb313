/**
 * Every threshold of the detector, per sensitivity, with the reason for its value. Computed once
 * when the detector is built (the window is fixed for the life of the agent).
 *
 * Measured effect of these values: see docs/detection.md, "Measured" (scorer table and the long-horizon
 * simulation on autocorrelated noise).
 */
import type { MemorySeries } from './verdict';

export type Sensitivity = 'low' | 'normal' | 'high';

const KiB = 1024;
const MiB = 1024 * KiB;
const DAY = 86_400;

export interface Thresholds {
  /** Buckets per window: 30 gives MK/Sen enough points (Var(S) ≈ 3100, S resolves ~1%) at O(435) pairs. */
  bucketsPerWindow: number;
  /**
   * History kept: four windows. One behind the window shows steps, plateaus and episode baselines and
   * gives the slow-noise estimate; three behind it give the level a leak must rise above ("new high").
   */
  historyBuckets: number;
  /** Fewer non-empty buckets than this in the window: not enough evidence, keep warming up. */
  minPoints: number;
  /** One-sided Mann–Kendall p-value (after Hamed–Rao) below which a trend counts. */
  alpha: number;
  /** Consecutive evaluations (one per bucket) a leak must hold before the alert: 1/6 of a window at normal. */
  persistence: number;
  /** Minimum growth per window, bytes, per series (absolute floor). */
  minGrowthBytes: Record<MemorySeries, number>;
  /**
   * Horizon, seconds: growth that would reach the limit (heap, container or host; the headroom left
   * over the horizon) within this time is large enough, whatever the window (effect-floor.ts).
   */
  horizonSec: number;
  /** Minimum growth per window in units of the robust noise scale of the window's residuals. */
  minGrowthOfNoise: number;
  /**
   * Minimum growth per window in units of the window-lag noise: how far the series moved over one
   * window in evaluations that found no trend (Detector, "quietNoise"). Lower than minGrowthOfNoise
   * because a full window of lag sees more of the wander than half a window does; this one is for
   * noise correlated over longer than the window. Measured (bench/longrun.js, 10 days × 5 regimes):
   * at 0.6 × minGrowthOfNoise one false alarm remained in the ~50 min-correlation regime, at 0.8 none,
   * with the 8 KB/s leak found in 1.37 windows (1.27 without this test).
   */
  minGrowthOfWindowNoise: number;
  /** Plateau guard: second-half slope below this fraction of the first-half slope = decelerating. */
  decelerationRatio: number;
  /**
   * Slowing guard: the window's slope below this fraction of the half window before it = a cache filling
   * ever more slowly (deceleration.ts, slowedDown). The same ratio as the plateau guard's, across windows.
   */
  slowingRatio: number;
  /** Step guard: two levels must leave at most this fraction of a straight line's squared residual. */
  stepSseRatio: number;
  /** Episode end: growth below this fraction of the minimum effect counts as "stopped". */
  stopFraction: number;
  /** Confidence level of the reported growth interval. */
  confidence: number;
  /**
   * Garbage correction (garbage.ts): a full-GC cycle shorter than this fraction of the window does not
   * give a promotion rate to extrapolate. A tenth (6 s at a 60 s window): V8's back-to-back full GCs
   * are a second or two apart; real cycles in the corpus last 10–60 s.
   */
  minGarbageCycleOfWindow: number;
  /**
   * Burst floor (envelope.ts): span of the lower envelope, as a fraction of the window. A third: in the
   * corpus a burst plus the promoted garbage it leaves until the next full GC lasted 10–20 s at a 60 s
   * window; at a 30 min window it removes excursions of up to 10 min.
   */
  burstSpanOfWindow: number;
  /** The floor replaces the bucket minima when its noise yardstick is at most 1/this of theirs. */
  burstNoiseRatio: number;
  /**
   * ...and only when the minima's noise sets their minimum effect at this multiple of the effect floor
   * or more: below that the floor could at most halve a threshold the absolute floor already holds, and
   * what looks bursty at that scale is shape (measured: the garbage correction's 0.3 MB staircase on a
   * 30 KB/s leak was judged on the floor, which read its growth as 0.06 MB per window).
   */
  burstMaterialOfFloor: number;
  /**
   * Full-GC confirmation: the latest full GC compared must be at most this fraction of a window old.
   * Half: the growth a trend reports is mostly in the window's second half. Measured in the corpus
   * (`one-time-step`, test/detect/fixtures/one-time-step.rec.jsonl.gz): a 0.27 MB rise in the 16 s after a 12 MB step, between two full GCs,
   * still "confirmed" a 20 KB/s rise of promoted garbage 50 s later, with no full GC in between: a
   * false leak alarm. A fresh full GC (the agent asks for one) showed no growth.
   */
  freshFullGcOfWindow: number;

  // ---- steps and spikes (stage-step.ts) ----------------------------------------------------------
  /** Fewest buckets on each side of a step: two levels need a few points each to be levels. */
  stepMinSegment: number;
  /** A step must be this many robust sds of the scatter around its two levels (a clear jump, not noise). */
  stepNoiseFactor: number;
  /** A step seen again within this many buckets of where it was is the same step (the change point moves by a bucket or two as the window slides). */
  stepMatchBuckets: number;
  /** Evaluations in a row a step must be seen before it is reported: 3 buckets = a tenth of a window. */
  spikeConfirmations: number;

  // ---- trend (stage-trend.ts) --------------------------------------------------------------------
  /** Residuals within this many bytes of a line are measurement resolution, not noise (no autocorrelation correction then). */
  resolutionBytes: number;
  /** A weaker evaluation holds a streak when p < holdAlphaFactor × alpha... */
  holdAlphaFactor: number;
  /** ...and the growth is at least this fraction of the minimum effect (decide.ts says why). */
  holdEffectFraction: number;
  /** Window-lag noise is estimated once the history holds a window plus this many buckets: at least that many differences. */
  windowNoiseMinDifferences: number;
  /** Slowing guard: the look-back before the window, as a fraction of the window. */
  slowingLookBackOfWindow: number;
  /** The current level for the new-high guard is the median of this many latest buckets (one low reading does not hold it back). */
  levelBuckets: number;
  /** On the burst floor, the trend's noise is at least the scatter of the minima between these percentiles (stage-view.ts). */
  floorTailLow: number;
  floorTailHigh: number;

  // ---- full-GC confirmation (stage-confirmation.ts) and episodes ---------------------------------
  /** Two post-full-GC readings must be at least this fraction of a window apart to confirm anything. */
  confirmMinSpanOfWindow: number;
  /**
   * They must show at least this fraction of the growth the fitted trend predicts over their span
   * (and at least the absolute floor's rate): a leak's growth survives full GCs whole and promoted
   * garbage's not at all, so half separates the two with room for the error of a two-reading estimate.
   */
  confirmGrowthOfTrend: number;
  /**
   * An episode's growth has stopped (external/native) when p is no longer below this, or the growth is
   * below stopFraction of the effect: well above alpha at every sensitivity, so a leak whose p flickers around alpha
   * keeps its episode (old_space is judged after full GCs instead).
   */
  stopAlpha: number;
  /** Full GCs remembered for the garbage correction: more than two windows' worth at any realistic rate. */
  maxFullGcs: number;
  /**
   * The policy asks V8 for a confirmation GC at most once per this fraction of the window, and never
   * more often than the minimum spacing: a quarter window keeps a requested full GC fresh
   * (freshFullGcOfWindow) for the evaluations after it; 10 s bounds the cost on short windows.
   */
  fullGcRequestSpacingOfWindow: number;
  fullGcRequestMinSpacingMs: number;

  // ---- short scales: fast leaks at long windows (detector.ts) ------------------------------------
  /**
   * Besides the window, the detector judges on window/2, /4, ... down to this length (at most
   * shortScalesMax of them), each with its own buckets and warm-up: nothing is judged before a full
   * scale of data, and at the default 30 min window a leak that fills a 256 MB heap in four minutes
   * would otherwise never be judged. 45 s: at 30 min the shortest scale is 56 s (window/32), which
   * reports such a leak within two minutes; at a 60 s window there is no short scale.
   */
  shortScaleMinMs: number;
  shortScalesMax: number;
  /** A short scale's alpha is the window's times this: several scales are judged, each must be surer. */
  shortAlphaFactor: number;
  /**
   * On a short scale only growth that would reach the limit within this many of those scales counts
   * (the scale's horizon): the time to report falls with the time to OOM, and a short scale never
   * reports what the window would judge. 32: a 200 KB/s leak in a 2 GB heap (full in under 3 h)
   * counts at window/4 of the default window (7.5 min, horizon 4 h) and is reported within 15 min.
   */
  shortHorizonScales: number;
}

export function thresholdsFor(sensitivity: Sensitivity): Thresholds {
  const base = {
    bucketsPerWindow: 30,
    historyBuckets: 120,
    // 8: Mann–Kendall on 8 points still reaches p < 0.001 for a clean trend (max z ≈ 3.3), and a quiet
    // process may scavenge less often than once per bucket on short windows (measured: every ~2 s).
    minPoints: 8,
    // A ramp split into two levels keeps ~25% of the flat residual but the line fits it exactly, so
    // the ratio is large; a clean step gives a ratio near 0. 0.5 leaves room for noise around a step.
    stepSseRatio: 0.5,
    stopFraction: 0.5,
    confidence: 0.95,
    burstSpanOfWindow: 1 / 3,
    minGarbageCycleOfWindow: 0.1,
    burstNoiseRatio: 3,
    burstMaterialOfFloor: 2,
    freshFullGcOfWindow: 0.5,
    stepMinSegment: 3,
    stepNoiseFactor: 4,
    stepMatchBuckets: 2,
    spikeConfirmations: 3,
    resolutionBytes: 1024,
    holdAlphaFactor: 10,
    holdEffectFraction: 0.5,
    windowNoiseMinDifferences: 20,
    slowingLookBackOfWindow: 0.5,
    levelBuckets: 3,
    floorTailLow: 0.05,
    floorTailHigh: 0.3,
    confirmMinSpanOfWindow: 0.25,
    confirmGrowthOfTrend: 0.5,
    stopAlpha: 0.1,
    maxFullGcs: 256,
    fullGcRequestSpacingOfWindow: 0.25,
    fullGcRequestMinSpacingMs: 10_000,
    shortScaleMinMs: 45_000,
    shortScalesMax: 5,
    shortAlphaFactor: 0.2,
  };
  switch (sensitivity) {
    case 'low':
      // For noisy services where an alert must be beyond doubt: 10x stricter p, two thirds of a window
      // of persistence, and growth at least 7x the slow noise.
      return {
        ...base,
        alpha: 0.0005,
        persistence: 20,
        minGrowthBytes: { old_space: 4 * MiB, external: 4 * MiB, native: 32 * MiB },
        // Only leaks that would exhaust the limit within three days.
        horizonSec: 3 * DAY,
        shortHorizonScales: 12,
        minGrowthOfNoise: 7,
        minGrowthOfWindowNoise: 5.6,
        decelerationRatio: 0.6,
        slowingRatio: 0.6,
      };
    case 'high':
      // For staging, tests and demos: earlier alerts on smaller leaks, at the price of some false
      // alarms on strongly autocorrelated noise (measure with `node bench/longrun.js --sensitivity high`).
      return {
        ...base,
        alpha: 0.02,
        persistence: 8,
        minGrowthBytes: { old_space: 512 * KiB, external: 512 * KiB, native: 8 * MiB },
        // Leaks that would take up to three weeks.
        horizonSec: 21 * DAY,
        shortHorizonScales: 64,
        minGrowthOfNoise: 3,
        minGrowthOfWindowNoise: 2.4,
        decelerationRatio: 0.4,
        slowingRatio: 0.4,
      };
    default:
      return {
        ...base,
        // 0.5% per evaluation, after the autocorrelation correction. Consecutive evaluations share 29
        // of 30 points, so this is not a per-alert rate; persistence and the effect size do the rest.
        alpha: 0.005,
        // 15 evaluations in a row = half a window. Autocorrelated noise wanders up for a while and then
        // comes back; a leak keeps going. Measured while tuning (bench/longrun.js, 3 days x 5 AR(1)
        // regimes): persistence 8 with alpha 0.01 and 4x noise gave 8 false alarms per 30 simulated
        // days; persistence 15 with the values below gave none, with median delays of 1.2-1.3 windows
        // for leaks of 2x the minimum effect and above. Final figures: docs/detection.md.
        persistence: 15,
        // 1 MiB per window: below that a heap "leak" is within the churn of JIT code, IC and string
        // tables of a healthy process. RSS (native) grows by allocator arenas and fragmentation for
        // minutes after start or after the heap grows (measured: +14 MB in 85 s after a one-time
        // 20 MB table load, no leak), so its floor is 16 MiB.
        minGrowthBytes: { old_space: 1 * MiB, external: 1 * MiB, native: 16 * MiB },
        // A week: a leak that would exhaust the limit within a week is worth waking someone for (90 MB/h
        // fills a 4 GB heap in two days, 50 MB/h in three and a half); one that needs longer is outlived
        // by the weekly deploy. At the default 30 min window this is 0.3% of a heap's limit per window
        // (the share of the limit it replaces was 0.5%, which at 60 s on a 4.3 GB heap asked for 22 MB
        // per minute). Measured, bench/longrun.js: docs/detection.md.
        horizonSec: 7 * DAY,
        shortHorizonScales: 32,
        // Growth must be 5x the slow noise (see Detector.slowNoise): a rank test alone is fooled by
        // autocorrelated noise on a 30-point window, whatever correction it uses (measured: HR alone
        // passed 17% of trendless AR(1) windows with phi 0.9 at p < 0.01; max(HR, AR(1)) about 5%).
        // While tuning, 2x gave 60 false alarms per 30 simulated days and 4x gave 8.
        minGrowthOfNoise: 5,
        minGrowthOfWindowNoise: 4,
        // A leak's second half grows at about the same rate as its first; a filling cache at half or less.
        decelerationRatio: 0.5,
        slowingRatio: 0.5,
      };
  }
}

/**
 * The thresholds of a sensitivity with overrides applied (a test or a bench may change one to show what
 * it does), frozen: nothing changes them while a detector runs.
 */
export function resolveThresholds(sensitivity: Sensitivity, overrides: Partial<Thresholds> = {}): Readonly<Thresholds> {
  const th = { ...thresholdsFor(sensitivity), ...overrides };
  th.minGrowthBytes = Object.freeze({ ...th.minGrowthBytes });
  return Object.freeze(th);
}

/** The thresholds of a short scale (see shortScaleMinMs): stricter significance, a horizon of a few scales. */
export function shortScaleThresholds(th: Readonly<Thresholds>, scaleMs: number): Readonly<Thresholds> {
  return Object.freeze({ ...th, alpha: th.alpha * th.shortAlphaFactor, horizonSec: Math.min(th.horizonSec, (th.shortHorizonScales * scaleMs) / 1000) });
}

/** The short scales of a window, longest first (empty when the window is short itself). */
export function shortScalesOf(windowMs: number, th: Readonly<Thresholds>): number[] {
  const out: number[] = [];
  // Whole seconds: a scale is also the window a verdict names.
  for (let s = windowMs / 2; s >= th.shortScaleMinMs && out.length < th.shortScalesMax; s /= 2) out.push(Math.round(s / 1000) * 1000);
  return out;
}

export function isSensitivity(v: string): v is Sensitivity {
  return v === 'low' || v === 'normal' || v === 'high';
}
