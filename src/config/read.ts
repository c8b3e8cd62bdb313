/**
 * Typed readers for environment values, shared by every configuration module so each kind of
 * setting is parsed one way, bounded, and reported one way (problems.ts).
 *
 * Every duration, size and count has a lower and an upper bound: a value outside them is a
 * problem, never silently clamped, and never a number so large that a setting is off in effect
 * (a window of 8.64e27 ms would turn detection off without a word).
 */
import { formatBytes, parseBytes } from './bytes';
import { formatDuration, parseDuration } from './duration';
import type { Env, ProblemSink } from './problems';

export interface Bounds {
  min: number;
  max: number;
  fallback: number;
}

/** Characters no setting may contain: C0 controls (other than surrounding whitespace, which is trimmed) and DEL. */
const CONTROL = /[\u0000-\u001f\u007f]/;

export class EnvReader {
  constructor(private readonly env: Env, readonly problem: ProblemSink) {}

  /** The trimmed value, or undefined when unset or blank. */
  raw(name: string): string | undefined {
    const v = this.env[name];
    return v === undefined || v.trim() === '' ? undefined : v.trim();
  }

  /** The trimmed value, refusing control characters (reported once; undefined then). */
  text(name: string, expected: string, using: string): string | undefined {
    const v = this.raw(name);
    if (v !== undefined && CONTROL.test(v)) {
      this.problem(name, `${expected} (without control characters)`, using);
      return undefined;
    }
    return v;
  }

  /** `true`/`false` words; anything else is a problem. */
  flag(name: string, truthy: readonly string[], falsy: readonly string[], fallback: boolean): boolean {
    const v = this.raw(name)?.toLowerCase();
    if (v === undefined) return fallback;
    if (truthy.includes(v)) return true;
    if (falsy.includes(v)) return false;
    this.problem(name, `one of ${[...truthy, ...falsy].join(', ')}`, String(fallback ? truthy[0] : falsy[0]));
    return fallback;
  }

  /** One of a fixed set of words (case-insensitive). */
  choice<T extends string>(name: string, allowed: readonly T[], fallback: T, aliases: Record<string, T> = {}): T {
    const v = this.raw(name)?.toLowerCase();
    if (v === undefined) return fallback;
    if ((allowed as readonly string[]).includes(v)) return v as T;
    if (v in aliases) return aliases[v] as T;
    this.problem(name, allowed.length === 2 ? `${allowed[0]} or ${allowed[1]}` : `one of ${allowed.join(', ')}`, fallback);
    return fallback;
  }

  /** A duration (`500ms`, `90s`, `30m`, `6h`, `1d`; a bare number is seconds); `0` only when min is 0. */
  duration(name: string, b: Bounds): number {
    const v = this.raw(name);
    if (v === undefined) return b.fallback;
    const ms = b.min === 0 && /^0+(ms|s|m|h|d)?$/i.test(v) ? 0 : parseDuration(v);
    if (ms === undefined || ms < b.min || ms > b.max) {
      this.problem(name, `a duration from ${formatDuration(b.min)} to ${formatDuration(b.max)}, such as 90s, 30m or 6h`, formatDuration(b.fallback));
      return b.fallback;
    }
    return ms;
  }

  /** Whole milliseconds, as the OTEL_* variables are written. */
  millis(name: string, b: Bounds): number {
    const v = this.raw(name);
    if (v === undefined) return b.fallback;
    const n = /^\d{1,12}$/.test(v) ? Number(v) : NaN;
    if (!(n >= b.min && n <= b.max)) {
      this.problem(name, `a whole number of milliseconds from ${b.min} to ${b.max}`, String(b.fallback));
      return b.fallback;
    }
    return n;
  }

  /** A size (bytes.ts: `512KiB`, `64MB` = 64·10^6, `64MiB` = 64·2^20, a bare number is bytes); `0` only when min is 0. */
  bytes(name: string, b: Bounds, what = 'a size', normalize: (v: string) => string = (v) => v): number {
    const raw = this.raw(name);
    if (raw === undefined) return b.fallback;
    const v = normalize(raw);
    const n = b.min === 0 && /^0+[a-z]*$/i.test(v) ? 0 : parseBytes(v);
    if (n === undefined || n < b.min || n > b.max) {
      this.problem(name, `${what} from ${formatBytes(b.min)} to ${formatBytes(b.max)}, such as 512KiB, 64MiB or 2GiB (MB = 10^6 bytes, MiB = 2^20)`, formatBytes(b.fallback));
      return b.fallback;
    }
    return n;
  }

  /** A whole number. */
  count(name: string, b: Bounds): number {
    const v = this.raw(name);
    if (v === undefined) return b.fallback;
    const n = /^\d{1,12}$/.test(v) ? Number(v) : NaN;
    if (!(n >= b.min && n <= b.max)) {
      this.problem(name, `a whole number from ${b.min} to ${b.max}`, String(b.fallback));
      return b.fallback;
    }
    return n;
  }
}
