/**
 * The confirmation GC: when old-space grows with a significant trend but no full GC has shown that
 * the growth is live (not promoted garbage waiting to be collected), ask V8 for one full GC instead
 * of waiting. A quiet process may run a full GC only every few minutes; measured with a 60 s window,
 * a 60 KB/s Map leak was missed in 3 of 3 runs for want of one (bench/scenarios/score.js).
 *
 * The cost is chosen knowingly and bounded: one full GC (measured ~40 ms for a 60 MB heap of small
 * objects on Node 20/22/24 here) at most once per quarter window, only while the detector asks for
 * it, and never on a heap above MAX_HEAP_BYTES where a full pause could reach hundreds of ms.
 * `LEAK_AGENT_CONFIRM_GC=off` turns it off.
 */
import * as v8 from 'node:v8';
import * as vm from 'node:vm';
import { thresholdsFor } from '../detect/thresholds';

/** How often a confirmation GC may be requested: the detector's thresholds say why (same at every sensitivity). */
const SPACING = thresholdsFor('normal');

/** Above this heap size the agent waits for V8's own full GC instead of forcing one. */
export const MAX_HEAP_BYTES = 1024 * 1024 * 1024;

export type GcDecision =
  | { collect: true }
  | { collect: false; reason: 'not needed' | 'recent full GC' | 'rate limit' | 'heap too large' | 'unavailable' };

/** Pure: whether to request a full GC now. */
export function decideConfirmationGc(input: {
  needsFullGc: boolean;
  now: number;
  windowMs: number;
  lastFullGcAt: number;
  lastRequestAt: number;
  heapUsed: number;
}): GcDecision {
  if (!input.needsFullGc) return { collect: false, reason: 'not needed' };
  const spacing = Math.max(SPACING.fullGcRequestMinSpacingMs, SPACING.fullGcRequestSpacingOfWindow * input.windowMs);
  if (input.now - input.lastFullGcAt < spacing) return { collect: false, reason: 'recent full GC' };
  if (input.now - input.lastRequestAt < spacing) return { collect: false, reason: 'rate limit' };
  if (input.heapUsed > MAX_HEAP_BYTES) return { collect: false, reason: 'heap too large' };
  return { collect: true };
}

let cachedGc: (() => void) | null | undefined;

/**
 * V8's `gc()` without making the host run with --expose-gc: the flag is set only long enough to
 * take the function from a fresh context, then cleared, so the application's own contexts never
 * see a `gc` global. Null when this V8 refuses.
 */
export function fullGcFunction(): (() => void) | null {
  if (cachedGc !== undefined) return cachedGc;
  try {
    const existing = (globalThis as { gc?: unknown }).gc;
    if (typeof existing === 'function') {
      cachedGc = existing as () => void;
    } else {
      v8.setFlagsFromString('--expose-gc');
      try {
        const fn = vm.runInNewContext('gc') as unknown;
        cachedGc = typeof fn === 'function' ? (fn as () => void) : null;
      } finally {
        v8.setFlagsFromString('--no-expose-gc');
      }
    }
  } catch {
    cachedGc = null;
  }
  return cachedGc;
}
