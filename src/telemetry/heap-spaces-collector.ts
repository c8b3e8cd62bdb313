/**
 * v8js.memory.heap.{used,space.size,space.available_size,space.physical_size} per heap space.
 * One batch callback reads v8.getHeapSpaceStatistics() once per collection and feeds all four;
 * space names come from V8 at run time (they differ between Node versions).
 */
import * as v8 from 'node:v8';
import type { Meter } from '@opentelemetry/api';
import { BatchCollector, observeBatch } from './collector';
import { ATTR, METRIC } from './names';

export class HeapSpacesCollector extends BatchCollector {
  readonly name = 'heap-spaces';

  protected register(meter: Meter): () => void {
    const used = meter.createObservableUpDownCounter(METRIC.heapUsed, { unit: 'By', description: 'Heap memory used, per V8 heap space.' });
    const size = meter.createObservableUpDownCounter(METRIC.heapSpaceSize, { unit: 'By', description: 'Heap memory reserved for a V8 heap space.' });
    const available = meter.createObservableUpDownCounter(METRIC.heapSpaceAvailable, { unit: 'By', description: 'Heap space available size.' });
    const physical = meter.createObservableUpDownCounter(METRIC.heapSpacePhysical, { unit: 'By', description: 'Committed size of a heap space.' });
    return observeBatch(meter, this.name, [used, size, available, physical], this.fail, (result) => {
      for (const space of v8.getHeapSpaceStatistics()) {
        const attrs = { [ATTR.heapSpace]: space.space_name };
        result.observe(used, space.space_used_size, attrs);
        result.observe(size, space.space_size, attrs);
        result.observe(available, space.space_available_size, attrs);
        result.observe(physical, space.physical_space_size, attrs);
      }
    });
  }
}
