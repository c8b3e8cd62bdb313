/**
 * Placeholder until the native addon lands: always reports that the addon is unavailable,
 * so the agent uses the JS fallback.
 */
import type { Sampler } from './types';

export type NativeLoadResult = { sampler: Sampler; from: string; error?: undefined } | { sampler?: undefined; error: string };

export function loadNativeSampler(): NativeLoadResult {
  return { error: 'native addon not built yet' };
}
