/**
 * The leak detector: GC records and process readings in, verdicts out. Pure: no I/O, no timers, no
 * clock (time comes with the data), no globals; bounded memory (a fixed number of buckets per series).
 *
 * Per series (old_space, external, native) and once per bucket (window / 30):
 *   1. take the per-bucket minima of the kept history (decimate.ts, four windows); for old_space, take
 *      out the promoted garbage that full GCs show (garbage.ts);
 *   2. measure the noise yardsticks from the history (noiseLevels, noise.ts);
 *   3. look for an upward step in the minima (level-shift.ts): a step is reported as a spike, and the
 *      trend is then judged only on the points after it;
 *   4. choose the view the trend is judged on (view): the minima, or the burst floor when traffic
 *      bursts dominate their noise (envelope.ts);
 *   5. Mann–Kendall with ties and a capped autocorrelation correction measured on the residuals of the
 *      best bent line (mann-kendall.ts, hinge.ts), Theil–Sen slope and interval (theil-sen.ts);
 *   6. effect size: growth per window ≥ max(absolute floor, share of the limit, k × noise);
 *   7. plateau, stall and slowing guards (deceleration.ts), and the new-high guard;
 *   8. old_space only: the growth must show in post-full-GC readings (full-gc-growth.ts), because
 *      between full GCs the old generation also fills with promoted garbage that looks exactly like a
 *      slow leak (the status asks for a confirmation GC when none has);
 *   9. persistence: the leak condition must hold `persistence` evaluations (weaker ones hold the count);
 *   then one `leak` verdict per episode, and `episode-end` when growth stops.
 */
import type { ContainerMemory } from '../process/container';
import type { ProcessMemory } from '../process/memory';
import type { GcRecord } from '../sampler/types';
import { BucketMinima, type Bucket } from './decimate';
import { deceleration, slowedDown, stalled } from './deceleration';
import { floorGrowthPerMs, lowerEnvelope } from './envelope';
import { hingeResiduals } from './hinge';
import { bestStep, isStep, type Step } from './level-shift';
import { mannKendall } from './mann-kendall';
import { externalBytes, nativeBytes, oldGenerationAfter, oldGenerationBefore, recordTime } from './series';
import { fullGcGrowth } from './full-gc-growth';
import { type FullGc, withoutGarbage } from './garbage';
import { laggedScale, lowerTailScale, robustScale, scatterAroundLine } from './noise';
import { medianOf, theilSen } from './theil-sen';
import { thresholdsFor, type Sensitivity, type Thresholds } from './thresholds';
import { timeToLimit } from './time-to-limit';
import type { LeakVerdict, LimitSource, MemorySeries, SeriesState, Verdict } from './verdict';

export interface DetectorOptions {
  windowMs: number;
  sensitivity: Sensitivity;
}

export interface DetectorInput {
  records: readonly GcRecord[];
  memory: ProcessMemory;
  container?: ContainerMemory | undefined;
  /** Physical memory of the host: the limit of external/native memory when there is no container limit. */
  hostMemoryBytes?: number | undefined;
}

/** What the detector currently thinks of one series (status() and telemetry). */
export interface SeriesStatus {
  memory: MemorySeries;
  state: SeriesState;
  /** Why the series is in this state, in words. */
  reason: string;
  /** Non-empty buckets in the window, and how many of them contain a full GC. */
  points: number;
  fullGcPoints: number;
  currentBytes: number | null;
  limitBytes: number | null;
  limitSource: LimitSource | null;
  slopeBytesPerSec: number | null;
  slopeLowerBytesPerSec: number | null;
  slopeUpperBytesPerSec: number | null;
  pValue: number | null;
  /** Growth over one window at the fitted slope, and the minimum effect it is compared with. */
  growthPerWindowBytes: number | null;
  minEffectBytes: number | null;
  /** Consecutive evaluations the leak condition has held. */
  streak: number;
  /**
   * old_space only: the trend holds but no full GC has confirmed it yet. The policy may ask V8 for a
   * full GC (a confirmation GC) instead of waiting for one: a quiet process runs few of them.
   */
  needsFullGc: boolean;
  /** The trend is judged on the burst floor instead of the bucket minima (see Detector.view). */
  bursty: boolean;
  /** The minima's noise yardstick over the burst floor's (bursty from burstNoiseRatio on). */
  burstRatio: number | null;
  episodeId: string | null;
  spikeEpisodeId: string | null;
  evaluatedAt: number | null;
}

/** Bounded lists of a view's noise estimates, one entry per evaluation. */
class NoiseMemory {
  /** Raw slow-noise estimates of the last evaluations (bounded: historyBuckets). */
  readonly estimates: number[] = [];
  /** Window-lag noise estimates from evaluations without a trend (bounded: historyBuckets). */
  readonly quiet: number[] = [];
}

interface NoiseLevels { slowNoise: number; windowNoise: number; priorHigh: number }

interface LeakEpisode { id: string; startedAt: number; baseline: number }
interface SpikeEpisode { id: string; at: number; before: number; size: number }

const SERIES: readonly MemorySeries[] = ['old_space', 'external', 'native'];
/** Full GCs remembered for the garbage correction: more than two windows' worth at any realistic rate. */
const MAX_FULL_GCS = 256;
/** Evaluations in a row a step must be seen before it is reported (3 buckets = a tenth of a window). */
const SPIKE_CONFIRMATIONS = 3;

class SeriesTracker {
  readonly buckets: BucketMinima;
  firstSeen: number | undefined;
  streak = 0;
  stopStreak = 0;
  leak: LeakEpisode | undefined;
  spike: SpikeEpisode | undefined;
  lastSpikeAt = -Infinity;
  /** Judge on the burst floor until this time (a window after the series last looked bursty). */
  burstyUntil = -Infinity;
  pendingStepAt = -Infinity;
  pendingStepSeen = 0;
  /** Noise estimates of the bucket-minima view and of the burst-floor view (see Detector.view). */
  readonly minimaNoise = new NoiseMemory();
  readonly floorNoise = new NoiseMemory();
  /** old_space only: the last full GCs (bounded), for the garbage correction. */
  readonly fullGcs: FullGc[] = [];
  status: SeriesStatus;

  constructor(readonly memory: MemorySeries, bucketMs: number, maxBuckets: number) {
    this.buckets = new BucketMinima(bucketMs, maxBuckets);
    this.status = {
      memory, state: 'warming-up', reason: 'no data yet', points: 0, fullGcPoints: 0, currentBytes: null, limitBytes: null,
      limitSource: null, slopeBytesPerSec: null, slopeLowerBytesPerSec: null, slopeUpperBytesPerSec: null, pValue: null,
      growthPerWindowBytes: null, minEffectBytes: null, streak: 0, needsFullGc: false, bursty: false, burstRatio: null, episodeId: null, spikeEpisodeId: null, evaluatedAt: null,
    };
  }

  add(t: number, value: number, full: boolean): void {
    if (this.firstSeen === undefined) this.firstSeen = t;
    this.buckets.add(t, value, full);
  }
}

interface Limit { bytes: number; source: LimitSource }

export class Detector {
  readonly thresholds: Thresholds;
  readonly bucketMs: number;
  private readonly windowSec: number;
  private readonly trackers: Record<MemorySeries, SeriesTracker>;
  private currentBucket = -Infinity;
  private episodes = 0;
  private latest: DetectorInput | undefined;
  /** The fitted line of the last leak verdict, per series (for the evidence chart). */
  private readonly trends = new Map<MemorySeries, { t0: number; intercept: number; slopePerMs: number }>();

  constructor(readonly options: DetectorOptions) {
    this.thresholds = thresholdsFor(options.sensitivity);
    this.bucketMs = Math.max(1, Math.round(options.windowMs / this.thresholds.bucketsPerWindow));
    this.windowSec = options.windowMs / 1000;
    const make = (m: MemorySeries): SeriesTracker => new SeriesTracker(m, this.bucketMs, this.thresholds.historyBuckets);
    this.trackers = { old_space: make('old_space'), external: make('external'), native: make('native') };
  }

  /** Feeds one drain's worth of data; returns the verdicts it produced (usually none). */
  observe(input: DetectorInput): Verdict[] {
    this.latest = input;
    for (const r of input.records) {
      const t = recordTime(r);
      const full = r.kind === 'mark-sweep-compact';
      const after = oldGenerationAfter(r);
      this.trackers.old_space.add(t, after, full);
      if (full && r.before) {
        const list = this.trackers.old_space.fullGcs;
        list.push({ t, before: oldGenerationBefore(r), after });
        if (list.length > MAX_FULL_GCS) list.shift();
      }
      if (Number.isFinite(r.external)) this.trackers.external.add(t, r.external, full);
    }
    const m = input.memory;
    this.trackers.external.add(m.time, externalBytes(m), false);
    this.trackers.native.add(m.time, nativeBytes(m), false);

    // Evaluate once per bucket, on the buckets that are complete.
    const bucket = Math.floor(m.time / this.bucketMs);
    if (bucket <= this.currentBucket) return [];
    const first = this.currentBucket === -Infinity;
    this.currentBucket = bucket;
    if (first) return [];
    const verdicts: Verdict[] = [];
    for (const memory of SERIES) verdicts.push(...this.evaluate(this.trackers[memory], bucket * this.bucketMs));
    return verdicts;
  }

  /** Per-series state for status() and telemetry (copies). */
  states(): Record<MemorySeries, SeriesStatus> {
    return {
      old_space: { ...this.trackers.old_space.status },
      external: { ...this.trackers.external.status },
      native: { ...this.trackers.native.status },
    };
  }

  /** The fitted trend of the latest leak verdict on `memory`, as the evidence chart wants it. */
  trend(memory: MemorySeries): { t0: number; intercept: number; slopePerMs: number } | null {
    return this.trends.get(memory) ?? null;
  }

  private limitFor(memory: MemorySeries, current: number): Limit | undefined {
    const input = this.latest;
    if (!input) return undefined;
    const m = input.memory;
    const candidates: Limit[] = [];
    if (memory === 'old_space' && m.heapLimit > 0) candidates.push({ bytes: m.heapLimit, source: 'heap' });
    // Everything else in the process keeps its share of the container: this series can grow into
    // the limit minus what the rest of the process uses now.
    const others = Math.max(0, m.rss - current);
    const containerLimit = input.container?.limit;
    if (typeof containerLimit === 'number' && containerLimit > 0) candidates.push({ bytes: containerLimit - others, source: 'container' });
    else if (memory !== 'old_space' && input.hostMemoryBytes && input.hostMemoryBytes > 0) {
      candidates.push({ bytes: input.hostMemoryBytes - others, source: 'host' });
    }
    let best: Limit | undefined;
    for (const c of candidates) if (!best || c.bytes < best.bytes) best = c;
    return best;
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
  private slowNoise(history: readonly Bucket[], historyValues: readonly number[], from: number): number {
    const lagged = laggedScale(historyValues, this.thresholds.bucketsPerWindow / 2);
    const before = historyValues.filter((_, i) => (history[i] as Bucket).start < from);
    const levels = before.length >= this.thresholds.minPoints ? robustScale(before) : 0;
    if (lagged === 0) return levels;
    if (levels === 0) return lagged;
    return Math.min(lagged, levels);
  }

  /**
   * The yardsticks a trend is measured against, from the kept history (as the trend sees it):
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
   * Updates the tracker's bounded estimate lists (one entry per evaluation).
   */
  private noiseLevels(mem: NoiseMemory, tr: SeriesTracker, history: readonly Bucket[], historyValues: readonly number[], from: number): NoiseLevels {
    const th = this.thresholds;
    const noiseFrom = Math.max(0, history.findIndex((b) => b.start >= from - this.options.windowMs));
    const raw = this.slowNoise(history.slice(noiseFrom), historyValues.slice(noiseFrom), from);
    mem.estimates.push(raw);
    if (mem.estimates.length > th.historyBuckets) mem.estimates.shift();
    const overWindow = historyValues.length >= th.bucketsPerWindow + 20 ? laggedScale(historyValues, th.bucketsPerWindow) : 0;
    if (overWindow > 0 && tr.streak === 0 && !tr.leak && !tr.spike) {
      mem.quiet.push(overWindow);
      if (mem.quiet.length > th.historyBuckets) mem.quiet.shift();
    }
    let priorHigh = -Infinity;
    for (let i = 0; i < history.length && (history[i] as Bucket).start < from; i++) priorHigh = Math.max(priorHigh, historyValues[i] as number);
    return {
      slowNoise: Math.max(raw, medianOf(mem.estimates)),
      windowNoise: mem.quiet.length ? medianOf(mem.quiet) : 0,
      priorHigh,
    };
  }

  /**
   * The series the trend is judged on: the bucket minima, or — when bursts dominate their noise — the
   * burst floor (envelope.ts: the lower envelope over a third of a window, carried forward along the
   * floor's growth, never reaching back across a step). Bursty means the minima's noise yardstick
   * (scatter around a line, or the slow noise, whichever is larger) is at least burstNoiseRatio times
   * the floor's (the excursions above the floor, not the floor's own wander, are what the minima's
   * noise measures) and that noise matters next to the effect floor. Both views keep their own noise
   * memory every evaluation, so a switch between them compares like with like.
   */
  private view(tr: SeriesTracker, history: readonly Bucket[], minima: readonly number[], minimaNoise: NoiseLevels, firstInWindow: number, from: number, since: number, effectFloor: number): { historyValues: readonly number[]; noise: NoiseLevels; bursty: boolean; lowest: number } {
    const th = this.thresholds;
    const times = history.map((b) => b.t);
    const windowTimes = times.slice(firstInWindow).map((t) => t / 1000);
    const span = th.burstSpanOfWindow * this.options.windowMs;
    const envelope = lowerEnvelope(times, minima, span, floorGrowthPerMs(times, minima, span, firstInWindow, since), since);
    const envelopeNoise = this.noiseLevels(tr.floorNoise, tr, history, envelope, from);
    const yardstick = (values: readonly number[], noise: NoiseLevels): number => Math.max(scatterAroundLine(windowTimes, values.slice(firstInWindow)), noise.slowNoise);
    // The floor's yardstick is at least the scatter of the lowest minima around the floor's line
    // (noise.ts): a lower envelope of symmetric noise is smooth by construction (a minimum over a
    // span), and judged by its own scatter alone plain noise looks bursty (measured: iid noise around a
    // linear leak reached a ratio of 3).
    const floorSlope = theilSen(windowTimes, envelope.slice(firstInWindow), 0).slope;
    const floorYardstick = Math.max(yardstick(envelope, envelopeNoise), lowerTailScale(windowTimes, minima.slice(firstInWindow), floorSlope));
    const minimaYardstick = yardstick(minima, minimaNoise);
    const ratio = minimaYardstick / floorYardstick;
    tr.status.burstRatio = Number.isFinite(ratio) ? ratio : null;
    // Only bursts that matter (thresholds.ts, burstMaterialOfFloor).
    const material = th.minGrowthOfNoise * minimaYardstick >= th.burstMaterialOfFloor * effectFloor;
    // A series seen bursty stays on the floor for a window after the last time it was: bursts come and
    // go (a window may hold one burst or three; measured in the corpus: the ratio moved between 1 and 6
    // under the same bursts), and switching the yardsticks back reset a leak's persistence count. The
    // floor is safe to stay on: its yardstick never drops below the scatter of the lowest minima.
    const end = times.length ? (times[times.length - 1] as number) : 0;
    if (material && ratio >= th.burstNoiseRatio) tr.burstyUntil = end + this.options.windowMs;
    const bursty = end < tr.burstyUntil;
    // On the floor, the trend's noise is never below the scatter of the lowest quarter of the minima
    // (lower percentiles than the test above: bursts that cover more than half the buckets must not
    // enter the yardstick of the leak under them).
    if (!bursty) return { historyValues: minima, noise: minimaNoise, bursty, lowest: 0 };
    const lowest = lowerTailScale(windowTimes, minima.slice(firstInWindow), floorSlope, 0.05, 0.3);
    return { historyValues: envelope, noise: envelopeNoise, bursty, lowest };
  }

  private newEpisodeId(memory: MemorySeries, kind: string, at: number): string {
    this.episodes += 1;
    return `${memory}-${kind}-${at.toString(36)}-${this.episodes}`;
  }

  private evaluate(tr: SeriesTracker, end: number): Verdict[] {
    const th = this.thresholds;
    const windowMs = this.options.windowMs;
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
    if (tr.firstSeen === undefined || end - tr.firstSeen < windowMs) {
      this.setState(tr, 'warming-up', `collecting a full window (${Math.round((end - (tr.firstSeen ?? end)) / 1000)} s of ${Math.round(windowMs / 1000)} s)`);
      return [];
    }
    if (pts.length < th.minPoints) {
      this.setState(tr, 'warming-up', `only ${pts.length} of the ${th.minPoints} buckets needed had a reading in the window`);
      return [];
    }
    const current = (pts[pts.length - 1] as Bucket).min;
    st.currentBytes = current;
    const limit = this.limitFor(tr.memory, current);
    st.limitBytes = limit?.bytes ?? null;
    st.limitSource = limit?.source ?? null;
    const times = pts.map((b) => b.t / 1000);
    const minima = tr.memory === 'old_space' ? withoutGarbage(history, tr.fullGcs, tr.firstSeen, th.minGarbageCycleOfWindow * windowMs) : history.map((b) => b.min);
    const minimaNoise = this.noiseLevels(tr.minimaNoise, tr, history, minima, from);
    const minimaInWindow = minima.slice(firstInWindow);

    // Effect floor that does not depend on the fit: absolute and share of a real limit. A host-sized
    // "limit" (no container) is not a scale for a process, so only the absolute floor applies then.
    const floor = Math.max(
      th.minGrowthBytes[tr.memory],
      limit && limit.source !== 'host' ? th.minGrowthOfLimit * limit.bytes : 0,
    );
    const verdicts: Verdict[] = [];

    // ---- step / spike (on the bucket minima: a step is what they show, bursts or not) ---------------
    const step = bestStep(times, minimaInWindow, 3);
    let stepHere: Step | undefined;
    if (isStep(step, th.stepSseRatio)) {
      const residuals = minimaInWindow.map((v, i) => v - (i < step.index ? step.before : step.after));
      const stepNoise = robustScale(residuals);
      // A step must stand out of both the scatter around the two levels and the slow wander.
      if (step.size >= Math.max(floor, 4 * stepNoise, th.minGrowthOfNoise * minimaNoise.slowNoise)) stepHere = step;
    }
    // A step must be found at the same place (±2 buckets) on SPIKE_CONFIRMATIONS evaluations in a row:
    // slow noise sometimes looks like a step for one evaluation, a real step stays.
    if (stepHere && Math.abs(stepHere.at * 1000 - tr.pendingStepAt) <= 2 * this.bucketMs) tr.pendingStepSeen += 1;
    else if (stepHere) {
      tr.pendingStepAt = stepHere.at * 1000;
      tr.pendingStepSeen = 1;
    } else tr.pendingStepSeen = 0;
    if (stepHere && tr.pendingStepSeen >= SPIKE_CONFIRMATIONS && stepHere.at * 1000 > tr.lastSpikeAt + 2 * this.bucketMs) {
      if (tr.spike) verdicts.push(this.endSpike(tr, end, 'superseded by a new step'));
      const at = Math.round(stepHere.at * 1000);
      tr.spike = { id: this.newEpisodeId(tr.memory, 'spike', at), at, before: stepHere.before, size: stepHere.size };
      tr.lastSpikeAt = at;
      verdicts.push({
        kind: 'spike', memory: tr.memory, episodeId: tr.spike.id, at,
        sizeBytes: Math.round(stepHere.size), beforeBytes: Math.round(stepHere.before), afterBytes: Math.round(stepHere.after),
      });
    } else if (tr.spike) {
      if (current <= tr.spike.before + tr.spike.size / 2) verdicts.push(this.endSpike(tr, end, 'memory returned to the level before the step'));
      else if (tr.spike.at < from) verdicts.push(this.endSpike(tr, end, 'the new level held for a full window without growing'));
    }

    // ---- the view the trend is judged on (bucket minima or burst floor) -----------------------------
    const since = Math.max(stepHere ? stepHere.at * 1000 : -Infinity, tr.lastSpikeAt);
    const { historyValues, noise: { slowNoise, windowNoise, priorHigh }, bursty, lowest } = this.view(tr, history, minima, minimaNoise, firstInWindow, from, since, floor);
    st.bursty = bursty;
    const values = historyValues.slice(firstInWindow);

    // ---- trend on the points after the step (or the whole window) ---------------------------------
    const startIdx = stepHere ? stepHere.index : 0;
    const segT = times.slice(startIdx);
    const segV = values.slice(startIdx);
    if (segV.length < Math.ceil(th.minPoints / 2)) {
      tr.streak = 0;
      this.setState(tr, 'steady', 'a step was just seen; waiting for points after it');
      return verdicts;
    }
    const rough = theilSen(segT, segV, 0);
    const detrended = segV.map((v, i) => v - rough.slope * (segT[i] as number));
    // Residuals within 1 KiB of a line are measurement resolution, not noise: their "autocorrelation"
    // is a rounding pattern, so no correction is applied to such a clean series.
    const spread = Math.max(...detrended) - Math.min(...detrended);
    const mk = mannKendall(segV, spread < 1024 ? undefined : hingeResiduals(segT, segV));
    const sen = theilSen(segT, segV, mk.varCorrected, th.confidence);
    // Noise: the larger of the spread inside the window and the slow wander (see slowNoise); on the
    // burst floor also the scatter of the lowest minima (a floor is smoother than the noise it sits on).
    const noise = Math.max(robustScale(detrended), slowNoise, lowest);
    const effect = Math.max(floor, th.minGrowthOfNoise * noise, th.minGrowthOfWindowNoise * windowNoise);
    const growth = sen.slope * this.windowSec;
    const decel = deceleration(segT, segV, th.decelerationRatio);
    const stall = stalled(segT, segV, sen.slope, th.decelerationRatio);
    // The half window before this one (same view, never across a step) for the slowing guard.
    const priorFrom = Math.max(from - windowMs / 2, since);
    const priorTimes: number[] = [];
    const priorValues: number[] = [];
    history.forEach((b, i) => {
      if (b.t >= priorFrom && b.t < from) {
        priorTimes.push(b.t / 1000);
        priorValues.push(historyValues[i] as number);
      }
    });
    const slowing = slowedDown(priorTimes, priorValues, sen.slope, th.slowingRatio, Math.ceil(th.minPoints / 2));
    st.slopeBytesPerSec = sen.slope;
    st.slopeLowerBytesPerSec = sen.lower;
    st.slopeUpperBytesPerSec = sen.upper;
    st.pValue = mk.pValue;
    st.growthPerWindowBytes = growth;
    st.minEffectBytes = effect;

    // ---- old_space: growth must survive a full GC ---------------------------------------------------
    // (full-gc-growth.ts) The look-back spans up to two windows (full GCs are rare in a quiet process)
    // but stops at a step: a step must not confirm a trend.
    let confirmed = true;
    let fullInfo = false;
    let fullGrowth = 0;
    let fullSpanSec = 0;
    let fullFresh = false;
    if (tr.memory === 'old_space') {
      const lookFrom = Math.max(from - windowMs, stepHere ? stepHere.at * 1000 : -Infinity, tr.lastSpikeAt);
      const seg = tr.buckets.since(lookFrom).filter((b) => b.start < end && b.t >= lookFrom);
      const quarter = this.windowSec / 4;
      const shown = fullGcGrowth(seg, quarter, bursty ? th.burstSpanOfWindow * windowMs : 0);
      if (shown) {
        fullGrowth = shown.growth;
        fullSpanSec = shown.spanSec;
        fullInfo = fullSpanSec >= quarter;
        fullFresh = end - shown.lastFullAt <= th.freshFullGcOfWindow * windowMs;
      }
      // Half of what the fitted trend predicts over that span, and at least the absolute floor's rate,
      // shown by a recent full GC: a pair from before most of the window's growth confirms nothing of it
      // (thresholds.ts, freshFullGcOfWindow); without one the agent asks V8 for a full GC.
      confirmed = fullInfo && fullFresh && fullGrowth >= Math.max(0.5 * sen.slope, th.minGrowthBytes.old_space / this.windowSec) * fullSpanSec;
    }

    const significant = mk.pValue < th.alpha && sen.lower > 0;
    const bigEnough = growth >= effect;
    // New high: memory must be above the highest level of the three windows before this one. Noise
    // correlated over longer than a window (a daily cycle, a slowly drifting load) produces rises of a
    // window's length that pass every test above, but it comes back: the level it rises to has been
    // seen before. A leak's level has not. (Measured, bench/longrun.js, AR(1) noise correlated over ~50
    // min, 30 min window, with the bent-line correction: 3 → 1 false alarm in 10 simulated days.) The
    // latest three buckets' median is the current level, so one low reading does not hold it back.
    const tail = values.slice(-3).sort((a, b) => a - b);
    const level = tail[Math.floor(tail.length / 2)] as number;
    const newHigh = !(level <= priorHigh);
    // The statistical condition must persist; the confirmation only gates the alert, so a trend that
    // has persisted is reported as soon as V8's next full GC confirms it.
    const trending = significant && bigEnough && !decel.decelerating && !slowing.slowed;
    // A stall only holds the alert back (the streak goes on): on a slow leak the last third of the
    // window is noisy and may look flat for a few evaluations; a cache that has filled stays flat.
    const candidate = trending && confirmed && !stall.stalled && newHigh;

    if (tr.leak) {
      // Growth has stopped when the trend is gone. For old_space the bucket minima drop at every full
      // GC (garbage leaves), which breaks the rank trend of a leak that goes on; there the judge is
      // what survives full GCs, and without a recent full GC we cannot say it stopped.
      const stopped = tr.memory === 'old_space'
        ? fullInfo && fullGrowth < th.stopFraction * floor * (fullSpanSec / this.windowSec)
        : !(mk.pValue < 0.1 && growth >= th.stopFraction * effect);
      const returned = current <= tr.leak.baseline + th.stopFraction * floor;
      tr.stopStreak = stopped || returned ? tr.stopStreak + 1 : 0;
      if (tr.stopStreak >= th.persistence) {
        const reason = returned ? 'memory returned to its level before the leak' : 'growth stopped';
        verdicts.push({ kind: 'episode-end', memory: tr.memory, episodeId: tr.leak.id, endedAt: end, reason });
        tr.leak = undefined;
        tr.stopStreak = 0;
        tr.streak = 0;
        this.setState(tr, returned ? 'steady' : 'plateau', reason);
      } else {
        this.setState(tr, 'leak', tr.stopStreak > 0 ? `growth weakening (${tr.stopStreak}/${th.persistence})` : 'growth continues');
      }
      return verdicts;
    }

    // A weaker evaluation in the middle of a streak (p within 10x alpha, growth at least half the
    // effect) holds the count instead of resetting it: with sparse GCs a leak's p-value hovers around
    // alpha for a few buckets after each full GC, while noise loses both conditions.
    // A full-strength trend whose second half happened to grow more slowly also holds the count: on a
    // slow leak near the minimum effect the halves' slopes are noisy and the plateau guard flickers
    // (measured: a 30 KB/s leak lost its streak at 13/15 twice); a filling cache stays decelerating.
    // A series that grew faster before the window (slowing guard) resets the count: a cache filling
    // ever more slowly must not reach the persistence while it is still filling.
    const weaklyTrending = !slowing.slowed && ((mk.pValue < 10 * th.alpha && growth >= 0.5 * effect && !decel.decelerating) || (significant && bigEnough));
    tr.streak = trending ? tr.streak + 1 : weaklyTrending ? tr.streak : 0;
    st.streak = tr.streak;
    if (candidate && tr.streak >= th.persistence) {
      const id = this.newEpisodeId(tr.memory, 'leak', end);
      const first = segV[0] as number;
      tr.leak = { id, startedAt: end, baseline: first };
      tr.stopStreak = 0;
      const ttl = limit ? timeToLimit(current, limit.bytes, sen.slope, sen.lower, sen.upper) : { seconds: null, lowerSeconds: null, upperSeconds: null };
      const t0 = Math.round((segT[0] as number) * 1000);
      this.trends.set(tr.memory, { t0, intercept: sen.intercept + sen.slope * (segT[0] as number), slopePerMs: sen.slope / 1000 });
      const verdict: LeakVerdict = {
        kind: 'leak',
        memory: tr.memory,
        episodeId: id,
        detectedAt: end,
        growthBytesPerSec: sen.slope,
        growthLowerBytesPerSec: sen.lower,
        growthUpperBytesPerSec: sen.upper,
        confidence: th.confidence,
        pValue: mk.pValue,
        windowMs,
        points: segV.length,
        currentBytes: current,
        limitBytes: limit ? limit.bytes : Number.NaN,
        limitSource: limit ? limit.source : 'heap',
        timeToLimitSec: ttl.seconds,
        timeToLimitLowerSec: ttl.lowerSeconds,
        timeToLimitUpperSec: ttl.upperSeconds,
        trend: { t0, intercept: sen.intercept + sen.slope * (segT[0] as number), slopePerMs: sen.slope / 1000 },
      };
      verdicts.push(verdict);
      this.setState(tr, 'leak', 'leak detected');
      return verdicts;
    }

    // Ask for a full GC as soon as a trend is forming, not only once it is fully significant: the full
    // GC both confirms or refutes the growth and measures the promotion rate the garbage correction
    // needs. Without it, after V8's first full GC a slow leak's series is a ramp of leak + promoted
    // garbage behind a corrected one — a kinked line whose p-value the autocorrelation correction
    // keeps above alpha (measured: a 30 KB/s leak held at p 0.01–0.03 for 30 s).
    st.needsFullGc = tr.memory === 'old_space' && !confirmed && weaklyTrending;

    let state: SeriesState = 'steady';
    let reason = 'no significant growth';
    if (trending && !confirmed) {
      state = 'suspect';
      reason = fullInfo ? 'growth between full GCs did not survive the last one (promoted garbage?)' : 'waiting for a full GC to confirm growth';
    } else if (candidate) {
      state = 'suspect';
      reason = `growth persists (${tr.streak}/${th.persistence} evaluations)`;
    } else if (trending && confirmed && !newHigh) {
      state = 'suspect';
      reason = 'grew for the whole window, but only back to a level seen in the windows before (slow wander?)';
    } else if (trending && confirmed) {
      state = 'suspect';
      reason = 'grew for the whole window but not in its last third (a cache that has just filled up?)';
    } else if (significant && bigEnough && slowing.slowed) {
      state = 'plateau';
      reason = 'growing, but it grew faster in the half window before this one (a cache filling ever more slowly?)';
    } else if (decel.decelerating && decel.firstSlope * (this.windowSec / 2) >= floor) {
      // Grew by at least the minimum effect in the first half of the window, then slowed down.
      state = 'plateau';
      reason = 'grew, then slowed down (filling cache)';
    } else if (significant && bigEnough && decel.decelerating) {
      reason = 'growing, but more slowly in the second half of the window';
    } else if (significant) {
      reason = 'significant but smaller than the minimum effect';
    }
    this.setState(tr, state, reason);
    return verdicts;
  }

  private setState(tr: SeriesTracker, state: SeriesState, reason: string): void {
    tr.status.state = tr.leak ? 'leak' : state;
    tr.status.reason = reason;
    tr.status.episodeId = tr.leak?.id ?? null;
    tr.status.spikeEpisodeId = tr.spike?.id ?? null;
    tr.status.streak = tr.streak;
  }

  private endSpike(tr: SeriesTracker, end: number, reason: string): Verdict {
    const id = (tr.spike as SpikeEpisode).id;
    tr.spike = undefined;
    return { kind: 'episode-end', memory: tr.memory, episodeId: id, endedAt: end, reason };
  }
}
