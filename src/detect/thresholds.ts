/**
 * Every threshold of the detector, per sensitivity, with the reason for its value. Computed once
 * when the detector is built (the window is fixed for the life of the agent).
 *
 * Measured effect of these values: see README "How it decides" (scorer table and the long-horizon
 * simulation on autocorrelated noise).
 */
import type { MemorySeries } from './verdict';

export type Sensitivity = 'low' | 'normal' | 'high';

const KiB = 1024;
const MiB = 1024 * KiB;

export interface Thresholds {
  /** Buckets per window: 30 gives MK/Sen enough points (Var(S) ≈ 3100, S resolves ~1%) at O(435) pairs. */
  bucketsPerWindow: number;
  /** History kept: two windows, so a step, a plateau or the baseline of an episode can be seen behind the window. */
  historyBuckets: number;
  /** Fewer non-empty buckets than this in the window: not enough evidence, keep warming up. */
  minPoints: number;
  /** One-sided Mann–Kendall p-value (after Hamed–Rao) below which a trend counts. */
  alpha: number;
  /** Consecutive evaluations (one per bucket) a leak must hold before the alert: 1/6 of a window at normal. */
  persistence: number;
  /** Minimum growth per window, bytes, per series (absolute floor). */
  minGrowthBytes: Record<MemorySeries, number>;
  /** Minimum growth per window as a fraction of the limit (heap or container limit). */
  minGrowthOfLimit: number;
  /** Minimum growth per window in units of the robust noise scale of the window's residuals. */
  minGrowthOfNoise: number;
  /** Plateau guard: second-half slope below this fraction of the first-half slope = decelerating. */
  decelerationRatio: number;
  /** Step guard: two levels must leave at most this fraction of a straight line's squared residual. */
  stepSseRatio: number;
  /** Episode end: growth below this fraction of the minimum effect counts as "stopped". */
  stopFraction: number;
  /** Confidence level of the reported growth interval. */
  confidence: number;
}

export function thresholdsFor(sensitivity: Sensitivity): Thresholds {
  const base = {
    bucketsPerWindow: 30,
    historyBuckets: 60,
    // 8: Mann–Kendall on 8 points still reaches p < 0.001 for a clean trend (max z ≈ 3.3), and a quiet
    // process may scavenge less often than once per bucket on short windows (measured: every ~2 s).
    minPoints: 8,
    // A ramp split into two levels keeps ~25% of the flat residual but the line fits it exactly, so
    // the ratio is large; a clean step gives a ratio near 0. 0.5 leaves room for noise around a step.
    stepSseRatio: 0.5,
    stopFraction: 0.5,
    confidence: 0.95,
  };
  switch (sensitivity) {
    case 'low':
      return {
        ...base,
        alpha: 0.001,
        persistence: 8,
        minGrowthBytes: { old_space: 4 * MiB, external: 4 * MiB, native: 16 * MiB },
        minGrowthOfLimit: 0.01,
        minGrowthOfNoise: 3,
        decelerationRatio: 0.6,
      };
    case 'high':
      return {
        ...base,
        alpha: 0.05,
        persistence: 3,
        minGrowthBytes: { old_space: 512 * KiB, external: 512 * KiB, native: 4 * MiB },
        minGrowthOfLimit: 0.002,
        minGrowthOfNoise: 1.5,
        decelerationRatio: 0.4,
      };
    default:
      return {
        ...base,
        // 1%: each series is evaluated once per bucket, but consecutive evaluations share 29 of 30
        // points and an alert needs `persistence` of them in a row, so the per-alert false rate is far
        // below alpha (measured in bench/longrun.js).
        alpha: 0.005,
        persistence: 15,
        // 1 MiB per window: below that a heap "leak" is within the churn of JIT code, IC and string
        // tables of a healthy process. RSS (native) moves in allocator arenas of several MiB, so its
        // floor is higher.
        minGrowthBytes: { old_space: 1 * MiB, external: 1 * MiB, native: 8 * MiB },
        // 0.5% of the limit per window: at the default 30 min window that is ≥ 24% of the limit a day,
        // an OOM within about four days — the slowest leak worth waking someone for.
        minGrowthOfLimit: 0.005,
        // Twice the noise: growth that is not clearly out of the noise band is not yet worth an alert,
        // however significant the rank test (autocorrelated noise fools rank tests on short windows).
        minGrowthOfNoise: 5,
        // A leak's second half grows at about the same rate as its first; a filling cache at half or less.
        decelerationRatio: 0.5,
      };
  }
}

export function isSensitivity(v: string): v is Sensitivity {
  return v === 'low' || v === 'normal' || v === 'high';
}
