/**
 * Synthetic process for detector tests: one drain per virtual second with a scavenge record, a full
 * GC every `fullEvery` seconds, and a process-memory reading. Deterministic (seeded PRNG).
 */
import { Detector, type DetectorOptions } from '../../src/detect/detector';
import type { Thresholds } from '../../src/detect/thresholds';
import type { Verdict } from '../../src/detect/verdict';
import type { GcRecord } from '../../src/sampler/types';
import { rng } from '../helpers/random';
export { rng };

export const MiB = 1024 * 1024;

export function gauss(r: () => number): number {
  return Math.sqrt(-2 * Math.log(r() || 1e-12)) * Math.cos(2 * Math.PI * r());
}

export interface Shape {
  /** Live old-generation bytes at second `s`. */
  old(s: number): number;
  /** External bytes at second `s` (default flat 10 MiB). */
  external?(s: number): number;
  /** Native bytes at second `s` — RSS beyond the heap and external memory (default flat 40 MiB). */
  native?(s: number): number;
  /** Garbage promoted per second between full GCs (default 0), constant or per second `s`. */
  garbagePerSec?: number | ((s: number) => number);
}

export interface RunResult {
  verdicts: Verdict[];
  detector: Detector;
  /** Every state seen per series, in order of change. */
  states: Record<string, string[]>;
  t0: number;
}

export function runSynthetic(shape: Shape, seconds: number, opts: Partial<DetectorOptions> & { fullEvery?: number; fullAt?: (s: number) => boolean; thresholds?: Partial<Thresholds>; heapLimit?: number; containerLimit?: number } = {}): RunResult {
  // A test may change one threshold to show what it does.
  const detector = new Detector({ windowMs: opts.windowMs ?? 60_000, sensitivity: opts.sensitivity ?? 'normal', thresholds: opts.thresholds });
  const fullEvery = opts.fullEvery ?? 5;
  const t0 = Date.UTC(2026, 0, 1);
  const verdicts: Verdict[] = [];
  const states: Record<string, string[]> = { old_space: [], external: [], native: [] };
  let garbage = 0;
  for (let s = 0; s < seconds; s++) {
    const t = t0 + s * 1000;
    const full = opts.fullAt ? opts.fullAt(s) : s % fullEvery === 0;
    const promoted = typeof shape.garbagePerSec === 'function' ? shape.garbagePerSec(s) : shape.garbagePerSec ?? 0;
    const garbageBefore = garbage + promoted;
    if (full) garbage = 0;
    else garbage += promoted;
    const live = shape.old(s);
    const old = live + garbage;
    const ext = shape.external ? shape.external(s) : 10 * MiB;
    const record: GcRecord = {
      kind: full ? 'mark-sweep-compact' : 'scavenge',
      startTime: t - 2,
      duration: 1,
      after: { new_space: { used: MiB, committed: 16 * MiB }, old_space: { used: old, committed: old + 4 * MiB } },
      external: ext,
    };
    if (full) record.before = { new_space: { used: 8 * MiB, committed: 16 * MiB }, old_space: { used: live + garbageBefore, committed: old + 4 * MiB } };
    const native = shape.native ? shape.native(s) : 40 * MiB;
    const memory = { time: t, rss: old + 20 * MiB + ext + native, heapUsed: old + MiB, heapTotal: old + 20 * MiB, heapLimit: opts.heapLimit ?? 512 * MiB, external: ext, arrayBuffers: ext };
    const container = opts.containerLimit ? { version: 2 as const, path: '/sys/fs/cgroup', limit: opts.containerLimit, usage: memory.rss, oomKills: 0, limitHits: 0 } : undefined;
    verdicts.push(...detector.observe({ records: [record], memory, container, hostMemoryBytes: 8192 * MiB }).verdicts);
    for (const [name, st] of Object.entries(detector.states())) {
      const list = states[name] as string[];
      if (list[list.length - 1] !== st.state) list.push(st.state);
    }
  }
  return { verdicts, detector, states, t0 };
}

export const leaks = (r: RunResult, memory = 'old_space'): Verdict[] => r.verdicts.filter((v) => v.kind === 'leak' && v.memory === memory);
export const anyLeak = (r: RunResult): Verdict[] => r.verdicts.filter((v) => v.kind === 'leak');
