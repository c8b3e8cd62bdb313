/**
 * The record of facts one evaluation of one series gathers, stage by stage, before `decide()` turns
 * it into a state. Each stage fills one part and compares its own numbers with its own thresholds;
 * only decide() combines the parts. Plain data: a test can build one by hand.
 */
import type { Step } from './level-shift';

/** Noise yardsticks of one view (stage-noise.ts). */
export interface NoiseFacts {
  /** Slow wander of the last two windows, never below its own median over recent evaluations. */
  slowNoise: number;
  /** How far the series moved over a whole window in evaluations without a trend (0: not known yet). */
  windowNoise: number;
  /** Highest level of the windows before this one, for the new-high guard. */
  priorHigh: number;
}

/** The upward step in the window, if one stands out of the noise (stage-step.ts). */
export interface StepFacts {
  step: Step | undefined;
  /** Evaluations in a row the step has been found at the same place, this one included. */
  seen: number;
}

/** The series the trend is judged on (stage-view.ts). */
export interface ViewFacts {
  /** The kept history as judged: bucket minima (garbage taken out for old_space) or the burst floor. */
  historyValues: readonly number[];
  noise: NoiseFacts;
  bursty: boolean;
  burstRatio: number | null;
  /** On the burst floor: the scatter of the lowest minima (a floor is smoother than its noise); else 0. */
  lowest: number;
}

/** Rank trend and slope on the points after the step, or the whole window (stage-trend.ts). */
export interface TrendFacts {
  /** Times (s) and values of the judged segment. */
  times: readonly number[];
  values: readonly number[];
  pValue: number;
  slope: number;
  lower: number;
  upper: number;
  intercept: number;
  /** Robust scale of the segment around the rough line. */
  scatter: number;
  /** p below alpha and the lower confidence bound above zero. */
  significant: boolean;
  /** p within the hold factor of alpha (a weaker evaluation that holds a streak). */
  nearlySignificant: boolean;
}

/** Growth over the window against the minimum effect (stage-trend.ts). */
export interface EffectFacts {
  /** The part of the minimum effect that does not depend on the fit (absolute floor, limit). */
  floor: number;
  /** The noise the growth is measured against (largest of scatter, slow wander, lowest minima). */
  noise: number;
  effect: number;
  /** Growth over one window at the fitted slope. */
  growth: number;
  bigEnough: boolean;
  /** Growth at least the hold fraction of the effect. */
  nearlyBigEnough: boolean;
}

/** Shapes that grow but are not leaks (deceleration.ts, the new-high rule). */
export interface GuardFacts {
  /** The second half of the window grew more slowly than the first (plateau guard). */
  decelerating: boolean;
  /** ...after growing by at least the effect floor in the first half: a cache that filled. */
  filledThenSlowed: boolean;
  /** The last third of the window is flat. */
  stalled: boolean;
  /** The half window before this one grew faster (a cache filling ever more slowly). */
  slowed: boolean;
  /** The current level is above every level of the windows before. */
  newHigh: boolean;
}

/** old_space: does the growth show in readings taken right after full GCs (stage-confirmation.ts)? */
export interface ConfirmationFacts {
  /** Only old_space needs a confirmation; the others are always confirmed. */
  applies: boolean;
  /** Two post-full-GC readings far enough apart to compare. */
  informative: boolean;
  /** The latest of them is recent enough to speak for the window's growth. */
  fresh: boolean;
  /** Growth between them, and the seconds between them. */
  growth: number;
  spanSec: number;
  confirmed: boolean;
}

/** The streaks and the open episode (tracker.ts), and whether that episode's growth has stopped. */
export interface PersistenceFacts {
  streak: number;
  stopStreak: number;
  /** Evaluations in a row a condition must hold (thresholds.persistence). */
  required: number;
  inLeak: boolean;
  /** In a leak episode: growth has stopped (judged after full GCs for old_space). */
  stopped: boolean;
  /** In a leak episode: memory is back near its level before the episode. */
  returned: boolean;
  /** old_space needs full GCs to confirm growth (asks for one when it lacks them). */
  confirmable: boolean;
}

export type Facts =
  | { phase: 'warming-up'; reason: string; persistence: PersistenceFacts }
  /** A step was just seen: too few points after it to judge a trend. */
  | { phase: 'after-step'; persistence: PersistenceFacts }
  | { phase: 'judged'; trend: TrendFacts; effect: EffectFacts; guards: GuardFacts; confirmation: ConfirmationFacts; persistence: PersistenceFacts };
