/**
 * A byte-rate limit for the upload's streams. Measured without it (bench/upload-throughput.js,
 * 1 GiB of snapshot-like text): the main thread was busy ~40–46% of the upload's wall time moving
 * chunks, hashing and feeding zlib at ~100 MiB/s. Evidence can wait seconds; the host's requests
 * cannot, so the default spreads that work out (`LEAK_AGENT_UPLOAD_MAX_RATE`).
 */
import { Transform, type TransformCallback } from 'node:stream';

export class Throttle extends Transform {
  private readonly started = Date.now();
  private passed = 0;

  /** `bytesPerSec` ≤ 0 means no limit. */
  constructor(private readonly bytesPerSec: number) {
    super();
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, done: TransformCallback): void {
    this.passed += chunk.length;
    if (this.bytesPerSec <= 0) {
      done(null, chunk);
      return;
    }
    const due = this.started + (this.passed / this.bytesPerSec) * 1000;
    const wait = due - Date.now();
    if (wait <= 1) {
      done(null, chunk);
      return;
    }
    // Unref'd: a throttled upload never keeps the host alive (the spool resumes it next start).
    setTimeout(() => done(null, chunk), wait).unref();
  }
}
