/**
 * Decimation to per-bucket minima, bounded.
 *
 * Why minima: between full GCs, post-GC memory also contains garbage that has not been collected yet
 * (objects promoted by scavenges, Buffers waiting for their wrapper to die). The smallest reading in a
 * bucket is the closest to the live set; a leak raises the floor, garbage only raises the peaks.
 * Why buckets: the statistics cost O(n²) and assume roughly even spacing; a busy process produces
 * hundreds of GCs a minute and an idle one almost none.
 *
 * Each bucket also keeps the minimum over full (mark-sweep-compact) GCs only: those are the readings
 * that contain no promoted garbage, the ones that can confirm a heap leak.
 */

export interface Bucket {
  /** Start of the bucket, epoch ms (a multiple of the bucket length). */
  start: number;
  /** Time of the smallest reading, epoch ms. */
  t: number;
  /** Smallest reading. */
  min: number;
  /** Smallest reading taken right after a full GC, or NaN when the bucket had none. */
  fullMin: number;
  /** Latest reading (for "current use") and its time. */
  last: number;
  lastT: number;
  count: number;
}

export class BucketMinima {
  private readonly buckets: Bucket[] = [];

  constructor(
    readonly bucketMs: number,
    /** History bound: older buckets are dropped, so memory stays constant whatever the GC rate. */
    readonly maxBuckets: number,
  ) {}

  /** Adds one reading. Readings older than the newest bucket are folded into the bucket they belong to if still held. */
  add(t: number, value: number, fullGc = false): void {
    if (!Number.isFinite(t) || !Number.isFinite(value)) return;
    const start = Math.floor(t / this.bucketMs) * this.bucketMs;
    let b = this.buckets[this.buckets.length - 1];
    if (!b || start > b.start) {
      b = { start, t, min: value, fullMin: Number.NaN, last: value, lastT: t, count: 0 };
      this.buckets.push(b);
      if (this.buckets.length > this.maxBuckets) this.buckets.shift();
    } else if (start < b.start) {
      // Out of order (the JS sampler pairs GC times approximately): find the bucket, or drop.
      const found = this.buckets.find((x) => x.start === start);
      if (!found) return;
      b = found;
    }
    b.count += 1;
    if (value < b.min) {
      b.min = value;
      b.t = t;
    }
    if (t >= b.lastT) {
      b.last = value;
      b.lastT = t;
    }
    if (fullGc && !(value >= b.fullMin)) b.fullMin = value;
  }

  /** Buckets that started at or after `from`, oldest first. Buckets are never empty. */
  since(from: number): Bucket[] {
    const out: Bucket[] = [];
    for (const b of this.buckets) if (b.start >= from) out.push(b);
    return out;
  }

  latest(): Bucket | undefined {
    return this.buckets[this.buckets.length - 1];
  }

  get size(): number {
    return this.buckets.length;
  }
}
