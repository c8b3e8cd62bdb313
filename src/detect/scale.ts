/**
 * The time scale one judge works at: its window, its bucket length and its thresholds (frozen).
 * Every stage of an evaluation receives it instead of reading a detector.
 */
import type { Thresholds } from './thresholds';

export interface Scale {
  readonly windowMs: number;
  readonly windowSec: number;
  readonly bucketMs: number;
  readonly th: Readonly<Thresholds>;
}

export function scaleFor(windowMs: number, th: Readonly<Thresholds>): Scale {
  return Object.freeze({ windowMs, windowSec: windowMs / 1000, bucketMs: Math.max(1, Math.round(windowMs / th.bucketsPerWindow)), th });
}
