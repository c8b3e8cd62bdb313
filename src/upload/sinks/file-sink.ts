/**
 * `file:///dir` sink: copies the staged gzip copy to `<dir>/<key>` (temp + fsync + rename), hashing
 * while copying; the copy is confirmed when its MD5 equals the staged one. Useful for a mounted
 * network volume, and as the simplest sink to reason about.
 *
 * The copies hold heap contents, so they are as private as the originals: folders the sink creates
 * are 0700, files 0600, created with O_EXCL | O_NOFOLLOW, and a folder below `<dir>` that is a link
 * or belongs to another user is refused (see evidence/safe-fs.ts). `<dir>` itself is the operator's
 * and is never changed.
 */
import { createReadStream, createWriteStream, promises as fsp } from 'node:fs';
import { createHash, randomBytes } from 'node:crypto';
import * as path from 'node:path';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { CREATE_EXCLUSIVE, READ_NOFOLLOW, UnsafePathError, ensureTreeDir } from '../../evidence/safe-fs';
import { syncDir } from '../atomic-file';
import type { PutRequest, PutResult, Sink } from './types';
import { UploadError } from './types';

export function createFileSink(dir: string, display: string): Sink {
  return { display, put: (req) => put(dir, req) };
}

async function put(dir: string, req: PutRequest): Promise<PutResult> {
  const dest = path.join(dir, ...req.key.split('/'));
  const tmp = `${dest}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  let created = false;
  try {
    ensureTreeDir(dir, path.dirname(dest), { checkRoot: false });
    const md5 = createHash('md5');
    const tap = new Transform({
      transform(chunk: Buffer, _enc, done) {
        md5.update(chunk);
        done(null, chunk);
      },
    });
    const out = createWriteStream(tmp, { flags: CREATE_EXCLUSIVE as unknown as string, mode: 0o600 });
    out.once('open', () => (created = true));
    await pipeline(createReadStream(req.staged.path, { highWaterMark: 256 * 1024 }), tap, out);
    const handle = await fsp.open(tmp, READ_NOFOLLOW);
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
    if (created) await fsp.rm(tmp, { force: true }).catch(() => undefined);
    if (err instanceof UploadError) throw err;
    // A link or a foreign folder in the destination will not go away by retrying.
    if (err instanceof UnsafePathError) throw new UploadError(`writing ${dest}: ${err.message}`, true);
    const code = (err as NodeJS.ErrnoException).code;
    // Permission and read-only problems will not fix themselves while this process runs.
    const permanent = code === 'EACCES' || code === 'EPERM' || code === 'EROFS' || code === 'ENOTDIR' || code === 'ELOOP' || code === 'EEXIST';
    throw new UploadError(`writing ${dest}: ${(err as Error).message}`, permanent);
  }
}
