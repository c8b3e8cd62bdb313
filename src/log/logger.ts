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

export type LogFields = Record<string, unknown>;

export interface AgentLogger {
  log(event: string, fields?: LogFields): void;
  close(): void;
}

/** JSON.stringify that survives bigint, cycles and Error objects. */
export function toJsonLine(event: string, fields: LogFields = {}): string {
  const seen = new WeakSet<object>();
  return JSON.stringify({ event, time: new Date().toISOString(), ...fields }, (_key, value: unknown) => {
    if (typeof value === 'bigint') return value.toString();
    if (value instanceof Error) return { name: value.name, message: value.message };
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
  else {
    try {
      fs.mkdirSync(path.dirname(target.path), { recursive: true });
      fd = fs.openSync(target.path, 'a', 0o600);
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

function writeLine(fd: number, line: string): boolean {
  try {
    fs.writeSync(fd, line + '\n');
    return true;
  } catch {
    return false;
  }
}
