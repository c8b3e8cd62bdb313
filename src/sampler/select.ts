/**
 * Chooses the sampler: the native addon when it loads (and LEAK_AGENT_NATIVE is not `off`),
 * otherwise the JS fallback. Returns the reason so the agent can log one line about the choice.
 */
import { JsSampler, jsSamplerAvailable } from './js-sampler';
import { loadNativeSampler } from './native-sampler';
import type { Sampler } from './types';

export interface SamplerChoice {
  sampler: Sampler | undefined;
  reason: string;
}

export function selectSampler(native: 'auto' | 'off'): SamplerChoice {
  let nativeFailure = 'LEAK_AGENT_NATIVE=off';
  if (native !== 'off') {
    const loaded = loadNativeSampler();
    if (loaded.sampler) return { sampler: loaded.sampler, reason: `native addon loaded from ${loaded.from}` };
    nativeFailure = loaded.error;
  }
  if (jsSamplerAvailable()) return { sampler: new JsSampler(), reason: `JS fallback (v8.GCProfiler): ${nativeFailure}` };
  return { sampler: undefined, reason: `no sampler: ${nativeFailure}; v8.GCProfiler needs Node >= 18.15` };
}
