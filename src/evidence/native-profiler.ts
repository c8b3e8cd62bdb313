/**
 * The native addon's sampling heap profiler as a `HeapProfilerBackend`. Preferred over the inspector
 * when the addon is loaded: V8 has one sampling heap profiler per isolate and the near-OOM capture
 * keeps it running; the addon's start re-targets it to our interval and its stop hands it back to
 * the near-OOM rate, where the inspector's stop would silently switch it off.
 */
import type { NativeAddon } from '../native/addon';
import type { HeapProfilerBackend, SamplingHeapProfile } from './heap-profile-types';

/** Deep enough for framework-heavy stacks (Express/Nest middleware chains), as in Datadog's profiler. */
const STACK_DEPTH = 64;

export function nativeProfilerBackend(addon: NativeAddon): HeapProfilerBackend {
  return {
    name: 'native',
    async start(intervalBytes) {
      if (!addon.startSamplingHeapProfiler(intervalBytes, STACK_DEPTH)) {
        throw new Error('the native sampling heap profiler could not be started');
      }
    },
    async profile() {
      const profile = addon.getAllocationProfile();
      if (!profile) throw new Error('the native sampling heap profiler is not running');
      return profile as SamplingHeapProfile;
    },
    async stop() {
      try {
        addon.stopSamplingHeapProfiler();
      } catch {
        /* already stopped */
      }
    },
  };
}
