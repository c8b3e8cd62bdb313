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
import * as path from 'node:path';
import type { AgentConfig } from '../config/env';
import type { Verdict } from '../detect/verdict';
import type { AgentLogger } from '../log/logger';
import type { ContainerMemory } from '../process/container';
import type { ProcessMemory } from '../process/memory';
import type { GcRecord } from '../sampler/types';
import { createUploader, type Uploader } from '../upload/create';

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

  // --- upload (issue 5): resumes the spool at start; undefined when LEAK_AGENT_UPLOAD is unset ---
  private readonly uploader: Uploader | undefined;
  // --- end upload ---

  constructor(private readonly ctx: PolicyContext) {
    this.uploader = createUploader(ctx.config, ctx.logger);
  }

  onTick(tick: Tick): void {
    this.lastTick = tick;
    this.gcs += tick.records.length;
    for (const r of tick.records) if (r.kind === 'mark-sweep-compact') this.fullGcs += 1;
    for (const verdict of this.detect(tick)) this.onVerdict(verdict);
  }

  /** Detection stage: records and readings in, verdicts out. */
  private detect(_tick: Tick): Verdict[] {
    return [];
  }

  private onVerdict(verdict: Verdict): void {
    switch (verdict.kind) {
      case 'leak': {
        this.ctx.logger.log('leak.detected', { ...verdict });
        this.ctx.events.emit('leak', { ...verdict });
        // Files captured for this episode; the evidence stage (merged separately) provides them.
        const evidence: string[] = [];
        // --- upload (issue 5): ship the episode's evidence; with no files listed the uploader takes
        // those in <dir>/episodes/<id>/manifest.json, and with neither it does nothing. Never rejects.
        void this.uploader?.enqueue({
          episodeId: verdict.episodeId,
          episodeDir: path.join(this.ctx.config.dir, 'episodes', verdict.episodeId),
          episodeTime: verdict.detectedAt,
          files: evidence,
        });
        // --- end upload ---
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
      upload: this.uploader?.status() ?? null, // upload (issue 5)
    };
  }

  stop(): void {
    this.uploader?.stop(); // upload (issue 5): unfinished entries stay in the spool for the next process
  }
}
