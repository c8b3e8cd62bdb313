/**
 * `LEAK_AGENT_REDACT`: what is removed from a heap snapshot before it leaves the machine.
 *
 *   strings (default)  every string's contents, RegExp sources and function names that are not
 *                      code identifiers (see analysis/redact.ts for what is kept); the graph, the
 *                      sizes, constructor and function names stay, so `leak-agent analyze` and the
 *                      report name the same suspects and retainer paths
 *   all                every string, names included (the graph and sizes only)
 *   off                the snapshot as written
 *
 * Why `strings` is the default for every upload target: a snapshot holds whatever the process
 * held — the environment's credentials, tokens, request bodies, personal data — and an upload
 * target (a bucket, a collector, a mounted volume) is read by more people and kept longer than the
 * process's own 0700 directory. What the analysis needs from a snapshot is its shape and its names,
 * which `strings` keeps; what it removes is what would make a leaked copy a breach. The local
 * evidence in LEAK_AGENT_DIR is never changed: it is private to the process user and is what an
 * engineer on the machine reads when they need the contents.
 *
 * The redaction runs in a child process (the package's own `redact`), so that parsing a snapshot of
 * hundreds of MB never grows the host's heap or blocks its event loop; the child runs at the lowest
 * CPU priority, is the first the kernel's OOM killer picks (oom_score_adj 1000), never keeps the host
 * alive and dies with it. A snapshot that cannot be redacted is never sent as it is.
 */
import { spawn } from 'node:child_process';
import { promises as fsp } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { RedactMode } from '../config/upload-env';
import { NoRoomError, RESERVE_BYTES } from './compress';
import { UploadError } from './sinks/types';

export type { RedactMode } from '../config/upload-env';

/** Heap snapshots are what carries the heap's contents; profiles and series hold code locations and numbers. */
export function needsRedaction(kind: string, source: string, mode: RedactMode): boolean {
  return mode !== 'off' && (kind === 'heapsnapshot' || /\.heapsnapshot(\.gz)?$/.test(source));
}

/** Upper bound on one redaction: a snapshot of several GB parses at tens of MB/s even on a busy machine. */
function timeoutFor(bytes: number): number {
  return 10 * 60_000 + Math.ceil(bytes / (1024 * 1024)) * 1_000;
}

/**
 * Writes the redacted copy of `source` to `dest` (mode 0600, like the spool) through a child
 * process. Rejects with NoRoomError when the disk cannot hold the copy (retry later) or with a
 * permanent UploadError when the snapshot cannot be redacted (never shipped unredacted).
 */
export async function redactToFile(source: string, dest: string, mode: Exclude<RedactMode, 'off'>, sourceBytes: number): Promise<void> {
  await ensureRoom(dest, sourceBytes);
  const result = `${dest}.result`;
  await fsp.rm(result, { force: true });
  const args = [path.join(__dirname, 'redact-child.js'), source, dest, mode, result];
  const child = spawn(process.execPath, args, { stdio: 'ignore', env: { PATH: process.env.PATH ?? '' } });
  child.unref(); // never keeps the host alive
  const killWithHost = (): void => {
    child.kill('SIGKILL');
  };
  process.once('exit', killWithHost);
  if (child.pid !== undefined) {
    try {
      os.setPriority(child.pid, 19);
    } catch { /* not permitted here: it still runs */ }
    await fsp.writeFile(`/proc/${child.pid}/oom_score_adj`, '1000').catch(() => undefined);
  }
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutFor(sourceBytes));
  timer.unref();
  const exit = await new Promise<{ code: number | null; signal: NodeJS.Signals | null; error?: Error }>((resolve) => {
    child.once('error', (error) => resolve({ code: null, signal: null, error }));
    child.once('exit', (code, signal) => resolve({ code, signal }));
  });
  clearTimeout(timer);
  process.removeListener('exit', killWithHost);
  const said = await fsp.readFile(result, 'utf8').then((t) => JSON.parse(t) as { ok: boolean; message?: string }).catch(() => undefined);
  await fsp.rm(result, { force: true });
  if (exit.code === 0 && said?.ok) return;
  await fsp.rm(dest, { force: true });
  const why = said?.message ?? exit.error?.message ?? (exit.signal ? `the redaction process was killed (${exit.signal})` : `the redaction process exited with ${exit.code}`);
  // A failure of the machine (killed, no room) may pass; a snapshot that does not parse will not.
  const permanent = exit.code === 2;
  throw new UploadError(`cannot redact ${source} (LEAK_AGENT_REDACT=${mode}): ${why}; it is not uploaded unredacted (LEAK_AGENT_REDACT=off ships snapshots as written)`, permanent);
}

async function ensureRoom(dest: string, sourceBytes: number): Promise<void> {
  let free: number;
  try {
    const s = await fsp.statfs(path.dirname(dest));
    free = s.bavail * s.bsize;
  } catch {
    return;
  }
  const need = sourceBytes + RESERVE_BYTES;
  if (free < need) throw new NoRoomError(`only ${free} bytes free where the spool lives; the redacted copy needs about ${need}`);
}
