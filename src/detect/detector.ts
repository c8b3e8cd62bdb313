/**
 * The leak detector: GC records and process readings in, verdicts and per-series decisions out. Pure:
 * no I/O, no timers, no clock (time comes with the data), no globals; bounded memory (a fixed number
 * of buckets per series). How one evaluation decides: scale-judge.ts; the thresholds: thresholds.ts.
 */
import type { ContainerMemory } from '../process/container';
import type { ProcessMemory } from '../process/memory';
import type { GcRecord } from '../sampler/types';
import { scaleFor } from './scale';
import { ScaleJudge, SERIES, type EvaluationContext, type Limit } from './scale-judge';
import { externalBytes, nativeBytes, oldGenerationAfter, oldGenerationBefore, recordTime } from './series';
import { resolveThresholds, type Sensitivity, type Thresholds } from './thresholds';
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
  /** When the latest evaluation ran (epoch ms), null before the first. */
  evaluatedAt: number | null;
}

export interface Observation {
  /** Verdicts of this drain (usually none): leaks, spikes, episode ends. */
  verdicts: Verdict[];
  /** Every series' standing decision, whether or not this drain completed a bucket. */
  series: Record<MemorySeries, SeriesDecision>;
}

export class Detector {
  readonly thresholds: Readonly<Thresholds>;
  readonly bucketMs: number;
  private readonly judge: ScaleJudge;
  private currentBucket = -Infinity;
  private episodes = 0;
  private latest: DetectorInput | undefined;
  private readonly context: EvaluationContext = {
    limitFor: (memory, current) => this.limitFor(memory, current),
    newEpisodeId: (memory, kind, at) => `${memory}-${kind}-${at.toString(36)}-${++this.episodes}`,
  };

  constructor(readonly options: DetectorOptions) {
    this.thresholds = resolveThresholds(options.sensitivity, options.thresholds);
    this.judge = new ScaleJudge(scaleFor(options.windowMs, this.thresholds));
    this.bucketMs = this.judge.scale.bucketMs;
  }

  /** Feeds one drain's worth of data; returns the verdicts it produced and every series' decision. */
  observe(input: DetectorInput): Observation {
    this.latest = input;
    const trackers = this.judge.trackers;
    for (const r of input.records) {
      const t = recordTime(r);
      const full = r.kind === 'mark-sweep-compact';
      const after = oldGenerationAfter(r);
      trackers.old_space.add(t, after, full);
      if (full && r.before) trackers.old_space.addFullGc({ t, before: oldGenerationBefore(r), after });
      if (Number.isFinite(r.external)) trackers.external.add(t, r.external, full);
    }
    const m = input.memory;
    trackers.external.add(m.time, externalBytes(m), false);
    trackers.native.add(m.time, nativeBytes(m), false);

    // Evaluate once per bucket, on the buckets that are complete.
    const bucket = Math.floor(m.time / this.bucketMs);
    let verdicts: Verdict[] = [];
    if (bucket > this.currentBucket) {
      const first = this.currentBucket === -Infinity;
      this.currentBucket = bucket;
      if (!first) verdicts = this.judge.evaluateAll(bucket * this.bucketMs, this.context);
    }
    return { verdicts, series: this.decisions() };
  }

  /** Per-series state for status() and telemetry (copies). */
  states(): Record<MemorySeries, SeriesStatus> {
    const t = this.judge.trackers;
    return { old_space: { ...t.old_space.status }, external: { ...t.external.status }, native: { ...t.native.status } };
  }

  private decisions(): Record<MemorySeries, SeriesDecision> {
    const out = {} as Record<MemorySeries, SeriesDecision>;
    for (const memory of SERIES) {
      const st = this.judge.trackers[memory].status;
      out[memory] = { memory, state: st.state, reason: st.reason, needsFullGc: st.needsFullGc, evaluatedAt: st.evaluatedAt };
    }
    return out;
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
