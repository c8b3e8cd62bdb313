/**
 * How evidence reaches disk: private (files 0600 in 0700 directories, since heap contents include
 * secrets, tokens and personal data), complete or absent (temporary name, fsync, rename, fsync of
 * the directory), never half-written (any failure removes the temporary file), and never through a
 * link or into a directory another user controls (safe-fs.ts).
 */
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { threadId } from 'node:worker_threads';
import { CREATE_EXCLUSIVE, READ_NOFOLLOW, ensureTreeDir } from './safe-fs';

/**
 * Creates `dir` (each missing level 0700) inside the agent's tree rooted at `root` and checks every
 * level from the root down (safe-fs.ts): an existing directory is used only if it is a real
 * directory of this user that others cannot write, and is never chmod'ed. Without `root`, the root
 * is read from the tree's layout: `<root>/episodes/<id>`, `<root>/on-demand`, `<root>/spool`.
 */
export function ensurePrivateDir(dir: string, root: string = layoutRoot(dir)): void {
  ensureTreeDir(root, dir);
}

function layoutRoot(dir: string): string {
  const abs = path.resolve(dir);
  const parent = path.dirname(abs);
  if (path.basename(parent) === 'episodes') return path.dirname(parent);
  if (['on-demand', 'spool', 'episodes'].includes(path.basename(abs))) return parent;
  return abs;
}

let tempCounter = 0;
/** A temporary name beside the final one: same directory (so rename is atomic), hidden, unique per process, thread and call. */
export function tempNameFor(finalPath: string): string {
  tempCounter += 1;
  return path.join(path.dirname(finalPath), `.${path.basename(finalPath)}.${process.pid}.${threadId}.${Date.now()}.${tempCounter}.tmp`);
}

export function fsyncPath(file: string): void {
  const fd = fs.openSync(file, READ_NOFOLLOW);
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
 * Moves a complete temporary file into place: fsync, mode 0600, rename, fsync of the directory.
 * The temporary file is one the agent has just written (V8 creates a snapshot's with the umask's
 * mode): its mode is set through the open descriptor, never through a path that could be a link.
 * On failure the temporary file is removed and the error rethrown.
 */
export function commitTempFile(tmp: string, finalPath: string): void {
  try {
    const fd = fs.openSync(tmp, READ_NOFOLLOW);
    try {
      if (!fs.fstatSync(fd).isFile()) throw new Error(`${tmp} is not a regular file`);
      fs.fchmodSync(fd, 0o600);
      fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
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
    fs.writeFileSync(tmp, data, { mode: 0o600, flag: CREATE_EXCLUSIVE as unknown as string });
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
    fs.createReadStream(file, { highWaterMark: 1 << 20, flags: READ_NOFOLLOW as unknown as string })
      .on('data', (chunk) => hash.update(chunk))
      .on('error', reject)
      .on('end', () => resolve(hash.digest('hex')));
  });
}

export function sha256Of(data: string | Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}
