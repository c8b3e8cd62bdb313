/**
 * What the detector tells the policy. This file is the contract between the detection stage and
 * the stages the policy drives (evidence, telemetry, upload): extend it, do not rename fields.
 */

/** Which memory a verdict is about. Buffer and native leaks do not show in old-space. */
export type MemorySeries = 'old_space' | 'external' | 'native';

/** The detector's current opinion of one series, reported on every evaluation. */
export type SeriesState =
  | 'warming-up' // not enough history yet
  | 'steady' // no trend
  | 'suspect' // a trend is forming but not yet persistent/significant enough to alert
  | 'leak' // inside a leak episode
  | 'plateau'; // grew, then decelerated to a flat level (cache filled up)

/** Which limit a series will hit: V8's heap limit, the container's memory limit (minus the rest of
 * the process), or — for external/native memory outside a container — the host's physical memory. */
export type LimitSource = 'heap' | 'container' | 'host';

export interface LeakVerdict {
  kind: 'leak';
  memory: MemorySeries;
  /** Stable id of the episode; the same leak keeps its id until `episode-end`. */
  episodeId: string;
  /** Epoch ms when the alert was raised. */
  detectedAt: number;
  /** Theil–Sen slope in bytes per second, and its confidence interval. */
  growthBytesPerSec: number;
  growthLowerBytesPerSec: number;
  growthUpperBytesPerSec: number;
  /** Confidence level of the interval, e.g. 0.95. */
  confidence: number;
  /** Mann–Kendall p-value (one-sided, for an increasing trend), after autocorrelation correction. */
  pValue: number;
  /** The history the decision looked at, in ms, and how many points it used. */
  windowMs: number;
  points: number;
  /** Current use of this memory, in bytes. */
  currentBytes: number;
  /** The limit this memory will hit first, and which one it is. */
  limitBytes: number;
  limitSource: LimitSource;
  /** Estimated seconds until the limit at the fitted slope, with an interval; null when not finite. */
  timeToLimitSec: number | null;
  timeToLimitLowerSec: number | null;
  timeToLimitUpperSec: number | null;
  /** The fitted Theil–Sen line: value(t) = intercept + slopePerMs × (t − t0), t in epoch ms. */
  trend?: { t0: number; intercept: number; slopePerMs: number };
}

export interface SpikeVerdict {
  kind: 'spike';
  memory: MemorySeries;
  episodeId: string;
  /** Epoch ms of the step. */
  at: number;
  /** Size of the step in bytes, and the levels before and after it. */
  sizeBytes: number;
  beforeBytes: number;
  afterBytes: number;
}

export interface EpisodeEnd {
  kind: 'episode-end';
  memory: MemorySeries;
  episodeId: string;
  endedAt: number;
  /** Why the episode ended, e.g. "growth stopped" or "memory returned to baseline". */
  reason: string;
}

export type Verdict = LeakVerdict | SpikeVerdict | EpisodeEnd;
