/**
 * One lock file per spool entry so that two processes sharing a directory (a restarted pod whose
 * predecessor is still draining, two workers of a cluster) never upload the same entry at once.
 *
 * The lock holds {pid, token, host}. It is stale when its pid is dead on this host, or when it
 * carries our own pid with another token — in a container the restarted process often gets the
 * very same pid as the one that was killed. A lock from another host (shared volume) cannot be
 * checked for liveness and is respected until it is an hour old.
 */
import { promises as fsp } from 'node:fs';
import * as os from 'node:os';
import { randomBytes } from 'node:crypto';
import { CREATE_EXCLUSIVE } from '../evidence/safe-fs';

const FOREIGN_LOCK_STALE_MS = 60 * 60_000;
/** Unique to this process: distinguishes us from a dead predecessor that had the same pid. */
const TOKEN = randomBytes(8).toString('hex');

interface LockBody {
  pid: number;
  token: string;
  host: string;
}

export type LockResult = { acquired: true } | { acquired: false; holder: string };

export async function acquireLock(file: string): Promise<LockResult> {
  const body: LockBody = { pid: process.pid, token: TOKEN, host: os.hostname() };
  for (let tries = 0; tries < 2; tries += 1) {
    try {
      await fsp.writeFile(file, JSON.stringify(body), { flag: CREATE_EXCLUSIVE, mode: 0o600 });
      return { acquired: true };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    const state = await inspect(file);
    if (state.kind === 'ours') return { acquired: true };
    if (state.kind === 'held') return { acquired: false, holder: state.holder };
    // Stale: remove and try once more (another process may win that race, which is fine).
    await fsp.rm(file, { force: true });
  }
  return { acquired: false, holder: 'another process (lock contended)' };
}

export async function releaseLock(file: string): Promise<void> {
  const state = await inspect(file).catch(() => undefined);
  if (state?.kind === 'ours' || state?.kind === 'stale') await fsp.rm(file, { force: true });
}

type LockState = { kind: 'ours' } | { kind: 'held'; holder: string } | { kind: 'stale' } | { kind: 'none' };

async function inspect(file: string): Promise<LockState> {
  let text: string;
  let mtimeMs: number;
  try {
    text = await fsp.readFile(file, 'utf8');
    mtimeMs = (await fsp.stat(file)).mtimeMs;
  } catch {
    return { kind: 'none' };
  }
  let body: Partial<LockBody>;
  try {
    body = JSON.parse(text) as Partial<LockBody>;
  } catch {
    // A lock cut short by a crash between create and write.
    return Date.now() - mtimeMs > 10_000 ? { kind: 'stale' } : { kind: 'held', holder: 'a process writing its lock' };
  }
  if (typeof body.pid !== 'number') return { kind: 'stale' };
  if (body.host !== undefined && body.host !== os.hostname()) {
    return Date.now() - mtimeMs > FOREIGN_LOCK_STALE_MS ? { kind: 'stale' } : { kind: 'held', holder: `pid ${body.pid} on ${body.host}` };
  }
  if (body.pid === process.pid) return body.token === TOKEN ? { kind: 'ours' } : { kind: 'stale' };
  return (await isAlive(body.pid)) ? { kind: 'held', holder: `pid ${body.pid}` } : { kind: 'stale' };
}

async function isAlive(pid: number): Promise<boolean> {
  try {
    process.kill(pid, 0);
  } catch (err) {
    // EPERM: it exists but belongs to someone else — alive.
    if ((err as NodeJS.ErrnoException).code !== 'EPERM') return false;
  }
  // A killed process whose parent has not reaped it yet still answers signal 0: a zombie is dead.
  try {
    const stat = await fsp.readFile(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return true; // no /proc (not Linux): trust the signal
  }
}
