/**
 * decide() on hand-built fact records: every state and reason it can give, the streak rules, the
 * episode's end, and when it wants a confirmation GC. No series, no statistics: only the rules.
 */
import { describe, expect, it } from 'vitest';
import { decide } from '../../src/detect/decide';
import type { ConfirmationFacts, EffectFacts, Facts, GuardFacts, PersistenceFacts, TrendFacts } from '../../src/detect/facts';

const MiB = 1024 * 1024;

/** A clean leak's facts: significant, big enough, no guard raised, confirmed by a fresh full GC. */
function leakFacts(change: { trend?: Partial<TrendFacts>; effect?: Partial<EffectFacts>; guards?: Partial<GuardFacts>; confirmation?: Partial<ConfirmationFacts>; persistence?: Partial<PersistenceFacts> } = {}): Facts {
  return {
    phase: 'judged',
    trend: { times: [0, 1, 2], values: [0, 1, 2], pValue: 1e-4, slope: 50_000, lower: 40_000, upper: 60_000, intercept: 0, scatter: 0.1 * MiB, significant: true, nearlySignificant: true, ...change.trend },
    effect: { floor: MiB, noise: 0.1 * MiB, effect: MiB, growth: 3 * MiB, bigEnough: true, nearlyBigEnough: true, ...change.effect },
    guards: { decelerating: false, filledThenSlowed: false, stalled: false, slowed: false, newHigh: true, ...change.guards },
    confirmation: { applies: true, informative: true, fresh: true, growth: 2 * MiB, spanSec: 30, confirmed: true, ...change.confirmation },
    persistence: { streak: 0, stopStreak: 0, required: 15, inLeak: false, stopped: false, returned: false, confirmable: true, ...change.persistence },
  };
}
const persistence = (p: Partial<PersistenceFacts> = {}): PersistenceFacts => ({ streak: 0, stopStreak: 0, required: 15, inLeak: false, stopped: false, returned: false, confirmable: true, ...p });

describe('decide()', () => {
  it('warming up: keeps the counts, reports the reason, or stays in the open leak', () => {
    expect(decide({ phase: 'warming-up', reason: 'collecting a full window (10 s of 60 s)', persistence: persistence({ streak: 4 }) }))
      .toEqual({ state: 'warming-up', reason: 'collecting a full window (10 s of 60 s)', streak: 4, stopStreak: 0, action: 'none', needsFullGc: false });
    expect(decide({ phase: 'warming-up', reason: 'gap', persistence: persistence({ inLeak: true }) }).state).toBe('leak');
  });

  it('right after a step: steady, and the streak starts again', () => {
    expect(decide({ phase: 'after-step', persistence: persistence({ streak: 9 }) }))
      .toEqual({ state: 'steady', reason: 'a step was just seen; waiting for points after it', streak: 0, stopStreak: 0, action: 'none', needsFullGc: false });
  });

  it('a leak is suspect while its streak grows, and raised when the streak reaches the persistence', () => {
    const forming = decide(leakFacts({ persistence: { streak: 3 } }));
    expect(forming).toMatchObject({ state: 'suspect', reason: 'growth persists (4/15 evaluations)', streak: 4, action: 'none', needsFullGc: false });
    expect(decide(leakFacts({ persistence: { streak: 14 } }))).toEqual({ state: 'leak', reason: 'leak detected', streak: 15, stopStreak: 0, action: 'raise', needsFullGc: false });
  });

  it('an unconfirmed old_space trend is suspect, counts on, and asks for a full GC', () => {
    const waiting = decide(leakFacts({ confirmation: { informative: false, confirmed: false }, persistence: { streak: 20 } }));
    expect(waiting).toMatchObject({ state: 'suspect', reason: 'waiting for a full GC to confirm growth', streak: 21, action: 'none', needsFullGc: true });
    const refuted = decide(leakFacts({ confirmation: { informative: true, confirmed: false } }));
    expect(refuted.reason).toBe('growth between full GCs did not survive the last one (promoted garbage?)');
    // external/native need no confirmation: they never ask.
    expect(decide(leakFacts({ confirmation: { applies: false, confirmed: false }, persistence: { confirmable: false } })).needsFullGc).toBe(false);
  });

  it('a weaker evaluation holds the streak (and still asks for the GC); noise resets it', () => {
    const weak = leakFacts({ trend: { significant: false, nearlySignificant: true }, effect: { bigEnough: false, nearlyBigEnough: true }, confirmation: { confirmed: false }, persistence: { streak: 7 } });
    expect(decide(weak)).toMatchObject({ state: 'steady', streak: 7, needsFullGc: true });
    const noise = leakFacts({ trend: { significant: false, nearlySignificant: false }, persistence: { streak: 7 } });
    expect(decide(noise)).toMatchObject({ state: 'steady', reason: 'no significant growth', streak: 0, needsFullGc: false });
  });

  it('growth back to an old level is suspect but never raised (slow wander)', () => {
    const d = decide(leakFacts({ guards: { newHigh: false }, persistence: { streak: 30 } }));
    expect(d).toMatchObject({ state: 'suspect', action: 'none', streak: 31 });
    expect(d.reason).toMatch(/slow wander/);
  });

  it('a stall holds the alert back but the streak goes on', () => {
    const d = decide(leakFacts({ guards: { stalled: true }, persistence: { streak: 30 } }));
    expect(d).toMatchObject({ state: 'suspect', action: 'none', streak: 31 });
    expect(d.reason).toMatch(/not in its last third/);
  });

  it('plateaus: a cache filling ever more slowly resets the streak; one that filled and slowed is a plateau', () => {
    const slowing = decide(leakFacts({ guards: { slowed: true }, persistence: { streak: 10 } }));
    expect(slowing).toMatchObject({ state: 'plateau', streak: 0 });
    expect(slowing.reason).toMatch(/grew faster in the half window before/);
    const filled = decide(leakFacts({ trend: { significant: false, nearlySignificant: false }, guards: { decelerating: true, filledThenSlowed: true } }));
    expect(filled).toMatchObject({ state: 'plateau', reason: 'grew, then slowed down (filling cache)' });
  });

  it('a strong trend that slowed in its second half holds the streak and stays steady', () => {
    const d = decide(leakFacts({ guards: { decelerating: true }, persistence: { streak: 13 } }));
    expect(d).toMatchObject({ state: 'steady', reason: 'growing, but more slowly in the second half of the window', streak: 13 });
  });

  it('significant growth below the minimum effect is steady and says so', () => {
    const d = decide(leakFacts({ effect: { bigEnough: false, nearlyBigEnough: false }, persistence: { streak: 5 } }));
    expect(d).toMatchObject({ state: 'steady', reason: 'significant but smaller than the minimum effect', streak: 0 });
  });

  it('in a leak episode: growth continues, weakens, and ends after the persistence', () => {
    const inLeak = { inLeak: true, streak: 15 };
    expect(decide(leakFacts({ persistence: inLeak }))).toEqual({ state: 'leak', reason: 'growth continues', streak: 15, stopStreak: 0, action: 'none', needsFullGc: false });
    expect(decide(leakFacts({ persistence: { ...inLeak, stopped: true, stopStreak: 2 } }))).toMatchObject({ state: 'leak', reason: 'growth weakening (3/15)', stopStreak: 3 });
    expect(decide(leakFacts({ persistence: { ...inLeak, stopped: true, stopStreak: 14 } })))
      .toEqual({ state: 'plateau', reason: 'growth stopped', streak: 0, stopStreak: 0, action: 'end', needsFullGc: false });
    expect(decide(leakFacts({ persistence: { ...inLeak, returned: true, stopStreak: 14 } })))
      .toMatchObject({ state: 'steady', reason: 'memory returned to its level before the leak', action: 'end' });
    // One evaluation that grows again restarts the stop count.
    expect(decide(leakFacts({ persistence: { ...inLeak, stopStreak: 9 } })).stopStreak).toBe(0);
  });
});
