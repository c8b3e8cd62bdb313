/**
 * Stage: the series the trend is judged on — the bucket minima, or, when bursts dominate their noise,
 * the burst floor (envelope.ts: the lower envelope over a third of a window, carried forward along the
 * floor's growth, never reaching back across a step). Bursty means the minima's noise yardstick
 * (scatter around a line, or the slow noise, whichever is larger) is at least burstNoiseRatio times
 * the floor's (the excursions above the floor, not the floor's own wander, are what the minima's
 * noise measures) and that noise matters next to the effect floor. Both views keep their own noise
 * memory every evaluation, so a switch between them compares like with like.
 * Pure: the floor's noise memory and the bursty-until time come in, their next values go out.
 */
import type { Bucket } from './decimate';
import { floorGrowthPerMs, lowerEnvelope } from './envelope';
import type { NoiseFacts, ViewFacts } from './facts';
import { lowerTailScale, scatterAroundLine } from './noise';
import type { Scale } from './scale';
import { noiseLevels } from './stage-noise';
import { theilSen } from './theil-sen';
import type { NoiseMemory } from './tracker';

export interface ViewInput {
  history: readonly Bucket[];
  /** The bucket minima of the history (garbage taken out for old_space) and their noise facts. */
  minima: readonly number[];
  minimaNoise: NoiseFacts;
  floorMemory: NoiseMemory;
  /** May this evaluation teach the floor's window noise (see noiseLevels)? */
  quiet: boolean;
  firstInWindow: number;
  /** Start of the window (ms), and of the judged part (after the latest step). */
  from: number;
  since: number;
  effectFloor: number;
  burstyUntil: number;
}

export function chooseView(scale: Scale, input: ViewInput): { facts: ViewFacts; floorMemory: NoiseMemory; burstyUntil: number } {
  const th = scale.th;
  const { history, minima, minimaNoise, firstInWindow, from, since } = input;
  const times = history.map((b) => b.t);
  const windowTimes = times.slice(firstInWindow).map((t) => t / 1000);
  const span = th.burstSpanOfWindow * scale.windowMs;
  const envelope = lowerEnvelope(times, minima, span, floorGrowthPerMs(times, minima, span, firstInWindow, since), since);
  const floorNoise = noiseLevels(scale, input.floorMemory, input.quiet, history, envelope, from);
  const yardstick = (values: readonly number[], noise: NoiseFacts): number => Math.max(scatterAroundLine(windowTimes, values.slice(firstInWindow)), noise.slowNoise);
  // The floor's yardstick is at least the scatter of the lowest minima around the floor's line
  // (noise.ts): a lower envelope of symmetric noise is smooth by construction (a minimum over a
  // span), and judged by its own scatter alone plain noise looks bursty (measured: iid noise around a
  // linear leak reached a ratio of 3).
  const floorSlope = theilSen(windowTimes, envelope.slice(firstInWindow), 0).slope;
  const floorYardstick = Math.max(yardstick(envelope, floorNoise.facts), lowerTailScale(windowTimes, minima.slice(firstInWindow), floorSlope));
  const minimaYardstick = yardstick(minima, minimaNoise);
  const ratio = minimaYardstick / floorYardstick;
  const burstRatio = Number.isFinite(ratio) ? ratio : null;
  // Only bursts that matter (thresholds.ts, burstMaterialOfFloor).
  const material = th.minGrowthOfNoise * minimaYardstick >= th.burstMaterialOfFloor * input.effectFloor;
  // A series seen bursty stays on the floor for a window after the last time it was: bursts come and
  // go (a window may hold one burst or three; measured in the corpus: the ratio moved between 1 and 6
  // under the same bursts), and switching the yardsticks back reset a leak's persistence count. The
  // floor is safe to stay on: its yardstick never drops below the scatter of the lowest minima.
  const end = times.length ? (times[times.length - 1] as number) : 0;
  const burstyUntil = material && ratio >= th.burstNoiseRatio ? end + scale.windowMs : input.burstyUntil;
  const bursty = end < burstyUntil;
  const out = { floorMemory: floorNoise.memory, burstyUntil };
  if (!bursty) return { ...out, facts: { historyValues: minima, noise: minimaNoise, bursty, burstRatio, lowest: 0 } };
  // On the floor, the trend's noise is never below the scatter of the lowest quarter of the minima
  // (lower percentiles than the test above: bursts that cover more than half the buckets must not
  // enter the yardstick of the leak under them).
  const lowest = lowerTailScale(windowTimes, minima.slice(firstInWindow), floorSlope, th.floorTailLow, th.floorTailHigh);
  return { ...out, facts: { historyValues: envelope, noise: floorNoise.facts, bursty, burstRatio, lowest } };
}
