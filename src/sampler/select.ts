/**
 * Chooses the sampler: the native addon when native/decide.ts says it is used, otherwise the JS
 * fallback. Returns the reason so the agent can log one line about the choice.
 */
import { decideNative, type NativeSetting } from '../native/decide';
import { JsSampler, jsSamplerAvailable } from './js-sampler';
import { NativeSampler } from './native-sampler';
import type { Sampler } from './types';

export interface SamplerChoice {
  sampler: Sampler | undefined;
  reason: string;
}

export function selectSampler(native: NativeSetting): SamplerChoice {
  const decision = decideNative(native);
  let nativeFailure = decision.unavailable ?? '';
  if (decision.addon) {
    try {
      return { sampler: new NativeSampler(decision.addon), reason: `native addon loaded from ${decision.from}` };
    } catch (err) {
      nativeFailure = `native addon loaded from ${decision.from} but failed: ${(err as Error).message}`;
    }
  }
  if (jsSamplerAvailable()) return { sampler: new JsSampler(), reason: `JS fallback (v8.GCProfiler): ${nativeFailure}` };
  return { sampler: undefined, reason: `no sampler: ${nativeFailure}; v8.GCProfiler needs Node >= 18.15` };
}
