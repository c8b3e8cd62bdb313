/**
 * The agent log: one JSON object per line, each with `event` and `time` (ISO 8601).
 *
 * Writes are synchronous and small on purpose: an alert line must reach the log even when the
 * process dies right after (the near-OOM case), and lines are rare (start, alerts, evidence).
 * A failing destination never throws into the host: the line falls back to stderr once.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { LogTarget } from '../config/env';
import { redactSecrets } from './redact-secrets';

export type LogFields = Record<string, unknown>;

export interface AgentLogger {
  log(event: string, fields?: LogFields): void;
  close(): void;
}

/** JSON.stringify that survives bigint, cycles and Error objects, and redacts every string (redact-secrets.ts). */
export function toJsonLine(event: string, fields: LogFields = {}): string {
  const seen = new WeakSet<object>();
  return JSON.stringify({ event, time: new Date().toISOString(), ...fields }, (_key, value: unknown) => {
    if (typeof value === 'string') return redactSecrets(value);
    if (typeof value === 'bigint') return value.toString();
    if (value instanceof Error) return { name: value.name, message: redactSecrets(value.message) };
    if (typeof value === 'number' && !Number.isFinite(value)) return null;
    if (value !== null && typeof value === 'object') {
      if (seen.has(value)) return '[circular]';
      seen.add(value);
    }
    return value;
  });
}

export function createLogger(target: LogTarget): AgentLogger {
  let fd: number;
  let ownsFd = false;
  if (target.kind === 'stdout') fd = 1;
  else if (target.kind === 'stderr') fd = 2;
  else if (target.path === '/dev/stdout') fd = 1;
  else if (target.path === '/dev/stderr') fd = 2;
  else {
    try {
      fd = openLogFile(target.path);
      ownsFd = true;
    } catch (err) {
      fd = 2;
      writeLine(2, toJsonLine('agent.error', {
        where: 'log', message: `cannot open LEAK_AGENT_LOG file ${target.path}: ${(err as Error).message}; logging to stderr`,
      }));
    }
  }
  let failed = false;
  return {
    log(event, fields) {
      const line = toJsonLine(event, fields);
      if (!writeLine(fd, line) && !failed && fd !== 2) {
        failed = true;
        fd = 2;
        writeLine(2, toJsonLine('agent.error', { where: 'log', message: 'log destination failed; logging to stderr' }));
        writeLine(2, line);
      }
    },
    close() {
      if (ownsFd) {
        try { fs.closeSync(fd); } catch { /* already closed */ }
        ownsFd = false;
        fd = 2;
      }
    },
  };
}

const { O_WRONLY, O_APPEND, O_CREAT, O_NOFOLLOW, O_NONBLOCK } = fs.constants;

/**
 * Opens the log file for appending, safely for a process that often runs as root:
 * - missing parent folders are created 0755 whatever the umask (a log folder is usually read by a
 *   log shipper; what protects the lines is the file's own mode);
 * - a new file is created 0600; an existing file keeps its mode (an operator's 0644 stays 0644);
 * - a symbolic link as the log path is refused (O_NOFOLLOW), and so is anything but a regular file
 *   of this process's user (O_NONBLOCK keeps a FIFO from blocking the open).
 */
function openLogFile(file: string): number {
  const abs = path.resolve(file);
  mkdirParents(path.dirname(abs));
  let fd: number;
  try {
    fd = fs.openSync(abs, O_WRONLY | O_APPEND | O_CREAT | O_NOFOLLOW | O_NONBLOCK, 0o600);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ELOOP') throw new Error('it is a symbolic link; the agent does not follow links (set LEAK_AGENT_LOG to the real file)');
    throw err;
  }
  try {
    const st = fs.fstatSync(fd);
    if (!st.isFile()) throw new Error('it is not a regular file');
    const me = typeof process.geteuid === 'function' ? process.geteuid() : undefined;
    if (me !== undefined && st.uid !== me) throw new Error(`it is owned by uid ${st.uid}, but the agent runs as uid ${me}`);
  } catch (err) {
    fs.closeSync(fd);
    throw err;
  }
  return fd;
}

function mkdirParents(dir: string): void {
  const missing: string[] = [];
  for (let d = dir; !fs.existsSync(d); d = path.dirname(d)) {
    missing.unshift(d);
    if (path.dirname(d) === d) break;
  }
  for (const d of missing) {
    try {
      fs.mkdirSync(d, { mode: 0o755 });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'EEXIST') continue;
      throw err;
    }
    fs.chmodSync(d, 0o755); // ours, just made: exactly 0755 under umask 000 too
  }
}

function writeLine(fd: number, line: string): boolean {
  try {
    fs.writeSync(fd, line + '\n');
    return true;
  } catch {
    return false;
  }
}
