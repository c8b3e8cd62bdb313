/**
 * The policy: the one place that decides. It receives each drain's GC records and process readings,
 * feeds the detector, and chooses what the other stages do (capture evidence, report, upload).
 * Stages never call each other sideways; they are called from here.
 */
import type { EventEmitter } from 'node:events';
import type { AgentConfig } from '../config/env';
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

export class Policy {
  private lastTick: Tick | undefined;
  private fullGcs = 0;
  private gcs = 0;

  constructor(private readonly ctx: PolicyContext) {}

  onTick(tick: Tick): void {
    this.lastTick = tick;
    this.gcs += tick.records.length;
    for (const r of tick.records) if (r.kind === 'mark-sweep-compact') this.fullGcs += 1;
  }

  async snapshot(reason: string): Promise<SnapshotOutcome> {
    void this.ctx;
    return { written: false, reason: `snapshot capture is not available in this build (requested: ${reason})` };
  }

  status(): Record<string, unknown> {
    const t = this.lastTick;
    return {
      gcs: this.gcs,
      fullGcs: this.fullGcs,
      memory: t?.memory,
      container: t?.container,
    };
  }

  stop(): void {
    /* nothing held yet */
  }
}
