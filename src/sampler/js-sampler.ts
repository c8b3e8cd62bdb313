/**
 * JS fallback sampler, used when the native addon cannot be loaded.
 *
 * `v8.GCProfiler` (Node >= 18.15) gives exact per-GC heap and per-space statistics before and after
 * each GC, but no timestamps; `perf_hooks` 'gc' entries give start time and kind but no heap figures.
 * We pair them in order by kind at each drain. A profiler record without a partner gets the drain
 * time (off by at most one drain interval, ~1 s, which the detector's minute-scale windows absorb).
 * The profiler is restarted at every drain to collect its records; a GC that falls exactly in that
 * gap is missed — the native sampler has no such gap.
 */
import * as v8 from 'node:v8';
import { PerformanceObserver, constants as perfConstants, performance } from 'node:perf_hooks';
import type { GcKind, GcRecord, Sampler, SamplerCounters, SpaceUsage } from './types';

interface ProfilerSpace { spaceName: string; spaceSize: number; spaceUsedSize: number }
interface ProfilerHeap { externalMemory: number }
interface ProfilerEntry {
  gcType: string;
  cost: number; // microseconds
  beforeGC: { heapStatistics: ProfilerHeap; heapSpaceStatistics: ProfilerSpace[] };
  afterGC: { heapStatistics: ProfilerHeap; heapSpaceStatistics: ProfilerSpace[] };
}
interface GcProfilerLike { start(): void; stop(): { statistics: ProfilerEntry[] } | undefined }

/** Bound on unpaired perf entries kept between drains, so a stalled drain cannot grow memory. */
const MAX_PENDING = 4096;

const PROFILER_KIND: Record<string, GcKind> = {
  Scavenge: 'scavenge',
  MinorMarkSweep: 'minor-mark-sweep',
  MinorMarkCompact: 'minor-mark-sweep',
  MarkSweepCompact: 'mark-sweep-compact',
  IncrementalMarking: 'incremental-marking',
  ProcessWeakCallbacks: 'weak-callbacks',
};

function perfKind(kind: number): GcKind {
  switch (kind) {
    case perfConstants.NODE_PERFORMANCE_GC_MINOR: return 'scavenge';
    case perfConstants.NODE_PERFORMANCE_GC_MAJOR: return 'mark-sweep-compact';
    case perfConstants.NODE_PERFORMANCE_GC_INCREMENTAL: return 'incremental-marking';
    case perfConstants.NODE_PERFORMANCE_GC_WEAKCB: return 'weak-callbacks';
    default: return 'scavenge';
  }
}

function spaces(list: ProfilerSpace[]): Record<string, SpaceUsage> {
  const out: Record<string, SpaceUsage> = {};
  for (const s of list) out[s.spaceName] = { used: s.spaceUsedSize, committed: s.spaceSize };
  return out;
}

export function jsSamplerAvailable(): boolean {
  return typeof (v8 as unknown as { GCProfiler?: unknown }).GCProfiler === 'function';
}

export class JsSampler implements Sampler {
  readonly kind = 'js' as const;
  private profiler: GcProfilerLike | undefined;
  private observer: PerformanceObserver | undefined;
  private pending: { kind: GcKind; startTime: number }[] = [];
  private readonly count: SamplerCounters = { records: 0, dropped: 0 };

  start(): void {
    const Ctor = (v8 as unknown as { GCProfiler: new () => GcProfilerLike }).GCProfiler;
    this.profiler = new Ctor();
    this.profiler.start();
    this.observer = new PerformanceObserver((list) => {
      for (const entry of list.getEntries()) {
        if (this.pending.length >= MAX_PENDING) this.pending.shift();
        const detail = (entry as unknown as { detail?: { kind?: number } }).detail;
        this.pending.push({ kind: perfKind(detail?.kind ?? 0), startTime: performance.timeOrigin + entry.startTime });
      }
    });
    this.observer.observe({ entryTypes: ['gc'] });
  }

  drain(): GcRecord[] {
    if (!this.profiler) return [];
    const result = this.profiler.stop();
    this.profiler.start();
    const now = Date.now();
    const records: GcRecord[] = [];
    for (const entry of result?.statistics ?? []) {
      const kind = PROFILER_KIND[entry.gcType] ?? 'scavenge';
      const durationMs = entry.cost / 1000;
      const idx = this.pending.findIndex((p) => p.kind === kind);
      let startTime = now - durationMs;
      if (idx >= 0) {
        startTime = (this.pending[idx] as { startTime: number }).startTime;
        this.pending.splice(0, idx + 1); // entries before the match belong to GCs the profiler missed
      }
      const record: GcRecord = {
        kind,
        startTime,
        duration: durationMs,
        after: spaces(entry.afterGC.heapSpaceStatistics),
        external: entry.afterGC.heapStatistics.externalMemory,
      };
      if (kind === 'mark-sweep-compact') record.before = spaces(entry.beforeGC.heapSpaceStatistics);
      records.push(record);
    }
    this.count.records += records.length;
    return records;
  }

  counters(): SamplerCounters {
    return { ...this.count };
  }

  stop(): void {
    try { this.profiler?.stop(); } catch { /* already stopped */ }
    this.observer?.disconnect();
    this.profiler = undefined;
    this.observer = undefined;
    this.pending = [];
  }
}
