/**
 * The policy: the one place that decides. It receives each drain's GC records and process readings,
 * feeds the detector, and chooses what the other stages do (capture evidence, report, upload).
 * Stages never call each other sideways; they are called from here.
 *
 * Flow per tick:   records + readings ─> detector ─> verdicts ─> onVerdict ─> what evidence is due
 *   leak:          log `leak.detected` (with the evidence planned) ─> emit 'leak' ─> telemetry
 *                  ─> capture ─> `evidence.ready` ─> upload          (leak-evidence.ts)
 *   spike:         log `memory.spike` ─> emit 'spike' ─> telemetry
 *   episode-end:   log `episode.ended` ─> emit 'episode-end'
 *   start:         arm the near-OOM capture; start the profiler when LEAK_AGENT_PROFILE=start
 */
import type { EventEmitter } from 'node:events';
import * as os from 'node:os';
import type { AgentConfig } from '../config/env';
import { Detector } from '../detect/detector';
import type { MemorySeries, SeriesState, Verdict } from '../detect/verdict';
import { EvidenceCapture } from '../evidence/evidence-capture';
import type { HeapProfilerBackend } from '../evidence/heap-profile-types';
import { armNearOom, type NearOomHandle } from '../evidence/near-oom';
import type { AgentLogger } from '../log/logger';
import type { ContainerMemory } from '../process/container';
import type { ProcessMemory } from '../process/memory';
import type { GcRecord } from '../sampler/types';
import { Telemetry } from '../telemetry/telemetry';
import { RecentHistory } from './recent-history';
import { SelfInflictedFilter } from './self-inflicted';
import { decideConfirmationGc, fullGcFunction } from './confirmation-gc';
import { LeakEvidence } from './leak-evidence';
import { createUploader, type Uploader } from '../upload/create';
import { PressureWatch } from '../pressure/pressure-watch';

export interface PolicyContext {
  readonly config: AgentConfig;
  readonly logger: AgentLogger;
  /** Where alerts go to the application's listeners (`leak`, `spike`, `episode-end`). */
  readonly events: EventEmitter;
  /** A sampling heap profiler to use instead of the in-process inspector (e.g. the native binding). */
  readonly profilerBackend?: HeapProfilerBackend;
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

export class Policy {
  private lastTick: Tick | undefined;
  private fullGcs = 0;
  private gcs = 0;
  /** Recent post-full-GC samples and alert marks, for the episode's series.json (bounded). */
  readonly history = new RecentHistory();
  private readonly evidence: EvidenceCapture;
  /** What each leak episode captures, and when (alert first). */
  private readonly leakEvidence: LeakEvidence;
  private nearOom: NearOomHandle | undefined;
  /** Metrics and alert records (src/telemetry); receives every tick and every verdict. */
  private readonly telemetry: Telemetry;
  private readonly ctx: PolicyContext;
  /** The pure detection stage: records and readings in, verdicts out. */
  private readonly detector: Detector;
  /** Physical memory: the limit of external/native memory outside a container. Read once. */
  private readonly hostMemoryBytes = os.totalmem();
  /** Native/external verdicts that the agent's own snapshots explain are not the application's. */
  private readonly selfInflicted: SelfInflictedFilter;
  /** The scale (ms) of the detector's judge that wants a confirmation GC: requests are spaced for it. */
  private confirmationScaleMs: number;
  /** When the policy last asked V8 for a full GC (see confirmation-gc.ts). */
  private lastGcRequestAt = -Infinity;
  /** Counts from the start, so a process that never ran a full GC does not get one at its first tick. */
  private readonly startedAt = Date.now();

  /** Ships evidence (src/upload); resumes the spool at start; undefined when LEAK_AGENT_UPLOAD is unset. */
  private readonly uploader: Uploader | undefined;
  /** Memory pressure signals and the health answer (src/pressure). */
  readonly pressure: PressureWatch;

  constructor(ctx: PolicyContext) {
    this.telemetry = new Telemetry(ctx.config.telemetry, { logger: ctx.logger, status: () => this.status(), pressure: () => this.pressure });
    // Counters of snapshots, uploads and errors follow the agent log, so every stage's lines count.
    this.ctx = { ...ctx, logger: this.telemetry.tapLogger(ctx.logger) };
    this.detector = new Detector({ windowMs: ctx.config.windowMs, sensitivity: ctx.config.sensitivity });
    this.confirmationScaleMs = ctx.config.windowMs;
    this.selfInflicted = new SelfInflictedFilter(ctx.config.windowMs);
    const logger = this.ctx.logger;
    this.pressure = new PressureWatch(ctx.config.pressure.thresholds, logger, ctx.events, this.telemetry);
    this.uploader = createUploader(ctx.config, logger);
    this.evidence = new EvidenceCapture({
      config: ctx.config,
      logger,
      ...(ctx.profilerBackend ? { profilerBackend: ctx.profilerBackend } : {}),
    });
    this.evidence.start();
    if (ctx.config.evidence.profile === 'start') void this.evidence.startProfiler('agent start (LEAK_AGENT_PROFILE=start)');
    this.leakEvidence = new LeakEvidence({
      config: ctx.config,
      logger,
      events: ctx.events,
      evidence: this.evidence,
      telemetry: this.telemetry,
      history: this.history,
      ship: (episodeId, episodeDir, episodeTime) => this.ship(episodeId, episodeDir, episodeTime),
    });
  }

  /**
   * At agent start: arm the near-OOM capture, so that a process about to die of a heap OOM leaves a
   * heap profile even when no verdict came first (a fast leak outruns the window). Returns its state.
   */
  start(startedAt: Date): NearOomHandle {
    this.nearOom ??= armNearOom(this.ctx.config, this.ctx.logger, startedAt);
    return this.nearOom;
  }

  onTick(tick: Tick): void {
    this.lastTick = tick;
    this.telemetry.onTick(tick);
    this.gcs += tick.records.length;
    for (const r of tick.records) if (r.kind === 'mark-sweep-compact') this.fullGcs += 1;
    this.history.addRecords(tick.records, tick.memory.rss);
    this.selfInflicted.noteSnapshots(this.evidence.snapshotsTaken(), tick.memory.time);
    const { verdicts, needsFullGc } = this.detect(tick);
    const { report, ignored } = this.selfInflicted.filter(verdicts, tick.memory.time);
    for (const verdict of ignored) {
      this.ctx.logger.log('verdict.ignored', {
        kind: verdict.kind, memory: verdict.memory, episodeId: verdict.episodeId,
        reason: "native/external memory changed right after the agent's own heap snapshot and evidence writing, not the application's",
      });
    }
    for (const verdict of report) this.onVerdict(verdict);
    this.pressure.onTick(tick, Object.values(this.detector.states()));
    if (needsFullGc) this.confirmWithFullGc(tick);
    // Open episodes: the pair's second snapshot and profile once old-space grew further, late profiles, retries of a refused snapshot.
    this.leakEvidence.onTick();
  }

  /**
   * old_space trends only count once a full GC shows the growth is live; a quiet process runs few.
   * Ask V8 for one, knowingly and rarely (confirmation-gc.ts); the next drain carries its record.
   */
  private confirmWithFullGc(tick: Tick): void {
    if (!this.ctx.config.confirmGc) return;
    const now = tick.memory.time;
    const decision = decideConfirmationGc({
      needsFullGc: true,
      now,
      windowMs: this.confirmationScaleMs,
      lastFullGcAt: this.history.latestFullGcAt() ?? this.startedAt,
      lastRequestAt: this.lastGcRequestAt,
      heapUsed: tick.memory.heapUsed,
    });
    if (!decision.collect) return;
    this.lastGcRequestAt = now;
    const gc = fullGcFunction();
    if (!gc) {
      this.ctx.logger.log('gc.confirmation', { requested: false, reason: 'this V8 does not allow the agent to request a full GC' });
      return;
    }
    const started = process.hrtime.bigint();
    gc();
    const pauseMs = Number(process.hrtime.bigint() - started) / 1e6;
    this.ctx.logger.log('gc.confirmation', {
      requested: true, pauseMs: Math.round(pauseMs * 10) / 10, heapUsedBefore: tick.memory.heapUsed,
      reason: 'old_space grows with a significant trend that no full GC has confirmed yet',
    });
  }

  /** The detector's state of one series on each evaluation: the first `suspect` starts the sampling heap profiler. */
  onSeriesState(memory: MemorySeries, state: SeriesState): void {
    if ((state === 'suspect' || state === 'leak') && this.ctx.config.evidence.profile === 'suspect') {
      void this.evidence.startProfiler(`${memory} ${state}`);
    }
  }

  /**
   * Detection stage: records and readings in, verdicts and each series' decision out. Each decision's
   * state goes to evidence (suspect starts the profiler); a wanted confirmation GC comes back to onTick.
   */
  private detect(tick: Tick): { verdicts: Verdict[]; needsFullGc: boolean } {
    const { verdicts, series } = this.detector.observe({
      records: tick.records,
      memory: tick.memory,
      container: tick.container,
      hostMemoryBytes: this.hostMemoryBytes,
    });
    for (const decision of Object.values(series)) this.onSeriesState(decision.memory, decision.state);
    this.confirmationScaleMs = series.old_space.fullGcScaleMs ?? this.ctx.config.windowMs;
    return { verdicts, needsFullGc: series.old_space.needsFullGc };
  }

  /** Public so that a test entry can feed a synthetic verdict through the real capture path. */
  onVerdict(verdict: Verdict): void {
    switch (verdict.kind) {
      case 'leak': {
        this.history.addAlert({ t: verdict.detectedAt, kind: 'leak', episodeId: verdict.episodeId });
        this.leakEvidence.onLeak(verdict);
        break;
      }
      case 'spike':
        this.history.addAlert({ t: verdict.at, kind: 'spike', episodeId: verdict.episodeId });
        this.telemetry.onVerdict(verdict);
        this.ctx.logger.log('memory.spike', { ...verdict });
        this.ctx.events.emit('spike', { ...verdict });
        break;
      case 'episode-end':
        this.telemetry.onVerdict(verdict);
        this.leakEvidence.onEpisodeEnd(verdict.episodeId);
        this.ctx.logger.log('episode.ended', { ...verdict });
        this.ctx.events.emit('episode-end', { ...verdict });
        break;
    }
  }

  /**
   * Ships an episode's evidence: the uploader reads the episode's manifest and spools every file that
   * has no URI yet, the manifest last. Idempotent; never rejects.
   */
  private ship(episodeId: string, episodeDir: string, episodeTime: number | undefined): void {
    void this.uploader?.enqueue({ episodeId, episodeDir, ...(episodeTime !== undefined ? { episodeTime } : {}), files: [] });
  }

  /** Evidence is being captured now (mitigation waits for it). */
  evidenceBusy(): boolean {
    return this.leakEvidence.busy();
  }

  /** On demand (API or LEAK_AGENT_SIGNAL): through the same gate as every snapshot. */
  async snapshot(reason: string): Promise<SnapshotOutcome> {
    return this.evidence.snapshot(reason);
  }

  status(): Record<string, unknown> {
    const t = this.lastTick;
    return {
      gcs: this.gcs,
      fullGcs: this.fullGcs,
      memory: t?.memory,
      container: t?.container,
      detector: { sensitivity: this.ctx.config.sensitivity, bucketMs: this.detector.bucketMs, series: this.detector.states() },
      evidence: { ...this.evidence.status(), episodes: this.leakEvidence.status() },
      telemetry: this.telemetry.describe(),
      upload: this.uploader?.status() ?? null,
    };
  }

  /**
   * Resolves once evidence work has settled and telemetry has flushed its private providers (bounded
   * in time). Unfinished uploads stay in the spool for the next process.
   */
  async stop(): Promise<void> {
    this.nearOom?.stop();
    this.uploader?.stop();
    await Promise.allSettled([this.evidence.stop(), this.telemetry.stop()]);
  }
}
