/**
 * The one place where the facts of an evaluation (facts.ts) become a decision: the series' state and
 * why, the streak counts, whether a leak episode opens or ends now, and whether a full GC is wanted
 * to confirm old-space growth. Pure: the same facts always give the same decision.
 */
import type { Facts } from './facts';
import type { SeriesState } from './verdict';

export interface Decision {
  state: SeriesState;
  reason: string;
  /** The streak counts after this evaluation. */
  streak: number;
  stopStreak: number;
  /** 'raise': a leak episode opens now (the leak verdict); 'end': the open leak episode ends. */
  action: 'none' | 'raise' | 'end';
  /** A confirmation GC is wanted: the trend holds (or nearly) but no full GC has confirmed it. */
  needsFullGc: boolean;
}

export function decide(facts: Facts): Decision {
  const p = facts.persistence;
  const hold = { streak: p.streak, stopStreak: p.stopStreak, action: 'none' as const, needsFullGc: false };
  if (facts.phase === 'warming-up') return { ...hold, state: p.inLeak ? 'leak' : 'warming-up', reason: facts.reason };
  if (facts.phase === 'after-step') {
    return { ...hold, streak: 0, state: p.inLeak ? 'leak' : 'steady', reason: 'a step was just seen; waiting for points after it' };
  }
  const { trend, effect, guards, confirmation } = facts;

  if (p.inLeak) {
    const stopStreak = p.stopped || p.returned ? p.stopStreak + 1 : 0;
    if (stopStreak >= p.required) {
      const reason = p.returned ? 'memory returned to its level before the leak' : 'growth stopped';
      return { state: p.returned ? 'steady' : 'plateau', reason, streak: 0, stopStreak: 0, action: 'end', needsFullGc: false };
    }
    return { ...hold, stopStreak, state: 'leak', reason: stopStreak > 0 ? `growth weakening (${stopStreak}/${p.required})` : 'growth continues' };
  }

  const strong = trend.significant && effect.bigEnough;
  // The statistical condition must persist; the confirmation only gates the alert, so a trend that
  // has persisted is reported as soon as V8's next full GC confirms it.
  const trending = strong && !guards.decelerating && !guards.slowed;
  // A stall only holds the alert back (the streak goes on): on a slow leak the last third of the
  // window is noisy and may look flat for a few evaluations; a cache that has filled stays flat.
  const candidate = trending && confirmation.confirmed && !guards.stalled && guards.newHigh;
  // A weaker evaluation in the middle of a streak holds the count instead of resetting it: with sparse
  // GCs a leak's p-value hovers around alpha for a few buckets after each full GC, while noise loses
  // both conditions. A full-strength trend whose second half happened to grow more slowly also holds
  // the count: on a slow leak near the minimum effect the halves' slopes are noisy and the plateau
  // guard flickers (measured: a 30 KB/s leak lost its streak at 13/15 twice); a filling cache stays
  // decelerating. A series that grew faster before the window (slowing guard) resets the count: a
  // cache filling ever more slowly must not reach the persistence while it is still filling.
  const holding = !guards.slowed && ((trend.nearlySignificant && effect.nearlyBigEnough && !guards.decelerating) || strong);
  const streak = trending ? p.streak + 1 : holding ? p.streak : 0;
  if (candidate && streak >= p.required) return { state: 'leak', reason: 'leak detected', streak, stopStreak: 0, action: 'raise', needsFullGc: false };

  // Ask for a full GC as soon as a trend is forming, not only once it is fully significant: the full
  // GC both confirms or refutes the growth and measures the promotion rate the garbage correction
  // needs. Without it, after V8's first full GC a slow leak's series is a ramp of leak + promoted
  // garbage behind a corrected one — a kinked line whose p-value the autocorrelation correction
  // keeps above alpha (measured: a 30 KB/s leak held at p 0.01–0.03 for 30 s).
  const needsFullGc = p.confirmable && !confirmation.confirmed && holding;
  const suspect = (reason: string): Decision => ({ state: 'suspect', reason, streak, stopStreak: p.stopStreak, action: 'none', needsFullGc });
  const other = (state: SeriesState, reason: string): Decision => ({ state, reason, streak, stopStreak: p.stopStreak, action: 'none', needsFullGc });
  if (trending && !confirmation.confirmed) {
    return suspect(confirmation.informative ? 'growth between full GCs did not survive the last one (promoted garbage?)' : 'waiting for a full GC to confirm growth');
  }
  if (candidate) return suspect(`growth persists (${streak}/${p.required} evaluations)`);
  if (trending && !guards.newHigh) return suspect('grew for the whole window, but only back to a level seen in the windows before (slow wander?)');
  if (trending) return suspect('grew for the whole window but not in its last third (a cache that has just filled up?)');
  if (strong && guards.slowed) return other('plateau', 'growing, but it grew faster in the half window before this one (a cache filling ever more slowly?)');
  // Grew by at least the minimum effect in the first half of the window, then slowed down.
  if (guards.filledThenSlowed) return other('plateau', 'grew, then slowed down (filling cache)');
  if (strong && guards.decelerating) return other('steady', 'growing, but more slowly in the second half of the window');
  if (trend.significant) return other('steady', 'significant but smaller than the minimum effect');
  return other('steady', 'no significant growth');
}
