/**
 * The detector's opinion as metrics: leak_agent.detector.state (a state set: 1 for the current
 * state, 0 for the others, so `== 1` queries and alert rules work), leak_agent.memory.growth_rate
 * (By/s) and leak_agent.memory.time_to_limit (s) per memory series. Cardinality is fixed:
 * 3 series × 5 states.
 */
import type { Meter } from '@opentelemetry/api';
import { BatchCollector, observeBatch, type FailureSink } from './collector';
import type { DetectorSeriesView } from './detector-view';
import { ATTR, DETECTOR_STATES, METRIC } from './names';

export class DetectorCollector extends BatchCollector {
  readonly name = 'detector';

  constructor(fail: FailureSink, private readonly source: () => DetectorSeriesView[]) {
    super(fail);
  }

  protected register(meter: Meter): () => void {
    const state = meter.createObservableGauge(METRIC.detectorState, { unit: '1', description: 'Detector state per memory series (1 = current state).' });
    const growth = meter.createObservableGauge(METRIC.growthRate, { unit: 'By/s', description: 'Estimated growth rate (Theil–Sen slope) per memory series.' });
    const ttl = meter.createObservableGauge(METRIC.timeToLimit, { unit: 's', description: 'Estimated time until the memory limit at the current growth rate.' });
    return observeBatch(meter, this.name, [state, growth, ttl], this.fail, (result) => {
      for (const s of this.source()) {
        for (const candidate of DETECTOR_STATES) {
          result.observe(state, candidate === s.state ? 1 : 0, { [ATTR.memory]: s.memory, [ATTR.detectorState]: candidate });
        }
        if (s.growthBytesPerSec !== undefined) result.observe(growth, s.growthBytesPerSec, { [ATTR.memory]: s.memory });
        if (s.timeToLimitSec !== undefined) result.observe(ttl, s.timeToLimitSec, { [ATTR.memory]: s.memory });
      }
    });
  }
}
