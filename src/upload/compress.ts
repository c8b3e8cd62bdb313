/**
 * Stages the gzip copy that is actually uploaded: source → gzip → checksum tap → `<id>.gz.tmp`,
 * then fsync and rename. Streaming end to end (a multi-gigabyte snapshot never sits in memory;
 * compression runs on libuv's thread pool), and compressing once means a retry re-sends bytes
 * instead of recompressing, the length is known up front (presigned S3 URLs refuse chunked bodies),
 * and the checksums the store must confirm are known before the first byte leaves.
 */
import { createReadStream, createWriteStream, promises as fsp } from 'node:fs';
import { createHash, type Hash } from 'node:crypto';
import { Transform, type TransformCallback } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { constants as zlibConstants, createGzip } from 'node:zlib';
import type { StagedCopy } from './spool';
import { CREATE_EXCLUSIVE, READ_NOFOLLOW } from '../evidence/safe-fs';
import { Throttle } from './throttle';

/** Level 1: heap snapshots (JSON) still shrink several fold, at a fraction of level 6's CPU. */
const GZIP_LEVEL = 1;
/** Room kept free on the spool's filesystem for the host's own writes. */
export const RESERVE_BYTES = 64 * 1024 * 1024;

/** Thrown when the spool's disk has no room for the compressed copy (retry later). */
export class NoRoomError extends Error {}

export async function stageCompressed(source: string, dest: string, partSize: number, sourceBytes: number, maxBytesPerSec = 0): Promise<StagedCopy> {
  await ensureRoom(dest, sourceBytes);
  const tap = new ChecksumTap(partSize);
  const tmp = `${dest}.tmp`;
  // A leftover of a process that died while staging this entry (the entry's lock kept others away).
  await fsp.rm(tmp, { force: true });
  try {
    await pipeline(
      createReadStream(source, { highWaterMark: 256 * 1024 }),
      new Throttle(maxBytesPerSec),
      createGzip({ level: GZIP_LEVEL, chunkSize: 128 * 1024, memLevel: 8, strategy: zlibConstants.Z_DEFAULT_STRATEGY }),
      tap,
      createWriteStream(tmp, { flags: CREATE_EXCLUSIVE as unknown as string, mode: 0o600 }),
    );
    const handle = await fsp.open(tmp, READ_NOFOLLOW);
    try {
      await handle.sync();
    } finally {
      await handle.close();
    }
    await fsp.rename(tmp, dest);
  } catch (err) {
    await fsp.rm(tmp, { force: true });
    if ((err as NodeJS.ErrnoException).code === 'ENOSPC') throw new NoRoomError(`no room on disk for the compressed copy in ${dest}`);
    throw err;
  }
  return tap.result(dest);
}

/** Compressed output is unknown in advance; ask for half the source (JSON shrinks far more) plus the reserve. */
async function ensureRoom(dest: string, sourceBytes: number): Promise<void> {
  let free: number;
  try {
    const s = await fsp.statfs(dest.slice(0, dest.lastIndexOf('/')) || '/');
    free = s.bavail * s.bsize;
  } catch {
    return; // cannot tell: let ENOSPC speak if it comes to that
  }
  const need = Math.ceil(sourceBytes / 2) + RESERVE_BYTES;
  if (free < need) throw new NoRoomError(`only ${free} bytes free where the spool lives; staging needs about ${need}`);
}

/** Passes bytes through while computing MD5, SHA-256 and the per-part MD5s of S3's multipart ETag. */
class ChecksumTap extends Transform {
  private readonly md5 = createHash('md5');
  private readonly sha256 = createHash('sha256');
  private part: Hash = createHash('md5');
  private partFill = 0;
  private readonly partDigests: Buffer[] = [];
  private bytes = 0;

  constructor(private readonly partSize: number) {
    super();
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, done: TransformCallback): void {
    this.md5.update(chunk);
    this.sha256.update(chunk);
    this.bytes += chunk.length;
    let offset = 0;
    while (offset < chunk.length) {
      const take = Math.min(this.partSize - this.partFill, chunk.length - offset);
      this.part.update(chunk.subarray(offset, offset + take));
      this.partFill += take;
      offset += take;
      if (this.partFill === this.partSize) {
        this.partDigests.push(this.part.digest());
        this.part = createHash('md5');
        this.partFill = 0;
      }
    }
    done(null, chunk);
  }

  result(path: string): StagedCopy {
    if (this.partFill > 0) this.partDigests.push(this.part.digest());
    const multipart = this.bytes > this.partSize;
    return {
      path,
      bytes: this.bytes,
      md5: this.md5.digest('hex'),
      sha256: this.sha256.digest('hex'),
      partSize: this.partSize,
      partMd5s: this.partDigests.map((d) => d.toString('hex')),
      multipartEtag: multipart ? `${createHash('md5').update(Buffer.concat(this.partDigests)).digest('hex')}-${this.partDigests.length}` : null,
    };
  }
}
