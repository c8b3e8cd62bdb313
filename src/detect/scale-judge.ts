/**
 * One judge: the three series watched at one time scale (a window, its buckets, its thresholds).
 * Per series and once per bucket (window / 30), the evaluation runs its stages in order, each filling
 * one part of the facts (facts.ts), then decide() turns the facts into the series' state, and the
 * judge applies the decision (streaks, episodes, verdicts):
 *   1. take the per-bucket minima of the kept history (decimate.ts, four windows); for old_space, take
 *      out the promoted garbage that full GCs show (garbage.ts);
 *   2. noise: the yardsticks from the history (stage-noise.ts);
 *   3. step: an upward step in the minima (stage-step.ts) is reported as a spike, and the trend is
 *      then judged only on the points after it;
 *   4. view: the minima, or the burst floor when traffic bursts dominate their noise (stage-view.ts);
 *   5. trend, 6. effect and 7. guards on the judged segment (stage-trend.ts);
 *   8. old_space only: the full-GC confirmation (stage-confirmation.ts);
 *   9. persistence: the streaks and the open episode (tracker.ts), judged by decide.ts.
 */
import type { Bucket } from './decimate';
import { decide, type Decision } from './decide';
import { effectFloor } from './effect-floor';
import type { Facts, PersistenceFacts, TrendFacts } from './facts';
import { withoutGarbage } from './garbage';
import type { Scale } from './scale';
import { confirmWithFullGcs } from './stage-confirmation';
import { noiseLevels } from './stage-noise';
import { decideSpike, findStep, type SpikeDecision } from './stage-step';
import { judgeEffect, judgeGuards, judgeTrend } from './stage-trend';
import { chooseView } from './stage-view';
import { timeToLimit } from './time-to-limit';
import { SeriesTracker, type SeriesStatus } from './tracker';
import type { LeakVerdict, LimitSource, MemorySeries, Verdict } from './verdict';

export interface Limit { bytes: number; source: LimitSource }

/** What the judge needs from the detector for one evaluation. */
export interface EvaluationContext {
  /** The limit this series would hit at its current level, if any is known. */
  limitFor(memory: MemorySeries, current: number): Limit | undefined;
  newEpisodeId(memory: MemorySeries, kind: 'leak' | 'spike', at: number): string;
}

export const SERIES: readonly MemorySeries[] = ['old_space', 'external', 'native'];

export class ScaleJudge {
  readonly trackers: Readonly<Record<MemorySeries, SeriesTracker>>;

  constructor(readonly scale: Scale) {
    const th = scale.th;
    const make = (m: MemorySeries): SeriesTracker => new SeriesTracker(m, scale.bucketMs, th.historyBuckets, th.maxFullGcs);
    this.trackers = { old_space: make('old_space'), external: make('external'), native: make('native') };
  }

  /** Evaluates every series at the end of a bucket; returns the verdicts. */
  evaluateAll(end: number, ctx: EvaluationContext): Verdict[] {
    const verdicts: Verdict[] = [];
    for (const memory of SERIES) verdicts.push(...this.evaluate(this.trackers[memory], end, ctx));
    return verdicts;
  }

  private evaluate(tr: SeriesTracker, end: number, ctx: EvaluationContext): Verdict[] {
    const { th, windowMs } = this.scale;
    const from = end - windowMs;
    // The kept history (four windows; the trend is judged on the last one, the slow noise on the last
    // two), as the series the trend sees: for old_space with the promoted garbage taken out, so that
    // the start-up cycle's garbage ramp does not count as "slow noise".
    const history = tr.buckets.since(-Infinity).filter((b) => b.start < end);
    const firstInWindow = history.findIndex((b) => b.start >= from);
    const pts = firstInWindow < 0 ? [] : history.slice(firstInWindow);
    const st = tr.status;
    st.evaluatedAt = end;
    st.needsFullGc = false;
    st.points = pts.length;
    st.fullGcPoints = pts.filter((b) => Number.isFinite(b.fullMin)).length;
    st.streak = tr.streak;
    const latest = tr.buckets.latest();
    st.currentBytes = latest ? latest.last : null;
    const persistence = this.persistence(tr);
    if (tr.firstSeen === undefined || end - tr.firstSeen < windowMs) {
      const reason = `collecting a full window (${Math.round((end - (tr.firstSeen ?? end)) / 1000)} s of ${Math.round(windowMs / 1000)} s)`;
      this.apply(tr, decide({ phase: 'warming-up', reason, persistence }));
      return [];
    }
    if (pts.length < th.minPoints) {
      this.apply(tr, decide({ phase: 'warming-up', reason: `only ${pts.length} of the ${th.minPoints} buckets needed had a reading in the window`, persistence }));
      return [];
    }
    const current = (pts[pts.length - 1] as Bucket).min;
    st.currentBytes = current;
    const limit = ctx.limitFor(tr.memory, current);
    st.limitBytes = limit?.bytes ?? null;
    st.limitSource = limit?.source ?? null;
    const times = pts.map((b) => b.t / 1000);

    // 1-2. minima and their noise
    const minima = tr.memory === 'old_space' ? withoutGarbage(history, tr.fullGcs, tr.firstSeen, th.minGarbageCycleOfWindow * windowMs) : history.map((b) => b.min);
    const minimaNoise = noiseLevels(this.scale, tr.minimaNoise, tr.quiet, history, minima, from);
    tr.minimaNoise = minimaNoise.memory;
    const floor = effectFloor(this.scale, tr.memory, limit, current);

    // 3. step / spike
    const step = findStep(this.scale, tr.pendingStep, times, minima.slice(firstInWindow), floor, minimaNoise.facts.slowNoise);
    tr.pendingStep = step.pending;
    const verdicts = this.applySpike(tr, decideSpike(this.scale, step.facts, tr.spike, tr.lastSpikeAt, current, from), end, ctx);
    const stepHere = step.facts.step;
    const since = Math.max(stepHere ? stepHere.at * 1000 : -Infinity, tr.lastSpikeAt);

    // 4. the view the trend is judged on
    const view = chooseView(this.scale, {
      history, minima, minimaNoise: minimaNoise.facts, floorMemory: tr.floorNoise, quiet: tr.quiet, firstInWindow, from, since, effectFloor: floor, burstyUntil: tr.burstyUntil,
    });
    tr.floorNoise = view.floorMemory;
    tr.burstyUntil = view.burstyUntil;
    st.burstRatio = view.facts.burstRatio;
    st.bursty = view.facts.bursty;
    const values = view.facts.historyValues.slice(firstInWindow);

    // 5-7. trend, effect and guards on the points after the step (or the whole window)
    const startIdx = stepHere ? stepHere.index : 0;
    const trend = judgeTrend(this.scale, times.slice(startIdx), values.slice(startIdx));
    if (!trend) {
      this.apply(tr, decide({ phase: 'after-step', persistence }));
      return verdicts;
    }
    const effect = judgeEffect(this.scale, trend, view.facts.noise, view.facts.lowest, floor);
    const guards = judgeGuards(this.scale, trend, {
      history, historyValues: view.facts.historyValues, windowValues: values, from, since, priorHigh: view.facts.noise.priorHigh, floor,
    });
    st.slopeBytesPerSec = trend.slope;
    st.slopeLowerBytesPerSec = trend.lower;
    st.slopeUpperBytesPerSec = trend.upper;
    st.pValue = trend.pValue;
    st.growthPerWindowBytes = effect.growth;
    st.minEffectBytes = effect.effect;

    // 8. old_space: growth must survive a full GC
    const lookFrom = Math.max(from - windowMs, since);
    const confirmation = confirmWithFullGcs(
      this.scale, tr.memory === 'old_space', tr.buckets.since(lookFrom).filter((b) => b.start < end && b.t >= lookFrom), end, trend.slope, view.facts.bursty,
    );

    // 9. persistence: has the open episode's growth stopped?
    if (tr.leak) {
      // Growth has stopped when the trend is gone. For old_space the bucket minima drop at every full
      // GC (garbage leaves), which breaks the rank trend of a leak that goes on; there the judge is
      // what survives full GCs, and without a recent full GC we cannot say it stopped.
      persistence.stopped = tr.memory === 'old_space'
        ? confirmation.informative && confirmation.growth < th.stopFraction * floor * (confirmation.spanSec / this.scale.windowSec)
        : !(trend.pValue < th.stopAlpha && effect.growth >= th.stopFraction * effect.effect);
      persistence.returned = current <= tr.leak.baseline + th.stopFraction * floor;
    }
    const facts: Facts = { phase: 'judged', trend, effect, guards, confirmation, persistence };
    const decision = decide(facts);
    this.apply(tr, decision);
    if (decision.action === 'end' && tr.leak) {
      verdicts.push({ kind: 'episode-end', memory: tr.memory, episodeId: tr.leak.id, endedAt: end, reason: decision.reason });
      tr.leak = undefined;
      this.setState(tr, decision);
    } else if (decision.action === 'raise') {
      verdicts.push(this.raise(tr, end, trend, current, limit, ctx));
      this.setState(tr, decision);
    }
    return verdicts;
  }

  private persistence(tr: SeriesTracker): PersistenceFacts {
    return {
      streak: tr.streak, stopStreak: tr.stopStreak, required: this.scale.th.persistence, inLeak: tr.leak !== undefined,
      stopped: false, returned: false, confirmable: tr.memory === 'old_space',
    };
  }

  private apply(tr: SeriesTracker, decision: Decision): void {
    tr.streak = decision.streak;
    tr.stopStreak = decision.stopStreak;
    tr.status.needsFullGc = decision.needsFullGc;
    this.setState(tr, decision);
  }

  private setState(tr: SeriesTracker, decision: Decision): void {
    const st = tr.status;
    st.state = tr.leak ? 'leak' : decision.state;
    st.reason = decision.reason;
    st.episodeId = tr.leak?.id ?? null;
    st.spikeEpisodeId = tr.spike?.id ?? null;
    st.streak = tr.streak;
  }

  private raise(tr: SeriesTracker, end: number, trend: TrendFacts, current: number, limit: Limit | undefined, ctx: EvaluationContext): LeakVerdict {
    const th = this.scale.th;
    const id = ctx.newEpisodeId(tr.memory, 'leak', end);
    tr.leak = { id, startedAt: end, baseline: trend.values[0] as number };
    const ttl = limit ? timeToLimit(current, limit.bytes, trend.slope, trend.lower, trend.upper) : { seconds: null, lowerSeconds: null, upperSeconds: null };
    const start = trend.times[0] as number;
    return {
      kind: 'leak',
      memory: tr.memory,
      episodeId: id,
      detectedAt: end,
      growthBytesPerSec: trend.slope,
      growthLowerBytesPerSec: trend.lower,
      growthUpperBytesPerSec: trend.upper,
      confidence: th.confidence,
      pValue: trend.pValue,
      windowMs: this.scale.windowMs,
      points: trend.values.length,
      currentBytes: current,
      limitBytes: limit ? limit.bytes : Number.NaN,
      limitSource: limit ? limit.source : 'heap',
      timeToLimitSec: ttl.seconds,
      timeToLimitLowerSec: ttl.lowerSeconds,
      timeToLimitUpperSec: ttl.upperSeconds,
      trend: { t0: Math.round(start * 1000), intercept: trend.intercept + trend.slope * start, slopePerMs: trend.slope / 1000 },
    };
  }

  private applySpike(tr: SeriesTracker, decision: SpikeDecision, end: number, ctx: EvaluationContext): Verdict[] {
    const verdicts: Verdict[] = [];
    const endSpike = (reason: string): void => {
      if (!tr.spike) return;
      verdicts.push({ kind: 'episode-end', memory: tr.memory, episodeId: tr.spike.id, endedAt: end, reason });
      tr.spike = undefined;
    };
    if (decision.kind === 'end') endSpike(decision.reason);
    if (decision.kind === 'start') {
      endSpike('superseded by a new step');
      const { step } = decision;
      const at = Math.round(step.at * 1000);
      tr.spike = { id: ctx.newEpisodeId(tr.memory, 'spike', at), at, before: step.before, size: step.size };
      tr.lastSpikeAt = at;
      verdicts.push({
        kind: 'spike', memory: tr.memory, episodeId: tr.spike.id, at,
        sizeBytes: Math.round(step.size), beforeBytes: Math.round(step.before), afterBytes: Math.round(step.after),
      });
    }
    return verdicts;
  }
}

export type { SeriesStatus };
