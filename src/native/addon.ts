/**
 * The one module that loads the native addon (`.node` file). Everything else imports the typed
 * surface from here; *whether* the addon is used is decided in native/decide.ts.
 *
 * Tried in order, first success wins, result cached for the isolate:
 *   1. LEAK_AGENT_ADDON_PATH — an explicit file chosen by the operator;
 *   2. prebuilds/<platform>-<arch>/leak-agent.abi<ABI>.node — shipped in the package, one per Node
 *      major (the addon uses <v8.h>, which ties it to one Node ABI);
 *   3. build/Release/leak_agent.node — a local build (`npm run build:native`).
 *
 * Every candidate is checked BEFORE it is loaded: the binary carries a tag in its read-only data
 * (`leak-agent-native:abi=115:platform=linux:arch=x64:api=1:`, see native/addon.cc) and a file whose
 * tag does not name this Node's ABI (process.versions.modules), platform, arch and the API version
 * of this code is refused without being mapped into the process. Node does not check the ABI of a
 * Node-API module, and one built against another Node's V8 headers "works" until it corrupts memory.
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
  /** V8 handles the profile write left behind in the isolate (0: it used a HandleScope of its own). */
  handlesLeft: number;
  samplingIntervalBytes: number;
}

export interface NativeAddon {
  apiVersion: number;
  /** NODE_MODULE_VERSION of the headers it was compiled against (= process.versions.modules). */
  nodeModuleVersion: number;
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

export type CandidateSource = 'LEAK_AGENT_ADDON_PATH' | 'prebuild' | 'local build';

/** A candidate that was not loaded, and why (`present` false: the file does not exist). */
export interface Rejection {
  source: CandidateSource;
  file: string;
  present: boolean;
  problem: string;
}

export type AddonLoad =
  | { addon: NativeAddon; from: string; rejected: Rejection[]; error?: undefined }
  | { addon?: undefined; error: string; rejected: Rejection[] };

/** dist/native/addon.js → the package root. */
const PACKAGE_ROOT = path.resolve(__dirname, '..', '..');

/** Node majors by ABI, for messages only (the check itself compares the numbers). */
const NODE_MAJOR_BY_ABI: Record<string, number> = { '108': 18, '115': 20, '127': 22, '131': 23, '137': 24, '141': 25, '147': 26 };
/** A leak-agent addon is ~100–300 KB; anything this large is not one and is not read whole. */
const MAX_ADDON_BYTES = 64 * 1024 * 1024;
const TAG = /leak-agent-native:abi=(\d+):platform=([a-z0-9]+):arch=([a-z0-9]+):api=(\d+):/;

let cached: AddonLoad | undefined;

export function prebuildPath(root = PACKAGE_ROOT, abi = process.versions.modules): string {
  return path.join(root, 'prebuilds', `${process.platform}-${process.arch}`, `leak-agent.abi${abi}.node`);
}

function candidates(env: NodeJS.ProcessEnv): { source: CandidateSource; file: string }[] {
  const list: { source: CandidateSource; file: string }[] = [];
  const override = env.LEAK_AGENT_ADDON_PATH?.trim();
  if (override) list.push({ source: 'LEAK_AGENT_ADDON_PATH', file: path.resolve(override) });
  list.push({ source: 'prebuild', file: prebuildPath() });
  list.push({ source: 'local build', file: path.join(PACKAGE_ROOT, 'build', 'Release', 'leak_agent.node') });
  return list;
}

const describeAbi = (abi: string): string => (NODE_MAJOR_BY_ABI[abi] ? `ABI ${abi} (Node ${NODE_MAJOR_BY_ABI[abi]})` : `ABI ${abi}`);

/** What the file says it was built for, compared with this process; null when it may be loaded. */
export function tagProblem(bytes: Buffer, want = { abi: process.versions.modules, platform: process.platform, arch: process.arch }): string | null {
  const m = TAG.exec(bytes.toString('latin1'));
  if (!m) return 'no leak-agent ABI tag (not a leak-agent addon, or built by an older version); refused before loading';
  const [, abi, platform, arch, api] = m as unknown as [string, string, string, string, string];
  if (platform !== want.platform || arch !== want.arch) {
    return `built for ${platform}-${arch}, this process is ${want.platform}-${want.arch}; refused before loading`;
  }
  if (abi !== want.abi) {
    return `built for Node ${describeAbi(abi)}, this Node (${process.version}) needs ABI ${want.abi}; refused before loading`;
  }
  if (Number(api) !== NATIVE_API_VERSION) {
    return `stale build: native API version ${api}, this code needs ${NATIVE_API_VERSION}; refused before loading`;
  }
  return null;
}

function tryLoad(file: string): NativeAddon {
  const size = fs.statSync(file).size;
  if (size > MAX_ADDON_BYTES) throw new Error(`${size} bytes: too large for a leak-agent addon; refused before loading`);
  const problem = tagProblem(fs.readFileSync(file));
  if (problem) throw new Error(problem);
  const mod = { exports: {} as unknown };
  // process.dlopen instead of require: no module-cache entry keyed by path, and the same call works
  // from a worker thread (the addon is context-aware: one instance per environment).
  process.dlopen(mod as { exports: unknown }, file);
  const addon = mod.exports as Partial<NativeAddon>;
  if (addon.apiVersion !== NATIVE_API_VERSION || typeof addon.drainGcRecords !== 'function') {
    throw new Error(`stale build: native API version ${String(addon.apiVersion)}, this code needs ${NATIVE_API_VERSION}`);
  }
  if (String(addon.nodeModuleVersion) !== process.versions.modules) {
    // The tag said otherwise: the file was altered. Refuse to use what is already loaded.
    throw new Error(`reports Node ABI ${String(addon.nodeModuleVersion)} although its tag matched ABI ${process.versions.modules}`);
  }
  return addon as NativeAddon;
}

/** Loads the addon once per isolate; never throws. */
export function loadAddon(env: NodeJS.ProcessEnv = process.env): AddonLoad {
  if (cached) return cached;
  const rejected: Rejection[] = [];
  for (const c of candidates(env)) {
    const present = fs.existsSync(c.file);
    if (!present) {
      rejected.push({ ...c, present, problem: 'not found' });
      continue;
    }
    try {
      cached = { addon: tryLoad(c.file), from: c.file, rejected };
      return cached;
    } catch (err) {
      rejected.push({ ...c, present, problem: (err as Error).message.split('\n')[0] ?? 'failed to load' });
    }
  }
  cached = {
    rejected,
    error:
      `native addon unavailable for Node ${process.version} (ABI ${process.versions.modules}, ${process.platform}-${process.arch}): ` +
      rejected.map((r) => `${r.source} ${r.file}: ${r.problem}`).join('; ') +
      `. Fix: run \`npm run build:native\` in ${PACKAGE_ROOT}, or point LEAK_AGENT_ADDON_PATH at a leak_agent.node built for this Node.`,
  };
  return cached;
}
