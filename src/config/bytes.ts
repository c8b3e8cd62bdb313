/**
 * The one byte-size parser for every setting: `512KiB`, `64MB`, `2GiB`, `1048576`.
 * Decimal units mean powers of ten (kB = 10^3, MB = 10^6, GB = 10^9, TB = 10^12), binary units
 * powers of two (KiB/Ki = 2^10, MiB/Mi = 2^20, GiB/Gi = 2^30, TiB/Ti = 2^40), as SI and IEC say; a
 * single letter (`K`, `M`, `G`, `T`) is read as binary, the way `ulimit` users mean it. A bare
 * number is bytes. Units are case-insensitive.
 */
const UNIT_BYTES: Record<string, number> = {
  b: 1,
  kb: 1e3, mb: 1e6, gb: 1e9, tb: 1e12,
  kib: 2 ** 10, mib: 2 ** 20, gib: 2 ** 30, tib: 2 ** 40,
  ki: 2 ** 10, mi: 2 ** 20, gi: 2 ** 30, ti: 2 ** 40,
  k: 2 ** 10, m: 2 ** 20, g: 2 ** 30, t: 2 ** 40,
};

/** Returns whole bytes, or undefined when the text is not a positive size. */
export function parseBytes(text: string): number | undefined {
  const match = /^\s*(\d{1,16}(?:\.\d{1,6})?)\s*([a-z]*)\s*$/i.exec(text);
  if (!match) return undefined;
  const unit = (match[2] ?? '').toLowerCase() || 'b';
  const factor = UNIT_BYTES[unit];
  if (factor === undefined) return undefined;
  const bytes = Math.round(Number(match[1]) * factor);
  return Number.isSafeInteger(bytes) && bytes > 0 ? bytes : undefined;
}

export function formatBytes(bytes: number): string {
  for (const [unit, size] of [['GiB', 2 ** 30], ['MiB', 2 ** 20], ['KiB', 2 ** 10]] as const) {
    if (bytes >= size && bytes % size === 0) return `${bytes / size}${unit}`;
  }
  if (bytes >= 2 ** 20) return `${(bytes / 2 ** 20).toFixed(1)}MiB`;
  return `${bytes}B`;
}
