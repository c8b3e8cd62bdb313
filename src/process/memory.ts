/**
 * Process-level memory figures the detector and the snapshot gate need beyond the GC records.
 * Cheap calls only: process.memoryUsage() reads /proc/self/statm and V8 counters.
 */
import * as v8 from 'node:v8';

export interface ProcessMemory {
  /** Epoch milliseconds of the reading. */
  time: number;
  rss: number;
  heapUsed: number;
  heapTotal: number;
  /** V8's heap size limit (--max-old-space-size plus young generation). */
  heapLimit: number;
  external: number;
  arrayBuffers: number;
}

export function readProcessMemory(): ProcessMemory {
  const usage = process.memoryUsage();
  return {
    time: Date.now(),
    rss: usage.rss,
    heapUsed: usage.heapUsed,
    heapTotal: usage.heapTotal,
    heapLimit: v8.getHeapStatistics().heap_size_limit,
    external: usage.external,
    arrayBuffers: usage.arrayBuffers,
  };
}
