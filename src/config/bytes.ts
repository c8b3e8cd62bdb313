/**
 * Byte sizes as people write them in environment variables: `512KiB`, `64MB`, `2GiB`, `1048576`.
 * Decimal (kB, MB, GB) and binary (KiB, MiB, GiB) units are both accepted and mean what they say;
 * a single letter (`K`, `M`, `G`) is read as binary, the way `ulimit` and Kubernetes' `Mi` users mean it.
 */
const UNIT_BYTES: Record<string, number> = {
  b: 1,
  kb: 1e3, mb: 1e6, gb: 1e9, tb: 1e12,
  kib: 2 ** 10, mib: 2 ** 20, gib: 2 ** 30, tib: 2 ** 40,
  k: 2 ** 10, m: 2 ** 20, g: 2 ** 30, t: 2 ** 40,
};

/** Returns whole bytes, or undefined when the text is not a positive size. */
export function parseBytes(text: string): number | undefined {
  const match = /^\s*(\d+(?:\.\d+)?)\s*([a-z]*)\s*$/i.exec(text);
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
