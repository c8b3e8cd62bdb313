/**
 * Memory pressure: readings in, signal states and the health answer out. Pure (no I/O, no clock):
 * the policy hands it one reading per tick, built from what the sampler and detector already have.
 *
 * Each signal has a threshold and a clear level below it (hysteresis): it crosses the first time
 * its value reaches the threshold and clears only after the value stayed under the clear level for
 * CLEAR_AFTER consecutive readings, so a value wobbling around a threshold crosses and clears once.
 * `critical` uses the same rule with its own, harder thresholds.
 */

export type PressureSignal = 'heap' | 'container' | 'growth' | 'full_gc_rate' | 'gc_time' | 'time_to_oom';
export const PRESSURE_SIGNALS: readonly PressureSignal[] = ['heap', 'container', 'growth', 'full_gc_rate', 'gc_time', 'time_to_oom'];

export interface PressureThresholds {
  /** Heap used / heap limit (0..1) that makes the process degraded. */
  heapUse: number;
  /** Container usage / container limit (0..1). */
  containerUse: number;
  /** Growth of the fastest growing series the detector finds suspect or leaking, MB (10^6 B) per hour. */
  growthMbPerHour: number;
  /** Full (mark-sweep-compact) GCs per minute over the last RATE_WINDOW_MS. */
  fullGcPerMinute: number;
  /** Share of wall time spent in GC pauses over the last RATE_WINDOW_MS (0..1). */
  gcTimeShare: number;
  /** Time to OOM below which the process is degraded, ms. */
  oomHorizonMs: number;
  /** Time to OOM below which it is critical, ms. */
  criticalOomHorizonMs: number;
  /** Heap use at or above which it is critical (0..1). */
  criticalHeapUse: number;
  /** Container use at or above which it is critical (0..1). */
  criticalContainerUse: number;
}

export const DEFAULT_THRESHOLDS: PressureThresholds = {
  heapUse: 0.8,
  containerUse: 0.9,
  growthMbPerHour: 100,
  fullGcPerMinute: 12,
  gcTimeShare: 0.1,
  oomHorizonMs: 60 * 60_000,
  criticalOomHorizonMs: 5 * 60_000,
  criticalHeapUse: 0.95,
  criticalContainerUse: 0.97,
};

/** A clear level is this fraction of the threshold's distance below it (80% clears under 76%). */
const CLEAR_BAND = 0.05;
/** Readings under the clear level in a row before a signal clears. */
export const CLEAR_AFTER = 3;
/** Window of the GC rate and GC time share. */
export const RATE_WINDOW_MS = 60_000;
/** At most this many tick summaries are kept for the rate window (bounded memory). */
const MAX_TICKS = 256;

export interface PressureReading {
  /** Epoch ms of the reading. */
  time: number;
  heapUsed: number;
  heapLimit: number;
  containerUsage: number | null;
  containerLimit: number | null;
  /** Full GCs and the sum of all GC pauses (ms) since the previous reading. */
  fullGcs: number;
  gcPauseMs: number;
  /** The detector's fastest growth among suspect/leak series (bytes/s), or null. */
  growthBytesPerSec: number | null;
  /** The detector's shortest time to limit among suspect/leak series (s), or null. */
  timeToOomSec: number | null;
}

export interface PressureFigures {
  heapUse: number | null;
  containerUse: number | null;
  growthMbPerHour: number | null;
  fullGcPerMinute: number | null;
  gcTimeShare: number | null;
  timeToOomSec: number | null;
}

export type HealthStatus = 'ok' | 'degraded' | 'critical';

export interface Health {
  status: HealthStatus;
  /** One short sentence per active signal, e.g. "heap use 83% ≥ 80%". */
  reasons: readonly string[];
  figures: Readonly<PressureFigures>;
}

export interface PressureChange {
  signal: PressureSignal | 'critical';
  /** true: crossed; false: cleared. */
  active: boolean;
  value: number | null;
  threshold: number;
  figures: PressureFigures;
}

interface Latch {
  active: boolean;
  below: number;
}

/** `higher`: the signal is bad when the value is high; time to OOM is bad when low. */
function step(latch: Latch, value: number | null, threshold: number, higher: boolean): boolean | undefined {
  const over = value !== null && (higher ? value >= threshold : value <= threshold);
  if (!latch.active) {
    if (!over) return undefined;
    latch.active = true;
    latch.below = 0;
    return true;
  }
  const clearLevel = higher ? threshold * (1 - CLEAR_BAND) : threshold * (1 + CLEAR_BAND);
  const under = value === null || (higher ? value < clearLevel : value > clearLevel);
  latch.below = under ? latch.below + 1 : 0;
  if (latch.below < CLEAR_AFTER) return undefined;
  latch.active = false;
  latch.below = 0;
  return false;
}

function percent(x: number): string {
  return `${Math.round(x * 1000) / 10}%`;
}

function minutes(sec: number): string {
  return sec < 120 ? `${Math.round(sec)} s` : `${Math.round(sec / 60)} min`;
}

export class PressureMonitor {
  private readonly latches = new Map<PressureSignal | 'critical', Latch>();
  /** Ring of (time, fullGcs, pauseMs) per reading, for the rate window. */
  private readonly ticks: { time: number; fullGcs: number; pauseMs: number }[] = [];
  private firstTime: number | undefined;
  private current: Health = { status: 'ok', reasons: [], figures: emptyFigures() };

  constructor(readonly thresholds: PressureThresholds = DEFAULT_THRESHOLDS) {
    for (const s of PRESSURE_SIGNALS) this.latches.set(s, { active: false, below: 0 });
    this.latches.set('critical', { active: false, below: 0 });
  }

  /** The answer as of the last reading: a precomputed object, never rebuilt on a call. */
  health(): Health {
    return this.current;
  }

  observe(r: PressureReading): PressureChange[] {
    const t = this.thresholds;
    const figures = this.figures(r);
    const changes: PressureChange[] = [];
    const values: Record<PressureSignal, [number | null, number, boolean]> = {
      heap: [figures.heapUse, t.heapUse, true],
      container: [figures.containerUse, t.containerUse, true],
      growth: [figures.growthMbPerHour, t.growthMbPerHour, true],
      full_gc_rate: [figures.fullGcPerMinute, t.fullGcPerMinute, true],
      gc_time: [figures.gcTimeShare, t.gcTimeShare, true],
      time_to_oom: [figures.timeToOomSec, t.oomHorizonMs / 1000, false],
    };
    for (const s of PRESSURE_SIGNALS) {
      const [value, threshold, higher] = values[s];
      const changed = step(this.latches.get(s) as Latch, value, threshold, higher);
      if (changed !== undefined) changes.push({ signal: s, active: changed, value, threshold, figures });
    }
    // Critical: the worst of three ratios to their hard limits (≥ 1 is critical), so one latch covers all.
    const ratios = [
      figures.heapUse !== null ? figures.heapUse / t.criticalHeapUse : 0,
      figures.containerUse !== null ? figures.containerUse / t.criticalContainerUse : 0,
      figures.timeToOomSec !== null ? t.criticalOomHorizonMs / 1000 / Math.max(figures.timeToOomSec, 1e-3) : 0,
    ];
    const worst = Math.max(...ratios);
    const critical = step(this.latches.get('critical') as Latch, worst, 1, true);
    if (critical !== undefined) changes.push({ signal: 'critical', active: critical, value: worst, threshold: 1, figures });
    this.current = this.answer(figures);
    return changes;
  }

  active(signal: PressureSignal | 'critical'): boolean {
    return this.latches.get(signal)?.active ?? false;
  }

  private answer(f: PressureFigures): Health {
    const t = this.thresholds;
    const reasons: string[] = [];
    if (this.active('heap') && f.heapUse !== null) reasons.push(`heap use ${percent(f.heapUse)} (threshold ${percent(t.heapUse)})`);
    if (this.active('container') && f.containerUse !== null) reasons.push(`container memory ${percent(f.containerUse)} of its limit (threshold ${percent(t.containerUse)})`);
    if (this.active('growth') && f.growthMbPerHour !== null) reasons.push(`memory grows ${Math.round(f.growthMbPerHour)} MB/h (threshold ${t.growthMbPerHour} MB/h)`);
    if (this.active('full_gc_rate') && f.fullGcPerMinute !== null) reasons.push(`${f.fullGcPerMinute.toFixed(1)} full GCs per minute (threshold ${t.fullGcPerMinute})`);
    if (this.active('gc_time') && f.gcTimeShare !== null) reasons.push(`${percent(f.gcTimeShare)} of the time in GC (threshold ${percent(t.gcTimeShare)})`);
    if (this.active('time_to_oom') && f.timeToOomSec !== null) reasons.push(`out of memory in about ${minutes(f.timeToOomSec)} (horizon ${minutes(t.oomHorizonMs / 1000)})`);
    const status: HealthStatus = this.active('critical') ? 'critical' : reasons.length > 0 ? 'degraded' : 'ok';
    if (status === 'critical') reasons.unshift('critical: memory is at its hard limit or will run out within the critical horizon');
    return Object.freeze({ status, reasons: Object.freeze(reasons), figures: Object.freeze(f) });
  }

  private figures(r: PressureReading): PressureFigures {
    this.firstTime ??= r.time;
    this.ticks.push({ time: r.time, fullGcs: r.fullGcs, pauseMs: r.gcPauseMs });
    while (this.ticks.length > MAX_TICKS || ((this.ticks[0] as { time: number }).time < r.time - RATE_WINDOW_MS)) this.ticks.shift();
    let fullGcs = 0;
    let pauseMs = 0;
    for (const x of this.ticks) {
      fullGcs += x.fullGcs;
      pauseMs += x.pauseMs;
    }
    // Rates need some history: until a quarter of the window has passed they are unknown, not high.
    const spanMs = Math.min(RATE_WINDOW_MS, r.time - this.firstTime);
    const rated = spanMs >= RATE_WINDOW_MS / 4;
    return {
      heapUse: r.heapLimit > 0 ? r.heapUsed / r.heapLimit : null,
      containerUse: r.containerUsage !== null && r.containerLimit !== null && r.containerLimit > 0 ? r.containerUsage / r.containerLimit : null,
      growthMbPerHour: r.growthBytesPerSec !== null ? (r.growthBytesPerSec * 3600) / 1e6 : null,
      fullGcPerMinute: rated ? (fullGcs * 60_000) / spanMs : null,
      gcTimeShare: rated ? Math.min(1, pauseMs / spanMs) : null,
      timeToOomSec: r.timeToOomSec,
    };
  }
}

function emptyFigures(): PressureFigures {
  return { heapUse: null, containerUse: null, growthMbPerHour: null, fullGcPerMinute: null, gcTimeShare: null, timeToOomSec: null };
}

/** The answer before the agent has a reading, when it is disabled or stopped: never a throw. */
export const NO_READING: Health = Object.freeze({ status: 'ok', reasons: Object.freeze(['no memory reading yet']), figures: Object.freeze(emptyFigures()) });
export const DISABLED: Health = Object.freeze({ status: 'ok', reasons: Object.freeze(['leak-agent is disabled']), figures: Object.freeze(emptyFigures()) });
export const STOPPED: Health = Object.freeze({ status: 'ok', reasons: Object.freeze(['leak-agent is stopped']), figures: Object.freeze(emptyFigures()) });
