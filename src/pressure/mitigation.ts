/**
 * Graceful mitigation when health() turns critical (opt-in: LEAK_AGENT_MITIGATE=hook|exit). The
 * decision is pure (decideMitigation); the record of the last mitigation lives in the evidence
 * directory so that a restarted process does not mitigate again right away (a crash loop of
 * controlled restarts would be worse than the leak).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { ensurePrivateDir, writeFileAtomic } from '../evidence/private-files';
import { READ_NOFOLLOW } from '../evidence/safe-fs';

export type MitigationMode = 'off' | 'hook' | 'exit';

/** The exit code of a mitigated process: EX_TEMPFAIL (sysexits.h), "try again later". */
export const MITIGATION_EXIT_CODE = 75;

export const MITIGATION_RECORD = 'mitigation.json';

export interface MitigationConfig {
  readonly mode: MitigationMode;
  /** How long hooks (stop accepting work, let in-flight requests finish) and evidence may take. */
  readonly deadlineMs: number;
  /** At most one mitigation in this interval, across restarts (read from the evidence directory). */
  readonly minIntervalMs: number;
  /** No mitigation before the process has run this long: start-up is never mitigated. */
  readonly startupGraceMs: number;
}

export interface MitigationInput {
  config: MitigationConfig;
  now: number;
  uptimeMs: number;
  /** Epoch ms of the last mitigation recorded in the evidence directory, by any process. */
  lastAt: number | undefined;
  alreadyStarted: boolean;
}

export type MitigationDecision = { act: true } | { act: false; reason: string };

export function decideMitigation(i: MitigationInput): MitigationDecision {
  if (i.config.mode === 'off') return { act: false, reason: 'LEAK_AGENT_MITIGATE is off' };
  if (i.alreadyStarted) return { act: false, reason: 'a mitigation is already under way' };
  if (i.uptimeMs < i.config.startupGraceMs) return { act: false, reason: `the process started ${Math.round(i.uptimeMs / 1000)} s ago; start-up is never mitigated (LEAK_AGENT_MITIGATE_AFTER)` };
  if (i.lastAt !== undefined && i.now - i.lastAt < i.config.minIntervalMs && i.now >= i.lastAt) {
    return { act: false, reason: `the last mitigation was ${Math.round((i.now - i.lastAt) / 1000)} s ago (at most one per LEAK_AGENT_MITIGATE_INTERVAL)` };
  }
  return { act: true };
}

/** The last mitigation's time, or undefined when there is none or the record is unreadable. */
export function readLastMitigation(dir: string): number | undefined {
  try {
    const text = fs.readFileSync(path.join(dir, MITIGATION_RECORD), { encoding: 'utf8', flag: READ_NOFOLLOW as unknown as string });
    const at = (JSON.parse(text) as { at?: unknown }).at;
    return typeof at === 'string' && Number.isFinite(Date.parse(at)) ? Date.parse(at) : undefined;
  } catch {
    return undefined;
  }
}

export function writeMitigationRecord(dir: string, record: { at: number; pid: number; action: MitigationMode; reasons: readonly string[] }): void {
  ensurePrivateDir(dir);
  writeFileAtomic(path.join(dir, MITIGATION_RECORD), JSON.stringify({ ...record, at: new Date(record.at).toISOString() }) + '\n');
}
