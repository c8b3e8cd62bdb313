/**
 * How evidence reaches disk: private (files 0600 in 0700 directories, since heap contents include
 * secrets, tokens and personal data), complete or absent (temporary name, fsync, rename, fsync of
 * the directory), and never half-written (any failure removes the temporary file).
 */
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { threadId } from 'node:worker_threads';

/** Creates `dir` (and missing parents) with mode 0700 and tightens an existing one we own to 0700. */
export function ensurePrivateDir(dir: string): void {
  // One level at a time rather than { recursive: true }: Node's recursive mkdir reports ENOENT for a
  // read-only or forbidden parent, where the operator needs to read EROFS or EACCES.
  const missing: string[] = [];
  for (let d = path.resolve(dir); !fs.existsSync(d); d = path.dirname(d)) {
    missing.unshift(d);
    if (path.dirname(d) === d) break;
  }
  for (const d of missing) {
    try {
      fs.mkdirSync(d, { mode: 0o700 });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
  }
  const st = fs.statSync(dir);
  if ((st.mode & 0o077) !== 0 && typeof process.getuid === 'function' && st.uid === process.getuid()) fs.chmodSync(dir, 0o700);
}

let tempCounter = 0;
/** A temporary name beside the final one: same directory (so rename is atomic), hidden, unique per process, thread and call. */
export function tempNameFor(finalPath: string): string {
  tempCounter += 1;
  return path.join(path.dirname(finalPath), `.${path.basename(finalPath)}.${process.pid}.${threadId}.${Date.now()}.${tempCounter}.tmp`);
}

export function fsyncPath(file: string): void {
  const fd = fs.openSync(file, 'r');
  try {
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
}

/** Makes a rename durable: some file systems lose it on a crash unless the directory is synced. */
export function fsyncDir(dir: string): void {
  try {
    fsyncPath(dir);
  } catch {
    /* not supported on every file system; the data itself is already synced */
  }
}

export function removeQuietly(file: string): void {
  try {
    fs.unlinkSync(file);
  } catch {
    /* already gone */
  }
}

/**
 * Moves a complete temporary file into place: fsync, chmod 0600, rename, fsync of the directory.
 * On failure the temporary file is removed and the error rethrown.
 */
export function commitTempFile(tmp: string, finalPath: string): void {
  try {
    fsyncPath(tmp);
    fs.chmodSync(tmp, 0o600);
    fs.renameSync(tmp, finalPath);
  } catch (err) {
    removeQuietly(tmp);
    throw err;
  }
  fsyncDir(path.dirname(finalPath));
}

/** Writes small evidence (profiles, manifests) atomically with mode 0600. */
export function writeFileAtomic(finalPath: string, data: string | Uint8Array): void {
  const tmp = tempNameFor(finalPath);
  try {
    fs.writeFileSync(tmp, data, { mode: 0o600, flag: 'wx' });
  } catch (err) {
    removeQuietly(tmp);
    throw err;
  }
  commitTempFile(tmp, finalPath);
}

/** sha256 of a file, streamed so a large snapshot is never held in memory and the loop is not blocked. */
export function sha256File(file: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const hash = createHash('sha256');
    fs.createReadStream(file, { highWaterMark: 1 << 20 })
      .on('data', (chunk) => hash.update(chunk))
      .on('error', reject)
      .on('end', () => resolve(hash.digest('hex')));
  });
}

export function sha256Of(data: string | Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}
