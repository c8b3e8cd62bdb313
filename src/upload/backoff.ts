/**
 * Retry delays: exponential backoff with "full jitter" (a uniform draw in [0, min(cap, base·2^n))).
 * Full jitter spreads a fleet of pods that lost the same store at the same moment, so they do not
 * come back in lockstep. Pure: the random source is injected for tests.
 */
export function backoffDelayMs(attempt: number, baseMs: number, maxMs: number, random: () => number = Math.random): number {
  // 2^30 already exceeds any sane cap; clamping the exponent keeps the arithmetic finite.
  const ceiling = Math.min(maxMs, baseMs * 2 ** Math.min(Math.max(attempt - 1, 0), 30));
  // Never 0: a zero delay after a failure would spin against a store that is down.
  return Math.max(Math.min(baseMs, 50), Math.floor(random() * ceiling));
}
