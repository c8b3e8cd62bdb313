/**
 * Upload settings from the environment, read once at start with the same rule as the rest of the
 * configuration: a bad value is one `ConfigProblem` (→ one clear `agent.error` line) and the safe
 * default is kept. Pure.
 */
import type { ConfigProblem } from '../config/env';
import { formatDuration, parseDuration } from '../config/duration';
import { parseUploadHeaders, parseUploadTarget, type UploadTarget } from './target';

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
  /** Bytes per second read for compression and sent per upload; 0 = no limit (see throttle.ts). */
  readonly maxBytesPerSec: number;
}

/** S3 refuses parts under 5 MiB (except the last); lib-storage enforces it too. */
export const MIN_PART_SIZE = 5 * 1024 * 1024;

export const DEFAULT_UPLOAD_OPTIONS: UploadOptions = Object.freeze({
  requested: false,
  target: undefined,
  headers: Object.freeze({}),
  partSizeBytes: 16 * 1024 * 1024,
  spoolMaxFiles: 256,
  spoolMaxBytes: 8 * 1024 * 1024 * 1024,
  idleTimeoutMs: 60_000,
  retryBaseMs: 1_000,
  retryMaxMs: 5 * 60_000,
  maxBytesPerSec: 32 * 1024 * 1024,
});

const SIZE_UNIT: Record<string, number> = { '': 1, b: 1, k: 1024, kb: 1024, kib: 1024, m: 1024 ** 2, mb: 1024 ** 2, mib: 1024 ** 2, g: 1024 ** 3, gb: 1024 ** 3, gib: 1024 ** 3 };

/** `16MiB`, `512k`, `2g`, `1048576` → bytes (binary units). */
export function parseByteSize(text: string): number | undefined {
  const m = /^\s*(\d+(?:\.\d+)?)\s*([a-z]*)\s*$/i.exec(text);
  if (!m) return undefined;
  const unit = SIZE_UNIT[(m[2] ?? '').toLowerCase()];
  if (unit === undefined) return undefined;
  const n = Math.floor(Number(m[1]) * unit);
  return Number.isSafeInteger(n) && n > 0 ? n : undefined;
}

type Env = Record<string, string | undefined>;

export function readUploadOptions(env: Env): { options: UploadOptions; upload: string | undefined; problems: ConfigProblem[] } {
  const problems: ConfigProblem[] = [];
  const d = DEFAULT_UPLOAD_OPTIONS;
  const set = (v: string): boolean => env[v] !== undefined && (env[v] as string).trim() !== '';

  let target: UploadTarget | undefined;
  let upload: string | undefined;
  if (set('LEAK_AGENT_UPLOAD')) {
    const parsed = parseUploadTarget(env.LEAK_AGENT_UPLOAD as string);
    if (parsed.ok) {
      target = parsed.value;
      upload = (env.LEAK_AGENT_UPLOAD as string).trim();
    } else {
      problems.push({
        variable: 'LEAK_AGENT_UPLOAD', value: String(env.LEAK_AGENT_UPLOAD),
        expected: `${parsed.expected} (${parsed.problem})`,
        using: 'no upload; evidence is kept in the spool under LEAK_AGENT_DIR until a valid target is configured',
      });
    }
  }

  let headers: Record<string, string> = {};
  if (set('LEAK_AGENT_UPLOAD_HEADERS')) {
    const parsed = parseUploadHeaders(env.LEAK_AGENT_UPLOAD_HEADERS as string);
    if (parsed.ok) headers = parsed.value;
    // Never echo the value: it usually carries a credential.
    else problems.push({ variable: 'LEAK_AGENT_UPLOAD_HEADERS', value: '(hidden)', expected: `${parsed.expected} (${parsed.problem})`, using: 'no extra headers' });
  }

  const size = (variable: string, fallback: number, min: number, what: string): number => {
    if (!set(variable)) return fallback;
    const n = parseByteSize(env[variable] as string);
    if (n === undefined || n < min) {
      problems.push({ variable, value: String(env[variable]), expected: `${what} of at least ${min} bytes, e.g. 16MiB`, using: String(fallback) });
      return fallback;
    }
    return n;
  };
  const count = (variable: string, fallback: number): number => {
    if (!set(variable)) return fallback;
    const n = Number((env[variable] as string).trim());
    if (!Number.isSafeInteger(n) || n < 1) {
      problems.push({ variable, value: String(env[variable]), expected: 'a whole number of at least 1', using: String(fallback) });
      return fallback;
    }
    return n;
  };
  const duration = (variable: string, fallback: number): number => {
    if (!set(variable)) return fallback;
    const ms = parseDuration(env[variable] as string);
    if (ms === undefined) {
      problems.push({ variable, value: String(env[variable]), expected: 'a duration such as 500ms, 30s or 5m', using: formatDuration(fallback) });
      return fallback;
    }
    return ms;
  };

  const retryBaseMs = duration('LEAK_AGENT_UPLOAD_RETRY_BASE', d.retryBaseMs);
  let retryMaxMs = duration('LEAK_AGENT_UPLOAD_RETRY_MAX', d.retryMaxMs);
  if (retryMaxMs < retryBaseMs) retryMaxMs = retryBaseMs;

  let maxBytesPerSec = d.maxBytesPerSec;
  if (set('LEAK_AGENT_UPLOAD_MAX_RATE')) {
    const raw = (env.LEAK_AGENT_UPLOAD_MAX_RATE as string).trim().toLowerCase();
    const n = raw === '0' || raw === 'off' || raw === 'unlimited' ? 0 : parseByteSize(raw.replace(/\/s$/, ''));
    if (n === undefined) {
      problems.push({ variable: 'LEAK_AGENT_UPLOAD_MAX_RATE', value: String(env.LEAK_AGENT_UPLOAD_MAX_RATE), expected: 'bytes per second such as 32MiB, 100m, or off', using: String(d.maxBytesPerSec) });
    } else maxBytesPerSec = n;
  }

  const options: UploadOptions = Object.freeze({
    requested: set('LEAK_AGENT_UPLOAD'),
    target: target ? Object.freeze(target) : undefined,
    headers: Object.freeze(headers),
    partSizeBytes: size('LEAK_AGENT_UPLOAD_PART_SIZE', d.partSizeBytes, MIN_PART_SIZE, 'a part size'),
    spoolMaxFiles: count('LEAK_AGENT_UPLOAD_SPOOL_MAX_FILES', d.spoolMaxFiles),
    spoolMaxBytes: size('LEAK_AGENT_UPLOAD_SPOOL_MAX_BYTES', d.spoolMaxBytes, 1, 'a size'),
    idleTimeoutMs: duration('LEAK_AGENT_UPLOAD_TIMEOUT', d.idleTimeoutMs),
    retryBaseMs,
    retryMaxMs,
    maxBytesPerSec,
  });
  return { options, upload, problems };
}
