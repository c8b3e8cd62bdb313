/**
 * The policy's side of memory pressure: turns each tick (GC records, process and container memory)
 * and the detector's per-series figures into a PressureReading, feeds the pure monitor, and reports
 * each crossing once: a `memory.pressure` / `memory.pressure.cleared` log line with the figures, an
 * OpenTelemetry log record, and a `pressure` event for the application. health() only returns the
 * answer the last tick computed.
 */
import type { EventEmitter } from 'node:events';
import type { SeriesStatus } from '../detect/tracker';
import type { AgentLogger } from '../log/logger';
import type { ContainerMemory } from '../process/container';
import type { ProcessMemory } from '../process/memory';
import type { GcRecord } from '../sampler/types';
import type { Telemetry } from '../telemetry/telemetry';
import type { PressureView } from '../telemetry/pressure-collector';
import { NO_READING, PressureMonitor, type Health, type PressureChange, type PressureFigures, type PressureReading, type PressureThresholds } from './pressure';

export interface PressureTick {
  records: readonly GcRecord[];
  memory: ProcessMemory;
  container: ContainerMemory | undefined;
}

export class PressureWatch implements PressureView {
  private readonly monitor: PressureMonitor;
  private ticked = false;

  constructor(
    thresholds: PressureThresholds,
    private readonly logger: AgentLogger,
    private readonly events: EventEmitter,
    private readonly telemetry: Telemetry,
  ) {
    this.monitor = new PressureMonitor(thresholds);
  }

  health(): Health {
    return this.ticked ? this.monitor.health() : NO_READING;
  }

  active(signal: Parameters<PressureMonitor['active']>[0]): boolean {
    return this.monitor.active(signal);
  }

  figures(): PressureFigures | undefined {
    return this.ticked ? this.monitor.health().figures : undefined;
  }

  onTick(tick: PressureTick, series: readonly SeriesStatus[]): PressureChange[] {
    const changes = this.monitor.observe(reading(tick, series));
    this.ticked = true;
    const status = this.monitor.health().status;
    for (const c of changes) {
      const fields = { signal: c.signal, value: c.value, threshold: c.threshold, status, ...c.figures };
      this.logger.log(c.active ? 'memory.pressure' : 'memory.pressure.cleared', fields);
      this.telemetry.onPressure({ signal: c.signal, active: c.active, value: c.value, threshold: c.threshold, status, figures: { ...c.figures } });
      this.events.emit('pressure', { active: c.active, ...fields, reasons: this.monitor.health().reasons });
    }
    return changes;
  }
}

/** Growth and time to OOM come from series the detector finds suspect or leaking: steady noise is not growth. */
export function reading(tick: PressureTick, series: readonly SeriesStatus[]): PressureReading {
  let fullGcs = 0;
  let gcPauseMs = 0;
  for (const r of tick.records) {
    if (r.kind === 'mark-sweep-compact') fullGcs += 1;
    gcPauseMs += r.duration;
  }
  let growth: number | null = null;
  let ttl: number | null = null;
  for (const s of series) {
    if (s.state !== 'suspect' && s.state !== 'leak') continue;
    if (s.slopeBytesPerSec !== null && s.slopeBytesPerSec > 0) {
      growth = Math.max(growth ?? 0, s.slopeBytesPerSec);
      if (s.currentBytes !== null && s.limitBytes !== null) {
        const sec = Math.max(0, s.limitBytes - s.currentBytes) / s.slopeBytesPerSec;
        ttl = ttl === null ? sec : Math.min(ttl, sec);
      }
    }
  }
  const c = tick.container;
  return {
    time: tick.memory.time,
    heapUsed: tick.memory.heapUsed,
    heapLimit: tick.memory.heapLimit,
    containerUsage: c ? c.usage : null,
    containerLimit: c?.limit ?? null,
    fullGcs,
    gcPauseMs,
    growthBytesPerSec: growth,
    timeToOomSec: ttl,
  };
}
