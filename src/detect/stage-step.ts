/**
 * Stage: an upward step in the window's bucket minima (level-shift.ts), and what it means for the
 * series' spike episode. A step is what the minima show, bursts or not, so it is judged on them.
 * Pure: the pending step and the spike episode come in; the facts and the spike decision go out.
 */
import type { StepFacts } from './facts';
import { bestStep, isStep, type Step } from './level-shift';
import { robustScale } from './noise';
import type { Scale } from './scale';
import type { PendingStep, SpikeEpisode } from './tracker';

/**
 * @param times   the window's bucket times (s)
 * @param values  the window's bucket minima
 * @param floor   the effect floor (a step must be at least as large as a material growth)
 * @param slowNoise the minima's slow wander
 */
export function findStep(scale: Scale, pending: PendingStep, times: readonly number[], values: readonly number[], floor: number, slowNoise: number): { facts: StepFacts; pending: PendingStep } {
  const th = scale.th;
  const step = bestStep(times, values, th.stepMinSegment);
  let here: Step | undefined;
  if (isStep(step, th.stepSseRatio)) {
    const residuals = values.map((v, i) => v - (i < step.index ? step.before : step.after));
    // A step must stand out of both the scatter around the two levels and the slow wander.
    if (step.size >= Math.max(floor, th.stepNoiseFactor * robustScale(residuals), th.minGrowthOfNoise * slowNoise)) here = step;
  }
  // A step must be found at the same place on several evaluations in a row: slow noise sometimes
  // looks like a step for one evaluation, a real step stays.
  let next: PendingStep;
  if (here && Math.abs(here.at * 1000 - pending.at) <= th.stepMatchBuckets * scale.bucketMs) next = { at: pending.at, seen: pending.seen + 1 };
  else if (here) next = { at: here.at * 1000, seen: 1 };
  else next = { at: pending.at, seen: 0 };
  return { facts: { step: here, seen: next.seen }, pending: next };
}

export type SpikeDecision =
  | { kind: 'none' }
  /** A new spike episode at the step (the open one, if any, ends first: superseded). */
  | { kind: 'start'; step: Step }
  | { kind: 'end'; reason: string };

/**
 * @param lastSpikeAt when the latest spike was reported (ms)
 * @param current     the series' current level
 * @param from        start of the window (ms)
 */
export function decideSpike(scale: Scale, facts: StepFacts, spike: SpikeEpisode | undefined, lastSpikeAt: number, current: number, from: number): SpikeDecision {
  const th = scale.th;
  const step = facts.step;
  if (step && facts.seen >= th.spikeConfirmations && step.at * 1000 > lastSpikeAt + th.stepMatchBuckets * scale.bucketMs) return { kind: 'start', step };
  if (!spike) return { kind: 'none' };
  if (current <= spike.before + spike.size / 2) return { kind: 'end', reason: 'memory returned to the level before the step' };
  if (spike.at < from) return { kind: 'end', reason: 'the new level held for a full window without growing' };
  return { kind: 'none' };
}
