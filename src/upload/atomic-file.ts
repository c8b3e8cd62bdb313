/**
 * Crash-safe small-file writes: temp file → fsync → rename → fsync of the directory. After a
 * power cut or SIGKILL the file is either the old version or the new one, never half of each.
 */
import { promises as fsp } from 'node:fs';
import { randomBytes } from 'node:crypto';
import * as path from 'node:path';
import { CREATE_EXCLUSIVE } from '../evidence/safe-fs';

export async function writeFileAtomic(file: string, data: string | Uint8Array): Promise<void> {
  const tmp = `${file}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  // A new file (O_EXCL), never through a link (O_NOFOLLOW), private from its first byte.
  const handle = await fsp.open(tmp, CREATE_EXCLUSIVE, 0o600);
  try {
    await handle.writeFile(data);
    await handle.sync();
  } catch (err) {
    await handle.close().catch(() => undefined);
    await fsp.rm(tmp, { force: true });
    throw err;
  }
  await handle.close();
  try {
    await fsp.rename(tmp, file);
  } catch (err) {
    await fsp.rm(tmp, { force: true });
    throw err;
  }
  await syncDir(path.dirname(file));
}

/** Makes a rename or unlink in `dir` durable. Some filesystems refuse fsync on a directory: harmless. */
export async function syncDir(dir: string): Promise<void> {
  let handle: fsp.FileHandle | undefined;
  try {
    handle = await fsp.open(dir, 'r');
    await handle.sync();
  } catch {
    /* not supported here; the rename itself is still atomic */
  } finally {
    await handle?.close().catch(() => undefined);
  }
}
