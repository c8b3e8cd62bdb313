/**
 * `file:///dir` sink: copies the staged gzip copy to `<dir>/<key>` (temp + fsync + rename), hashing
 * while copying; the copy is confirmed when its MD5 equals the staged one. Useful for a mounted
 * network volume, and as the simplest sink to reason about.
 */
import { createReadStream, createWriteStream, promises as fsp } from 'node:fs';
import { createHash } from 'node:crypto';
import * as path from 'node:path';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { syncDir } from '../atomic-file';
import type { PutRequest, PutResult, Sink } from './types';
import { UploadError } from './types';

export function createFileSink(dir: string, display: string): Sink {
  return { display, put: (req) => put(dir, req) };
}

async function put(dir: string, req: PutRequest): Promise<PutResult> {
  const dest = path.join(dir, ...req.key.split('/'));
  const tmp = `${dest}.${process.pid}.tmp`;
  try {
    await fsp.mkdir(path.dirname(dest), { recursive: true });
    const md5 = createHash('md5');
    const tap = new Transform({
      transform(chunk: Buffer, _enc, done) {
        md5.update(chunk);
        done(null, chunk);
      },
    });
    await pipeline(createReadStream(req.staged.path, { highWaterMark: 256 * 1024 }), tap, createWriteStream(tmp, { mode: 0o644 }));
    const handle = await fsp.open(tmp, 'r+');
    try {
      await handle.sync();
    } finally {
      await handle.close();
    }
    const got = md5.digest('hex');
    if (got !== req.staged.md5) throw new UploadError(`copy to ${dest} has MD5 ${got}, expected ${req.staged.md5}`, false);
    await fsp.rename(tmp, dest);
    await syncDir(path.dirname(dest));
    return { uri: `file://${dest}`, verified: 'md5 of the written copy' };
  } catch (err) {
    await fsp.rm(tmp, { force: true }).catch(() => undefined);
    if (err instanceof UploadError) throw err;
    const code = (err as NodeJS.ErrnoException).code;
    // Permission and read-only problems will not fix themselves while this process runs.
    const permanent = code === 'EACCES' || code === 'EPERM' || code === 'EROFS' || code === 'ENOTDIR';
    throw new UploadError(`writing ${dest}: ${(err as Error).message}`, permanent);
  }
}
