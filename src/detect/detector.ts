/**
 * The leak detector: GC records and process readings in, verdicts and per-series decisions out. Pure:
 * no I/O, no timers, no clock (time comes with the data), no globals; bounded memory (a fixed number
 * of buckets per series and scale). It judges every series over the window and over shorter scales
 * (window/2, /4, ... with their own warm-up, stricter significance and a horizon of a few scales), so
 * that a fast leak is reported before it exhausts memory even at a long window; one episode per leak
 * whichever scale saw it first. How one evaluation decides: scale-judge.ts; thresholds: thresholds.ts.
 */
import type { ContainerMemory } from '../process/container';
import type { ProcessMemory } from '../process/memory';
import type { GcRecord } from '../sampler/types';
import { scaleFor } from './scale';
import { ScaleJudge, SERIES, type EvaluationContext, type Limit } from './scale-judge';
import { externalBytes, nativeBytes, oldGenerationAfter, oldGenerationBefore, recordTime } from './series';
import { resolveThresholds, shortScalesOf, shortScaleThresholds, type Sensitivity, type Thresholds } from './thresholds';
import type { SeriesStatus } from './tracker';
import type { MemorySeries, SeriesState, Verdict } from './verdict';

export type { SeriesStatus };

export interface DetectorOptions {
  windowMs: number;
  sensitivity: Sensitivity;
  /** Overrides of single thresholds (tests and benches that show what one does); frozen with the rest. */
  thresholds?: Partial<Thresholds> | undefined;
}

export interface DetectorInput {
  records: readonly GcRecord[];
  memory: ProcessMemory;
  container?: ContainerMemory | undefined;
  /** Physical memory of the host: the limit of external/native memory when there is no container limit. */
  hostMemoryBytes?: number | undefined;
}

/** The detector's standing decision on one series (from its latest evaluation): what the policy acts on. */
export interface SeriesDecision {
  memory: MemorySeries;
  state: SeriesState;
  reason: string;
  /** old_space: a full GC is wanted to confirm (or refute) growth that none has confirmed yet. */
  needsFullGc: boolean;
  /** The shortest scale (window or short scale, ms) that wants it: requests are spaced for that scale. */
  fullGcScaleMs: number | null;
  /** When the latest evaluation ran (epoch ms), null before the first. */
  evaluatedAt: number | null;
}

export interface Observation {
  /** Verdicts of this drain (usually none): leaks, spikes, episode ends. */
  verdicts: Verdict[];
  /** Every series' standing decision, whether or not this drain completed a bucket. */
  series: Record<MemorySeries, SeriesDecision>;
}

/** A short scale's view of one series, in status() (see thresholds.ts, shortScaleMinMs). */
export interface ScaleStatus {
  windowMs: number;
  state: SeriesState;
  reason: string;
  streak: number;
  pValue: number | null;
  growthPerWindowBytes: number | null;
  minEffectBytes: number | null;
}

/** A leak episode the detector reported, and the judges (by index) whose own episodes it covers. */
interface OpenLeak { id: string; judges: Set<number> }

const RANK: Record<SeriesState, number> = { 'warming-up': 0, steady: 1, plateau: 2, suspect: 3, leak: 4 };

export class Detector {
  readonly thresholds: Readonly<Thresholds>;
  /** The window's bucket length (its evaluations; short scales evaluate more often). */
  readonly bucketMs: number;
  /** The window first, then the short scales, longest first. */
  private readonly judges: ScaleJudge[];
  private readonly lastBucket: number[];
  /** Per judge, the leak episodes it raised and has not ended. */
  private readonly raised: Set<string>[];
  private readonly open: Partial<Record<MemorySeries, OpenLeak>> = {};
  private episodes = 0;
  private latest: DetectorInput | undefined;
  private readonly context: EvaluationContext = {
    limitFor: (memory, current) => this.limitFor(memory, current),
    newEpisodeId: (memory, kind, at) => `${memory}-${kind}-${at.toString(36)}-${++this.episodes}`,
  };

  constructor(readonly options: DetectorOptions) {
    this.thresholds = resolveThresholds(options.sensitivity, options.thresholds);
    const th = this.thresholds;
    this.judges = [
      new ScaleJudge(scaleFor(options.windowMs, th)),
      ...shortScalesOf(options.windowMs, th).map((ms) => new ScaleJudge(scaleFor(ms, shortScaleThresholds(th, ms)))),
    ];
    this.lastBucket = this.judges.map(() => -Infinity);
    this.raised = this.judges.map(() => new Set<string>());
    this.bucketMs = (this.judges[0] as ScaleJudge).scale.bucketMs;
  }

  /** The window and the short scales judged, in ms, longest first. */
  get scalesMs(): number[] {
    return this.judges.map((j) => j.scale.windowMs);
  }

  /** Feeds one drain's worth of data; returns the verdicts it produced and every series' decision. */
  observe(input: DetectorInput): Observation {
    this.latest = input;
    for (const r of input.records) {
      const t = recordTime(r);
      const full = r.kind === 'mark-sweep-compact';
      const after = oldGenerationAfter(r);
      const fullGc = full && r.before ? { t, before: oldGenerationBefore(r), after } : undefined;
      for (const { trackers } of this.judges) {
        trackers.old_space.add(t, after, full);
        if (fullGc) trackers.old_space.addFullGc(fullGc);
        if (Number.isFinite(r.external)) trackers.external.add(t, r.external, full);
      }
    }
    const m = input.memory;
    const external = externalBytes(m);
    const native = nativeBytes(m);
    const verdicts: Verdict[] = [];
    this.judges.forEach((judge, i) => {
      judge.trackers.external.add(m.time, external, false);
      judge.trackers.native.add(m.time, native, false);
      // Evaluate once per bucket, on the buckets that are complete.
      const bucket = Math.floor(m.time / judge.scale.bucketMs);
      if (bucket <= (this.lastBucket[i] as number)) return;
      const first = this.lastBucket[i] === -Infinity;
      this.lastBucket[i] = bucket;
      if (!first) verdicts.push(...this.merge(i, judge.evaluateAll(bucket * judge.scale.bucketMs, this.context)));
    });
    return { verdicts, series: this.decisions() };
  }

  /**
   * One leak episode per series whichever scale saw it first: a judge that raises a leak while the
   * series' episode is open joins it (no second alert), and the episode ends when every judge in it
   * has ended its own. Spikes are the window's: a step is judged at the scale the user chose.
   */
  private merge(judge: number, verdicts: readonly Verdict[]): Verdict[] {
    const out: Verdict[] = [];
    const raised = this.raised[judge] as Set<string>;
    for (const v of verdicts) {
      if (v.kind === 'leak') {
        raised.add(v.episodeId);
        const open = this.open[v.memory];
        if (open) open.judges.add(judge);
        else {
          this.open[v.memory] = { id: v.episodeId, judges: new Set([judge]) };
          out.push(v);
        }
      } else if (v.kind === 'episode-end' && raised.delete(v.episodeId)) {
        const open = this.open[v.memory];
        if (!open) continue;
        open.judges.delete(judge);
        if (open.judges.size === 0) {
          delete this.open[v.memory];
          out.push({ ...v, episodeId: open.id });
        }
      } else if (judge === 0) out.push(v);
    }
    return out;
  }

  /** Per-series state for status() and telemetry (copies): the window's figures, the combined state. */
  states(): Record<MemorySeries, SeriesStatus & { scales: ScaleStatus[] }> {
    const out = {} as Record<MemorySeries, SeriesStatus & { scales: ScaleStatus[] }>;
    for (const memory of SERIES) {
      const d = this.decide(memory);
      const window = (this.judges[0] as ScaleJudge).trackers[memory].status;
      out[memory] = {
        ...window, state: d.state, reason: d.reason, needsFullGc: d.needsFullGc, episodeId: this.open[memory]?.id ?? window.episodeId,
        scales: this.judges.slice(1).map(({ scale, trackers }) => {
          const st = trackers[memory].status;
          return { windowMs: scale.windowMs, state: st.state, reason: st.reason, streak: st.streak, pValue: st.pValue, growthPerWindowBytes: st.growthPerWindowBytes, minEffectBytes: st.minEffectBytes };
        }),
      };
    }
    return out;
  }

  private decisions(): Record<MemorySeries, SeriesDecision> {
    const out = {} as Record<MemorySeries, SeriesDecision>;
    for (const memory of SERIES) out[memory] = this.decide(memory);
    return out;
  }

  /**
   * The series' decision across scales: in an open episode, leak; otherwise the most advanced state
   * of any scale (the window's on a tie), so that a fast leak's suspect starts the profiler. A full
   * GC is wanted when any scale wants one, spaced for the shortest that does.
   */
  private decide(memory: MemorySeries): SeriesDecision {
    const window = (this.judges[0] as ScaleJudge).trackers[memory].status;
    let best = window;
    let bestScale = 0;
    let fullGcScaleMs: number | null = null;
    this.judges.forEach(({ scale, trackers }, i) => {
      const st = trackers[memory].status;
      if (RANK[st.state] > RANK[best.state]) {
        best = st;
        bestScale = i;
      }
      if (st.needsFullGc) fullGcScaleMs = scale.windowMs;
    });
    const open = this.open[memory];
    const scaleMs = (this.judges[bestScale] as ScaleJudge).scale.windowMs;
    const reason = bestScale === 0 ? best.reason : `${best.reason} (judged over ${Math.round(scaleMs / 1000)} s)`;
    return {
      memory, state: open ? 'leak' : best.state, reason, needsFullGc: fullGcScaleMs !== null, fullGcScaleMs,
      evaluatedAt: window.evaluatedAt,
    };
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
}
