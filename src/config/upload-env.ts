/**
 * Upload settings (LEAK_AGENT_UPLOAD and LEAK_AGENT_UPLOAD_*), read with the same readers and the
 * same problem convention as every other setting (read.ts, problems.ts). Pure.
 */
import { parseUploadHeaders, parseUploadTarget, type UploadTarget } from '../upload/target';
import { EnvReader } from './read';
import type { Env, ProblemSink } from './problems';

export interface UploadOptions {
  /** LEAK_AGENT_UPLOAD was set (even to a bad value): evidence is spooled so a fixed config ships it later. */
  readonly requested: boolean;
  readonly target: UploadTarget | undefined;
  readonly headers: Readonly<Record<string, string>>;
  /** Objects whose compressed size exceeds this go up as S3 multipart, in parts of this size. */
  readonly partSizeBytes: number;
  readonly spoolMaxFiles: number;
  readonly spoolMaxBytes: number;
  /** A request that sends or receives nothing for this long is abandoned and retried. */
  readonly idleTimeoutMs: number;
  readonly retryBaseMs: number;
  readonly retryMaxMs: number;
  /** Bytes per second read for compression and sent per upload; 0 = no limit (see src/upload/throttle.ts). */
  readonly maxBytesPerSec: number;
  /** LEAK_AGENT_REDACT: what is removed from heap snapshots before they leave the machine (src/upload/redaction.ts). */
  readonly redact: RedactMode;
}

export type RedactMode = 'off' | 'strings' | 'all';
export const REDACT_MODES: readonly RedactMode[] = ['off', 'strings', 'all'];

const MiB = 2 ** 20;
const GiB = 2 ** 30;

/** S3 refuses parts under 5 MiB (except the last) and over 5 GiB; lib-storage enforces it too. */
export const MIN_PART_SIZE = 5 * MiB;
export const MAX_PART_SIZE = 5 * GiB;

export const DEFAULT_UPLOAD_OPTIONS: UploadOptions = Object.freeze({
  requested: false,
  target: undefined,
  headers: Object.freeze({}),
  partSizeBytes: 16 * MiB,
  spoolMaxFiles: 256,
  spoolMaxBytes: 8 * GiB,
  idleTimeoutMs: 60_000,
  retryBaseMs: 1_000,
  retryMaxMs: 5 * 60_000,
  maxBytesPerSec: 32 * MiB,
  // Why strings for every target: src/upload/redaction.ts.
  redact: 'strings',
});

export function readUploadConfig(env: Env, problem: ProblemSink): { options: UploadOptions; upload: string | undefined } {
  const d = DEFAULT_UPLOAD_OPTIONS;
  const r = new EnvReader(env, problem);
  const spooling = 'no upload; evidence is kept in the spool under LEAK_AGENT_DIR until a valid target is configured';

  let target: UploadTarget | undefined;
  let upload: string | undefined;
  const rawUpload = r.text('LEAK_AGENT_UPLOAD', 'an upload URL', spooling);
  if (rawUpload !== undefined) {
    const parsed = parseUploadTarget(rawUpload);
    if (parsed.ok) {
      target = parsed.value;
      upload = rawUpload;
    } else problem('LEAK_AGENT_UPLOAD', `${parsed.expected} (${parsed.problem})`, spooling);
  }

  let headers: Record<string, string> = {};
  const rawHeaders = r.raw('LEAK_AGENT_UPLOAD_HEADERS');
  if (rawHeaders !== undefined) {
    const parsed = parseUploadHeaders(rawHeaders);
    if (parsed.ok) headers = parsed.value;
    else problem('LEAK_AGENT_UPLOAD_HEADERS', `${parsed.expected} (${parsed.problem})`, 'no extra headers');
  }

  const retryBaseMs = r.duration('LEAK_AGENT_UPLOAD_RETRY_BASE', { min: 100, max: 3_600_000, fallback: d.retryBaseMs });
  let retryMaxMs = r.duration('LEAK_AGENT_UPLOAD_RETRY_MAX', { min: 100, max: 86_400_000, fallback: d.retryMaxMs });
  if (retryMaxMs < retryBaseMs) retryMaxMs = retryBaseMs;

  let maxBytesPerSec = d.maxBytesPerSec;
  const rawRate = r.raw('LEAK_AGENT_UPLOAD_MAX_RATE')?.toLowerCase();
  if (rawRate === 'off' || rawRate === 'unlimited') maxBytesPerSec = 0;
  else if (rawRate !== undefined) {
    maxBytesPerSec = r.bytes('LEAK_AGENT_UPLOAD_MAX_RATE', { min: 0, max: 64 * GiB, fallback: d.maxBytesPerSec }, 'bytes per second (or off)', (v) => v.replace(/\/s$/i, ''));
  }

  const options: UploadOptions = Object.freeze({
    requested: rawUpload !== undefined || r.raw('LEAK_AGENT_UPLOAD') !== undefined,
    target: target ? Object.freeze(target) : undefined,
    headers: Object.freeze(headers),
    partSizeBytes: r.bytes('LEAK_AGENT_UPLOAD_PART_SIZE', { min: MIN_PART_SIZE, max: MAX_PART_SIZE, fallback: d.partSizeBytes }, 'a part size'),
    spoolMaxFiles: r.count('LEAK_AGENT_UPLOAD_SPOOL_MAX_FILES', { min: 1, max: 100_000, fallback: d.spoolMaxFiles }),
    spoolMaxBytes: r.bytes('LEAK_AGENT_UPLOAD_SPOOL_MAX_BYTES', { min: MiB, max: 2 ** 40, fallback: d.spoolMaxBytes }),
    idleTimeoutMs: r.duration('LEAK_AGENT_UPLOAD_TIMEOUT', { min: 1_000, max: 3_600_000, fallback: d.idleTimeoutMs }),
    retryBaseMs,
    retryMaxMs,
    maxBytesPerSec,
    redact: r.choice('LEAK_AGENT_REDACT', REDACT_MODES, d.redact),
  });
  return { options, upload };
}
