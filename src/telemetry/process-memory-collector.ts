/**
 * What the conventions lack about memory: V8's heap limit, external and ArrayBuffer memory, RSS,
 * and the container's limit and usage. Fed from the policy's latest tick (one reading per drain,
 * at most one drain interval old), so a collection adds no syscalls of its own.
 */
import type { Meter } from '@opentelemetry/api';
import type { ContainerMemory } from '../process/container';
import type { ProcessMemory } from '../process/memory';
import { BatchCollector, observeBatch, type FailureSink } from './collector';
import { METRIC } from './names';

export interface MemoryReadings {
  memory: ProcessMemory | undefined;
  container: ContainerMemory | undefined;
}

export class ProcessMemoryCollector extends BatchCollector {
  readonly name = 'process-memory';

  constructor(fail: FailureSink, private readonly source: () => MemoryReadings) {
    super(fail);
  }

  protected register(meter: Meter): () => void {
    const bytes = (name: string, description: string) => meter.createObservableUpDownCounter(name, { unit: 'By', description });
    const heapLimit = bytes(METRIC.heapLimit, 'V8 heap size limit (heap_size_limit): where the heap runs out.');
    const external = bytes(METRIC.external, 'Memory of C++ objects bound to JS objects (Buffers, ArrayBuffers, addons).');
    const arrayBuffers = bytes(METRIC.arrayBuffers, 'Memory of ArrayBuffers and SharedArrayBuffers (part of external).');
    const rss = bytes(METRIC.rss, 'Resident set size of the process.');
    const containerLimit = bytes(METRIC.containerLimit, 'Memory limit of the container (cgroup); absent when unlimited.');
    const containerUsage = bytes(METRIC.containerUsage, 'Memory usage of the container (cgroup).');
    const instruments = [heapLimit, external, arrayBuffers, rss, containerLimit, containerUsage];
    return observeBatch(meter, this.name, instruments, this.fail, (result) => {
      const { memory, container } = this.source();
      if (memory) {
        result.observe(heapLimit, memory.heapLimit);
        result.observe(external, memory.external);
        result.observe(arrayBuffers, memory.arrayBuffers);
        result.observe(rss, memory.rss);
      }
      if (container) {
        if (container.limit !== null) result.observe(containerLimit, container.limit);
        result.observe(containerUsage, container.usage);
      }
    });
  }
}
