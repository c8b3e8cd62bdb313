/**
 * Promoted garbage taken out of the old-generation series. Pure.
 */
import type { Bucket } from './decimate';

/** One full GC as the garbage correction needs it: old generation before and after, epoch ms. */
export interface FullGc { t: number; before: number; after: number }

/**
 * old_space values for the trend, with promoted garbage taken out. Between full GCs the old
 * generation fills with garbage (objects promoted by scavenges) that the next full GC removes; each
 * full GC tells how much there was (before − after). Spreading that amount linearly over the cycle,
 * and extrapolating the last cycle's rate after the latest full GC, turns the sawtooth into an
 * estimate of the live set. Without it every full GC is a drop that breaks the rank trend of a leak
 * (measured: a 60 KB/s leak went from "suspect" to "plateau" right after V8's first full GC), and a
 * steady service's garbage ramp looks like a leak. Buckets that contain a full GC use its reading.
 */
export function withoutGarbage(buckets: readonly Bucket[], fulls: readonly FullGc[], firstSeen: number, minCycleMs = 0): number[] {
  return buckets.map((b) => {
    if (Number.isFinite(b.fullMin)) return b.fullMin;
    let k = 0;
    while (k < fulls.length && (fulls[k] as FullGc).t <= b.t) k++;
    const prev = fulls[k - 1];
    const next = fulls[k];
    const prevT = prev ? prev.t : firstSeen;
    let garbage = 0;
    if (next) {
      const span = next.t - prevT;
      if (span > 0) garbage = Math.max(0, next.before - next.after) * ((b.t - prevT) / span);
    } else if (prev) garbage = promotionRate(fulls, k - 1, minCycleMs) * (b.t - prev.t);
    // Never below the live set proven by the previous full GC... unless memory really fell. Before
    // the first full GC nothing is proven (and using the reading itself as the floor would undo the
    // correction: measured, a 30 KB/s leak became a sawtooth at V8's first full GC).
    if (!prev) return b.min - garbage;
    return Math.max(b.min - garbage, Math.min(b.min, prev.after));
  });
}

/**
 * Garbage promoted per ms after the full GC at `last`, extrapolated from the cycles that end there:
 * the smallest rate of the last three complete cycles (full GC to full GC) of at least `minCycleMs`.
 * Underestimating only leaves some garbage in the series, which at worst makes the detector ask for a
 * confirmation GC; overestimating bends a real leak flat (measured: the start-up cycle, full of
 * module-loading garbage, extrapolated after the first full GC turned a 30 KB/s leak into a falling
 * series for 75 s). So the cycle from process start to the first full GC never counts, and no complete
 * cycle means no correction. Short cycles do not count either: V8 often runs two full GCs a second
 * apart, and the little garbage between them is no measure of a rate (measured in the corpus: a 1 s
 * cycle gave 100 KB/s where the next 71 s cycle showed 13 KB/s; extrapolated, it pinned a 30 KB/s
 * leak's series to the last full GC's reading for 70 s).
 */
function promotionRate(fulls: readonly FullGc[], last: number, minCycleMs: number): number {
  let rate = Infinity;
  let counted = 0;
  for (let k = last; k >= 1 && counted < 3; k--) {
    const end = fulls[k] as FullGc;
    const start = fulls[k - 1] as FullGc;
    const cycle = end.t - start.t;
    if (cycle <= 0 || cycle < minCycleMs) continue;
    counted++;
    rate = Math.min(rate, Math.max(0, end.before - end.after) / cycle);
  }
  return Number.isFinite(rate) ? rate : 0;
}
