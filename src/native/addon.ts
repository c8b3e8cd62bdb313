/**
 * The one module that loads the native addon (`.node` file). Everything else imports the typed
 * surface from here; policy about *whether* to use it lives above (sampler/select.ts).
 *
 * Tried in order, first success wins, result cached for the isolate:
 *   1. LEAK_AGENT_ADDON_PATH — an explicit file chosen by the operator;
 *   2. prebuilds/<platform>-<arch>/leak-agent.abi<ABI>.node — shipped in the package, one per Node
 *      major (the addon uses <v8.h>, which ties it to one Node ABI);
 *   3. build/Release/leak_agent.node — a local build (`npm run build:native`).
 * When all fail, one message lists every candidate and why it failed, and says what to do.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';

/** Must equal kApiVersion in native/addon.cc; a stale build is refused rather than misread. */
export const NATIVE_API_VERSION = 1;

/** The inspector's HeapProfiler.SamplingHeapProfile shape (node:inspector returns the same). */
export interface SamplingHeapProfileNode {
  callFrame: { functionName: string; scriptId: string; url: string; lineNumber: number; columnNumber: number };
  selfSize: number;
  id: number;
  children: SamplingHeapProfileNode[];
}
export interface SamplingHeapProfile {
  head: SamplingHeapProfileNode;
  samples: { size: number; nodeId: number; ordinal: number }[];
}

export interface NativeGcCounters {
  recorded: number;
  dropped: number;
  pending: number;
  /** Prologue + epilogue invocations, counted only when started with measure=true. */
  callbacks: number;
  /** Nanoseconds spent inside our GC callbacks, counted only when started with measure=true. */
  callbackNs: number;
  /** Of callbackNs: reading per-space statistics. */
  spacesNs: number;
  /** Of callbackNs: reading HeapStatistics for external memory. */
  externalNs: number;
  /** Per-invocation time histograms while measuring: counts per histogramBucketNs-wide bucket. */
  histogramBucketNs: number;
  prologueHistogram: number[];
  epilogueHistogram: number[];
  running: boolean;
}

export interface NearHeapLimitStatus {
  armed: boolean;
  fired: boolean;
  path: string;
  /** Why no profile was written, or null when it was. */
  error: string | null;
  heapLimit: number;
  raisedTo: number;
  initialLimit: number;
  samplingIntervalBytes: number;
}

export interface NativeAddon {
  apiVersion: number;
  spaceNames(): string[];
  startGcRecorder(capacity: number, measure: boolean): boolean;
  stopGcRecorder(): void;
  /** Flat records, oldest first; layout documented in native/gc_recorder.h. */
  drainGcRecords(): Float64Array;
  gcCounters(): NativeGcCounters;
  /** The records' clock (monotonic) in milliseconds. */
  nowMs(): number;
  startSamplingHeapProfiler(intervalBytes: number, stackDepth: number): boolean;
  stopSamplingHeapProfiler(): void;
  getAllocationProfile(): SamplingHeapProfile | null;
  armNearHeapLimit(profilePath: string, raiseBytes: number, onFired?: () => void): boolean;
  disarmNearHeapLimit(): void;
  nearHeapLimitStatus(): NearHeapLimitStatus;
}

export type AddonLoad = { addon: NativeAddon; from: string; error?: undefined } | { addon?: undefined; error: string };

/** dist/native/addon.js → the package root. */
const PACKAGE_ROOT = path.resolve(__dirname, '..', '..');

let cached: AddonLoad | undefined;

export function prebuildPath(root = PACKAGE_ROOT, abi = process.versions.modules): string {
  return path.join(root, 'prebuilds', `${process.platform}-${process.arch}`, `leak-agent.abi${abi}.node`);
}

function candidates(env: NodeJS.ProcessEnv): { label: string; file: string }[] {
  const list: { label: string; file: string }[] = [];
  const override = env.LEAK_AGENT_ADDON_PATH?.trim();
  if (override) list.push({ label: 'LEAK_AGENT_ADDON_PATH', file: path.resolve(override) });
  list.push({ label: 'prebuild', file: prebuildPath() });
  list.push({ label: 'local build', file: path.join(PACKAGE_ROOT, 'build', 'Release', 'leak_agent.node') });
  return list;
}

function tryLoad(file: string): NativeAddon {
  if (!fs.existsSync(file)) throw new Error('not found');
  const mod = { exports: {} as unknown };
  // process.dlopen instead of require: no module-cache entry keyed by path, and the same call works
  // from a worker thread (the addon is context-aware: one instance per environment).
  process.dlopen(mod as { exports: unknown }, file);
  const addon = mod.exports as Partial<NativeAddon>;
  if (addon.apiVersion !== NATIVE_API_VERSION || typeof addon.drainGcRecords !== 'function') {
    throw new Error(`stale build: native API version ${String(addon.apiVersion)}, this code needs ${NATIVE_API_VERSION}`);
  }
  return addon as NativeAddon;
}

/** Loads the addon once per isolate; never throws. */
export function loadAddon(env: NodeJS.ProcessEnv = process.env): AddonLoad {
  if (cached) return cached;
  const failures: string[] = [];
  for (const c of candidates(env)) {
    try {
      cached = { addon: tryLoad(c.file), from: c.file };
      return cached;
    } catch (err) {
      failures.push(`${c.label} ${c.file}: ${(err as Error).message.split('\n')[0]}`);
    }
  }
  cached = {
    error:
      `native addon unavailable for Node ${process.version} (ABI ${process.versions.modules}, ${process.platform}-${process.arch}): ` +
      failures.join('; ') +
      `. Fix: run \`npm run build:native\` in ${PACKAGE_ROOT}, or point LEAK_AGENT_ADDON_PATH at a leak_agent.node built for this Node.`,
  };
  return cached;
}
