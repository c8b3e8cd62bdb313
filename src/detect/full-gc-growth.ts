/**
 * How much the live set certainly grew, as full GCs show it. Pure.
 *
 * A reading right after a full GC is the live set; any other post-GC reading is an upper bound of it
 * (live plus garbage not yet collected). So "latest full GC − an earlier reading" is a lower bound of
 * how much live memory grew: the earliest full GC when there are two far enough apart (live vs live),
 * else the smallest reading before the latest full GC.
 *
 * Under bursts a full GC can land in the middle of one, and the in-flight work it finds is live for
 * those seconds: one full GC inside a burst and one outside make a leak look like shrinking or a flat
 * service look like growing. For a bursty series (floorSpanMs > 0) each end is therefore the smallest
 * full-GC reading of a span at that end (the first and the last floorSpanMs of the full GCs), not carried
 * along any slope — so growth is understated by up to one span's worth, the safe side of a confirmation.
 */
import type { Bucket } from './decimate';

export interface FullGcGrowth {
  /** Bytes of growth that survived full GCs, and the seconds between the two readings compared. */
  growth: number;
  spanSec: number;
  /** When the latest full GC compared was (its bucket's time, ms): how current the confirmation is. */
  lastFullAt: number;
}

/** `buckets`: the look-back, oldest first. Undefined when no full GC follows an earlier reading. */
export function fullGcGrowth(buckets: readonly Bucket[], minSpanSec: number, floorSpanMs = 0): FullGcGrowth | undefined {
  const fullIdx: number[] = [];
  buckets.forEach((b, i) => { if (Number.isFinite(b.fullMin)) fullIdx.push(i); });
  const lastFull = fullIdx[fullIdx.length - 1];
  if (lastFull === undefined || lastFull === 0) return undefined;
  const full = buckets[lastFull] as Bucket;
  const firstFull = buckets[fullIdx[0] as number] as Bucket;
  if (floorSpanMs > 0) {
    if (fullIdx.length < 2) return { growth: 0, spanSec: 0, lastFullAt: full.t };
    let late = Infinity;
    let early = Infinity;
    for (const i of fullIdx) {
      const b = buckets[i] as Bucket;
      if (b.t > full.t - floorSpanMs) late = Math.min(late, b.fullMin);
      if (b.t < firstFull.t + floorSpanMs) early = Math.min(early, b.fullMin);
    }
    return { growth: late - early, spanSec: (full.t - firstFull.t) / 1000, lastFullAt: full.t };
  }
  if (fullIdx.length >= 2 && (full.t - firstFull.t) / 1000 >= minSpanSec) {
    return { growth: full.fullMin - firstFull.fullMin, spanSec: (full.t - firstFull.t) / 1000, lastFullAt: full.t };
  }
  let low = buckets[0] as Bucket;
  for (let i = 1; i < lastFull; i++) if ((buckets[i] as Bucket).min < low.min) low = buckets[i] as Bucket;
  return { growth: full.fullMin - low.min, spanSec: (full.t - low.t) / 1000, lastFullAt: full.t };
}
