/**
 * Near-OOM capture: arms the addon's near-heap-limit callback at agent start, so a process that is
 * about to die of a JavaScript heap OOM leaves a sampling heap profile (.heapprofile, loadable in
 * Chrome DevTools) behind. The native side does all the work inside V8's callback (see
 * native/near_heap_limit.h); this module only picks the path, checks there is room, and logs
 * `near_oom.profile_written` if the event loop turns once more after the callback fired.
 *
 * Node's own --heapsnapshot-near-heap-limit is reported broken since 22.14; this path is tested on
 * Node 20, 22, 24 and 26 (test/native-near-oom.test.ts).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { threadId } from 'node:worker_threads';
import type { AgentConfig } from '../config/env';
import type { AgentLogger } from '../log/logger';
import type { NativeAddon } from '../native/addon';
import { decideNative } from '../native/decide';
import { ensureTreeDir } from './safe-fs';

/**
 * Borrowed heap headroom when the callback fires. Enough for V8 to materialise the profile's
 * function names and for the loop to turn a few more times (Node 22 needed ~20 MB for its GCs to
 * stay "effective" in DataDog's tests), small next to any real heap limit. It is not a new limit:
 * V8 gives it back once the heap falls under half the original limit.
 */
export const NEAR_OOM_RAISE_BYTES = 32 * 1024 * 1024;

/** Below this much free disk the capture is not armed (a profile is typically well under 1 MB). */
const MIN_FREE_BYTES = 16 * 1024 * 1024;

export interface NearOomHandle {
  /** `armed`, `off` (LEAK_AGENT_NEAR_OOM=off), or `unavailable` with the reason. */
  readonly state: 'armed' | 'off' | 'unavailable';
  readonly reason: string;
  readonly path: string | null;
  stop(): void;
}

const inert = (state: 'off' | 'unavailable', reason: string): NearOomHandle => ({ state, reason, path: null, stop() {} });

/** `<dir>/near-oom-<start time>-<pid>[-t<threadId>].heapprofile`: unique across restarts that reuse pid 1. */
export function nearOomPath(dir: string, startedAt: Date, pid = process.pid, thread = threadId): string {
  const stamp = startedAt.toISOString().replace(/[:.]/g, '-');
  return path.join(dir, `near-oom-${stamp}-${pid}${thread ? `-t${thread}` : ''}.heapprofile`);
}

export function armNearOom(config: AgentConfig, logger: AgentLogger, startedAt: Date): NearOomHandle {
  if (!config.nearOom) return inert('off', 'LEAK_AGENT_NEAR_OOM=off');
  const native = decideNative(config.native);
  // The full story of why the addon is not used is in samplerReason, on the same log line.
  if (!native.addon) return inert('unavailable', config.native === 'off' ? 'needs the native addon (LEAK_AGENT_NATIVE=off)' : 'needs the native addon, which is not loaded (see samplerReason)');
  return arm(native.addon, config.dir, logger, startedAt);
}

function arm(addon: NativeAddon, dir: string, logger: AgentLogger, startedAt: Date): NearOomHandle {
  try {
    ensureTreeDir(dir, dir); // refuses a link or another user's directory (safe-fs.ts)
    fs.accessSync(dir, fs.constants.W_OK);
  } catch (err) {
    return inert('unavailable', `cannot write to LEAK_AGENT_DIR ${dir}: ${(err as Error).message}`);
  }
  const free = freeBytes(dir);
  if (free !== null && free < MIN_FREE_BYTES) {
    return inert('unavailable', `only ${free} bytes free in ${dir}; need at least ${MIN_FREE_BYTES}`);
  }
  const file = nearOomPath(dir, startedAt);
  const onFired = (): void => {
    try {
      const s = addon.nearHeapLimitStatus();
      if (s.error) {
        logger.log('near_oom.profile_failed', { path: s.path, reason: s.error, heapLimit: s.heapLimit, raisedTo: s.raisedTo });
        return;
      }
      let bytes: number | null = null;
      try {
        bytes = fs.statSync(s.path).size;
      } catch { /* reported as null */ }
      logger.log('near_oom.profile_written', {
        path: s.path,
        bytes,
        kind: 'near-oom-profile',
        heapLimit: s.heapLimit,
        raisedTo: s.raisedTo,
        message: 'the V8 heap reached its limit; a sampling heap profile of live allocations was written (open it in Chrome DevTools > Memory)',
      });
    } catch {
      /* never throw from a loop callback into the host */
    }
  };
  try {
    if (!addon.armNearHeapLimit(file, NEAR_OOM_RAISE_BYTES, onFired)) {
      return inert('unavailable', 'the near-heap-limit callback was already armed or has fired in this isolate');
    }
  } catch (err) {
    return inert('unavailable', `arming failed: ${(err as Error).message}`);
  }
  return {
    state: 'armed',
    reason: `sampling heap profile every ~${addon.nearHeapLimitStatus().samplingIntervalBytes || 'inspector-set'} bytes; raise ${NEAR_OOM_RAISE_BYTES} bytes once`,
    path: file,
    stop() {
      try {
        addon.disarmNearHeapLimit();
      } catch { /* already gone with the environment */ }
    },
  };
}

function freeBytes(dir: string): number | null {
  try {
    const s = fs.statfsSync(dir);
    return Number(s.bavail) * Number(s.bsize);
  } catch {
    return null;
  }
}
