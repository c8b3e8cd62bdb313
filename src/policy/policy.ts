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
import type { AgentConfig } from '../config/env';
import type { Verdict } from '../detect/verdict';
import type { AgentLogger } from '../log/logger';
import type { ContainerMemory } from '../process/container';
import type { ProcessMemory } from '../process/memory';
import type { GcRecord } from '../sampler/types';
import { Telemetry } from '../telemetry/telemetry';

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

export class Policy {
  private lastTick: Tick | undefined;
  private fullGcs = 0;
  private gcs = 0;
  private readonly ctx: PolicyContext;
  // telemetry: metrics and alert records (src/telemetry); receives every tick and every verdict.
  private readonly telemetry: Telemetry;

  constructor(ctx: PolicyContext) {
    this.telemetry = new Telemetry(ctx.config.telemetry, { logger: ctx.logger, status: () => this.status() });
    // Counters of snapshots, uploads and errors follow the agent log, so every stage's lines count.
    this.ctx = { ...ctx, logger: this.telemetry.tapLogger(ctx.logger) };
  }

  onTick(tick: Tick): void {
    this.lastTick = tick;
    this.telemetry.onTick(tick);
    this.gcs += tick.records.length;
    for (const r of tick.records) if (r.kind === 'mark-sweep-compact') this.fullGcs += 1;
    for (const verdict of this.detect(tick)) this.onVerdict(verdict);
  }

  /** Detection stage: records and readings in, verdicts out. */
  private detect(_tick: Tick): Verdict[] {
    return [];
  }

  private onVerdict(verdict: Verdict): void {
    // telemetry: pass the episode's evidence files (EvidenceRef[]: path, uri) once capture runs here.
    this.telemetry.onVerdict(verdict);
    switch (verdict.kind) {
      case 'leak':
        this.ctx.logger.log('leak.detected', { ...verdict });
        this.ctx.events.emit('leak', { ...verdict });
        break;
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
      telemetry: this.telemetry.describe(),
    };
  }

  /** Resolves once telemetry has flushed and shut down its private providers (bounded in time). */
  stop(): Promise<void> {
    return this.telemetry.stop();
  }
}
