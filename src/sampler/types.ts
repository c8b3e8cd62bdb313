/**
 * One garbage collection as the samplers report it. Both the native addon and the JS fallback
 * produce exactly this shape, so everything downstream is sampler-agnostic.
 */
export type GcKind =
  | 'scavenge'
  | 'minor-mark-sweep'
  | 'mark-sweep-compact'
  | 'incremental-marking'
  | 'weak-callbacks';

export interface SpaceUsage {
  /** Bytes in live objects. */
  used: number;
  /** Bytes the space has reserved from the OS (V8's "space size"). */
  committed: number;
}

export interface GcRecord {
  kind: GcKind;
  /** Epoch milliseconds when the GC started. */
  startTime: number;
  /** Pause in milliseconds. */
  duration: number;
  /** Per heap space after the GC, keyed by V8's own space name (never a hard-coded list). */
  after: Record<string, SpaceUsage>;
  /** Per heap space before the GC; present for full (mark-sweep-compact) GCs. */
  before?: Record<string, SpaceUsage>;
  /** External memory after the GC, as V8 accounts it (Buffers, ArrayBuffers, addon allocations). */
  external: number;
}

export type SamplerKind = 'native' | 'js';

export interface SamplerCounters {
  /** Records handed out by drain() since start. */
  records: number;
  /** Records lost because the buffer was full between drains (never a crash). */
  dropped: number;
}

export interface Sampler {
  readonly kind: SamplerKind;
  start(): void;
  /** Everything recorded since the previous drain, oldest first. */
  drain(): GcRecord[];
  counters(): SamplerCounters;
  stop(): void;
}

export function isFullGc(record: GcRecord): boolean {
  return record.kind === 'mark-sweep-compact';
}

/** Total used bytes over all spaces after the GC. */
export function heapUsedAfter(record: GcRecord): number {
  let sum = 0;
  for (const name in record.after) sum += (record.after[name] as SpaceUsage).used;
  return sum;
}
