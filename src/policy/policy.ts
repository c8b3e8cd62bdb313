/**
 * The policy: the one place that decides. It receives each drain's GC records and process readings,
 * feeds the detector, and chooses what the other stages do (capture evidence, report, upload).
 * Stages never call each other sideways; they are called from here.
 *
 * Flow per tick:   records + readings ─> detector ─> verdicts ─> onVerdict
 *   leak:          capture evidence ─> log `leak.detected` (with the files) ─> emit 'leak' ─> telemetry ─> upload
 *   spike:         log `memory.spike` ─> emit 'spike' ─> telemetry
 *   episode-end:   log `episode.ended` ─> emit 'episode-end'
 */
import type { EventEmitter } from 'node:events';
import * as os from 'node:os';
import type { AgentConfig } from '../config/env';
import { formatDuration } from '../config/duration';
import { Detector } from '../detect/detector';
import { oldGenerationAfter, recordTime } from '../detect/series';
import type { Verdict } from '../detect/verdict';
import type { EpisodeSeries } from '../evidence/manifest-types';
import type { AgentLogger } from '../log/logger';
import type { ContainerMemory } from '../process/container';
import type { ProcessMemory } from '../process/memory';
import type { GcRecord } from '../sampler/types';

export interface PolicyContext {
  readonly config: AgentConfig;
  readonly logger: AgentLogger;
  /** Where alerts go to the application's listeners (`leak`, `spike`, `episode-end`). */
  readonly events: EventEmitter;
}

export interface Tick {
  records: GcRecord[];
  memory: ProcessMemory;
  container: ContainerMemory | undefined;
}

export interface SnapshotOutcome {
  written: boolean;
  path?: string;
  reason?: string;
}

/** Bounds of the post-GC history kept for the evidence stage's series.json (about 100 KB at most). */
const SERIES_MAX_SAMPLES = 2000;
const SERIES_MAX_ALERTS = 64;

export class Policy {
  private lastTick: Tick | undefined;
  private fullGcs = 0;
  private gcs = 0;
  // --- detection stage state (issue 3) ---
  private readonly detector: Detector;
  /** Physical memory: the limit of external/native memory outside a container. Read once. */
  private readonly hostMemoryBytes: number;
  private readonly samples: EpisodeSeries['samples'] = [];
  private readonly alerts: EpisodeSeries['alerts'] = [];
  /**
   * Minimum spacing of kept scavenge samples (full GCs are always kept): a busy process scavenges
   * several times a second, and 2000 raw samples would cover only minutes of a 30 min window.
   * window/1000 keeps the bounded history at least two windows long at any GC rate.
   */
  private readonly sampleSpacingMs: number;
  private lastSampleT = -Infinity;

  constructor(private readonly ctx: PolicyContext) {
    this.detector = new Detector({ windowMs: ctx.config.windowMs, sensitivity: ctx.config.sensitivity });
    this.hostMemoryBytes = os.totalmem();
    this.sampleSpacingMs = ctx.config.windowMs / 1000;
  }

  onTick(tick: Tick): void {
    this.lastTick = tick;
    this.gcs += tick.records.length;
    for (const r of tick.records) if (r.kind === 'mark-sweep-compact') this.fullGcs += 1;
    for (const verdict of this.detect(tick)) this.onVerdict(verdict);
  }

  /** Detection stage: records and readings in, verdicts out. */
  private detect(tick: Tick): Verdict[] {
    this.remember(tick);
    const verdicts = this.detector.observe({
      records: tick.records,
      memory: tick.memory,
      container: tick.container,
      hostMemoryBytes: this.hostMemoryBytes,
    });
    for (const v of verdicts) {
      const t = v.kind === 'leak' ? v.detectedAt : v.kind === 'spike' ? v.at : v.endedAt;
      this.alerts.push({ t, kind: v.kind, episodeId: v.episodeId });
      if (this.alerts.length > SERIES_MAX_ALERTS) this.alerts.shift();
    }
    return verdicts;
  }

  /** Keeps the recent post-GC history (bounded) for the evidence stage's series.json. */
  private remember(tick: Tick): void {
    const m = tick.memory;
    for (const r of tick.records) {
      const t = recordTime(r);
      if (r.kind !== 'mark-sweep-compact' && t - this.lastSampleT < this.sampleSpacingMs) continue;
      this.lastSampleT = t;
      let heapUsed = 0;
      for (const name in r.after) heapUsed += (r.after[name] as { used: number }).used;
      this.samples.push({ t, oldSpace: oldGenerationAfter(r), heapUsed, external: r.external, rss: m.rss, gc: r.kind, pauseMs: r.duration });
    }
    if (this.samples.length > SERIES_MAX_SAMPLES) this.samples.splice(0, this.samples.length - SERIES_MAX_SAMPLES);
  }

  /**
   * The recent post-GC history, the trend of the latest leak verdict on old_space and the recent
   * alerts, shaped as series.json wants it (copies; bounded to SERIES_MAX_SAMPLES samples).
   */
  recentSeries(memory: 'old_space' | 'external' | 'native' = 'old_space'): EpisodeSeries {
    return {
      schema: 'leak-agent/series@1',
      samples: this.samples.map((s) => ({ ...s })),
      trend: this.detector.trend(memory),
      alerts: this.alerts.map((a) => ({ ...a })),
    };
  }

  private onVerdict(verdict: Verdict): void {
    switch (verdict.kind) {
      case 'leak': {
        // `evidence` is filled by the evidence stage (paths/URIs of the files it wrote).
        const payload = { ...verdict, window: formatDuration(verdict.windowMs), evidence: [] as string[] };
        this.ctx.logger.log('leak.detected', payload);
        this.ctx.events.emit('leak', { ...payload });
        break;
      }
      case 'spike':
        this.ctx.logger.log('memory.spike', { ...verdict });
        this.ctx.events.emit('spike', { ...verdict });
        break;
      case 'episode-end':
        this.ctx.logger.log('episode.ended', { ...verdict });
        this.ctx.events.emit('episode-end', { ...verdict });
        break;
    }
  }

  async snapshot(reason: string): Promise<SnapshotOutcome> {
    return { written: false, reason: `snapshot capture is not available in this build (requested: ${reason})` };
  }

  status(): Record<string, unknown> {
    const t = this.lastTick;
    return {
      gcs: this.gcs,
      fullGcs: this.fullGcs,
      memory: t?.memory,
      container: t?.container,
      detector: { sensitivity: this.ctx.config.sensitivity, bucketMs: this.detector.bucketMs, series: this.detector.states() },
    };
  }

  stop(): void {
    /* nothing held yet */
  }
}
