/**
 * The sampling heap profile in exactly the shape of the inspector protocol's
 * `HeapProfiler.SamplingHeapProfile` (what Chrome DevTools saves as `.heapprofile`), and the
 * backend interface any sampling heap profiler implements: the in-process inspector session
 * (inspector-profiler.ts) or a native binding with the same output shape.
 */

export interface ProfileCallFrame {
  functionName: string;
  scriptId: string;
  url: string;
  /** 0-based, -1 when unknown (as in the protocol). */
  lineNumber: number;
  columnNumber: number;
}

export interface SamplingHeapProfileNode {
  callFrame: ProfileCallFrame;
  /** Bytes of live sampled allocations made by this frame itself (scaled by the sampler). */
  selfSize: number;
  id: number;
  children: SamplingHeapProfileNode[];
}

export interface SamplingHeapProfileSample {
  /** Bytes this sample stands for. */
  size: number;
  /** The node (allocation stack) that made it. */
  nodeId: number;
  /** Order of the sample; larger is later. */
  ordinal: number;
}

export interface SamplingHeapProfile {
  head: SamplingHeapProfileNode;
  samples: SamplingHeapProfileSample[];
}

/**
 * A sampling heap profiler. Only live objects matter for a leak: backends keep samples of objects
 * that the GC has since collected out of the profile (the protocol's default).
 */
export interface HeapProfilerBackend {
  /** Short name for logs, e.g. `inspector` or `native`. */
  readonly name: string;
  /** Starts sampling roughly every `intervalBytes` allocated bytes. Rejects when unavailable. */
  start(intervalBytes: number): Promise<void>;
  /** The live sampled allocations now, with their stacks; sampling continues. */
  profile(): Promise<SamplingHeapProfile>;
  /** Stops sampling and releases what the profiler held. Never rejects. */
  stop(): Promise<void>;
}
