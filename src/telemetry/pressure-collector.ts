/**
 * Memory pressure as metrics: leak_agent.pressure.active (1 while a signal is crossed, 0 otherwise,
 * per leak_agent.pressure.signal, `critical` included) and leak_agent.pressure.value (each signal's
 * figure: ratios 0..1, MB/h, full GCs per minute, seconds to OOM). Cardinality is fixed: 7 + 6.
 */
import type { Meter } from '@opentelemetry/api';
import { BatchCollector, observeBatch, type FailureSink } from './collector';
import { ATTR, METRIC } from './names';
import { PRESSURE_SIGNALS, type PressureFigures, type PressureSignal } from '../pressure/pressure';

export interface PressureView {
  active(signal: PressureSignal | 'critical'): boolean;
  figures(): PressureFigures | undefined;
}

const FIGURE: Record<PressureSignal, keyof PressureFigures> = {
  heap: 'heapUse',
  container: 'containerUse',
  growth: 'growthMbPerHour',
  full_gc_rate: 'fullGcPerMinute',
  gc_time: 'gcTimeShare',
  time_to_oom: 'timeToOomSec',
};

export class PressureCollector extends BatchCollector {
  readonly name = 'pressure';

  constructor(fail: FailureSink, private readonly source: () => PressureView | undefined) {
    super(fail);
  }

  protected register(meter: Meter): () => void {
    const active = meter.createObservableGauge(METRIC.pressureActive, { unit: '1', description: 'Memory pressure signal crossed (1) or not (0); `critical` is the health check’s critical state.' });
    const value = meter.createObservableGauge(METRIC.pressureValue, { unit: '1', description: 'Memory pressure figure per signal: heap/container use 0..1, growth MB/h, full GCs per minute, GC time share 0..1, seconds to OOM.' });
    return observeBatch(meter, this.name, [active, value], this.fail, (result) => {
      const view = this.source();
      if (!view) return;
      for (const s of [...PRESSURE_SIGNALS, 'critical' as const]) result.observe(active, view.active(s) ? 1 : 0, { [ATTR.pressureSignal]: s });
      const f = view.figures();
      if (!f) return;
      for (const s of PRESSURE_SIGNALS) {
        const v = f[FIGURE[s]];
        if (v !== null) result.observe(value, v, { [ATTR.pressureSignal]: s });
      }
    });
  }
}
