/**
 * The native sampler: V8 GC prologue/epilogue callbacks in the addon write each GC into a fixed-size
 * ring buffer; drain() turns the ring's flat Float64Array into GcRecords. Nothing here runs during
 * a GC: the callbacks never touch JS, and this code runs on the agent's (unref'd) drain timer.
 */
import type { NativeAddon } from '../native/addon';
import { decideNative } from '../native/decide';
import type { GcKind, GcRecord, Sampler, SamplerCounters, SpaceUsage } from './types';

export type NativeLoadResult = { sampler: Sampler; from: string; error?: undefined } | { sampler?: undefined; error: string };

/** Same numbering as GcKind in native/gc_recorder.h. */
const KINDS: readonly GcKind[] = ['scavenge', 'minor-mark-sweep', 'mark-sweep-compact', 'incremental-marking', 'weak-callbacks'];

/**
 * Ring capacity. A tight allocation loop here (2e7 small objects) produced 355 scavenges in 0.8 s
 * on Node 20, ~450 per second; the ring is drained every second, so 2048 records leave ~4x
 * headroom (a drain delayed by a long synchronous task loses records, counted as dropped) while
 * bounding the ring at 2048 x 544 bytes ≈ 1.1 MB of native memory, allocated once at start.
 */
export const DEFAULT_RING_CAPACITY = 2048;

export interface NativeSamplerOptions {
  capacity?: number;
  /** Measure time spent inside the GC callbacks (two extra clock reads per callback); for benches. */
  measure?: boolean;
}

export class NativeSampler implements Sampler {
  readonly kind = 'native' as const;
  private readonly spaces: readonly string[];
  private readonly stride: number;
  private drained = 0;

  constructor(private readonly addon: NativeAddon, private readonly options: NativeSamplerOptions = {}) {
    this.spaces = addon.spaceNames();
    this.stride = 5 + 4 * this.spaces.length;
  }

  start(): void {
    this.addon.startGcRecorder(this.options.capacity ?? DEFAULT_RING_CAPACITY, this.options.measure ?? false);
  }

  drain(): GcRecord[] {
    const flat = this.addon.drainGcRecords();
    // Native start times are on the monotonic uv_hrtime clock; map them to epoch ms through the
    // offset between the two clocks right now (recomputed each drain, so wall-clock steps heal).
    const offset = Date.now() - this.addon.nowMs();
    const n = this.spaces.length;
    const records: GcRecord[] = [];
    for (let base = 0; base + this.stride <= flat.length; base += this.stride) {
      const after: Record<string, SpaceUsage> = {};
      const afterAt = base + 5;
      for (let i = 0; i < n; i++) {
        after[this.spaces[i] as string] = { used: flat[afterAt + 2 * i] as number, committed: flat[afterAt + 2 * i + 1] as number };
      }
      const record: GcRecord = {
        kind: KINDS[flat[base] as number] ?? 'scavenge',
        startTime: (flat[base + 1] as number) + offset,
        duration: flat[base + 2] as number,
        after,
        external: flat[base + 3] as number,
      };
      if (flat[base + 4] === 1) {
        const before: Record<string, SpaceUsage> = {};
        const beforeAt = afterAt + 2 * n;
        for (let i = 0; i < n; i++) {
          before[this.spaces[i] as string] = { used: flat[beforeAt + 2 * i] as number, committed: flat[beforeAt + 2 * i + 1] as number };
        }
        record.before = before;
      }
      records.push(record);
    }
    this.drained += records.length;
    return records;
  }

  counters(): SamplerCounters {
    return { records: this.drained, dropped: this.addon.gcCounters().dropped };
  }

  /** Native-only figures (time inside callbacks when measuring); used by the bench. */
  nativeCounters(): ReturnType<NativeAddon['gcCounters']> {
    return this.addon.gcCounters();
  }

  stop(): void {
    this.addon.stopGcRecorder();
  }
}

/** A native sampler with non-default options (tests, benches); the agent itself goes through select.ts. */
export function loadNativeSampler(options: NativeSamplerOptions = {}): NativeLoadResult {
  const loaded = decideNative('auto');
  if (!loaded.addon || !loaded.from) return { error: loaded.unavailable ?? 'native addon not loaded' };
  try {
    return { sampler: new NativeSampler(loaded.addon, options), from: loaded.from };
  } catch (err) {
    return { error: `native addon loaded from ${loaded.from} but failed: ${(err as Error).message}` };
  }
}
