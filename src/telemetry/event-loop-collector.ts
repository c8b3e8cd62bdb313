/**
 * nodejs.eventloop.delay.{min,max,mean,stddev,p50,p90,p99} (Gauge, s), nodejs.eventloop.utilization
 * (Gauge, 1) and nodejs.eventloop.time (Counter, s, per nodejs.eventloop.state).
 *
 * The delay histogram is reset at most once per `resetEveryMs` (the export interval), not at every
 * collection: with a Prometheus pull every second and an OTLP push every minute, resetting on each
 * collection would make the OTLP figure cover only the last second.
 */
import { monitorEventLoopDelay, performance, type EventLoopUtilization, type IntervalHistogram } from 'node:perf_hooks';
import type { Meter } from '@opentelemetry/api';
import { BatchCollector, observeBatch, type FailureSink } from './collector';
import { ATTR, METRIC } from './names';

/** 20 ms is the resolution the runtime instrumentation uses; finer costs more timer wake-ups. */
const RESOLUTION_MS = 20;
const NS_PER_S = 1e9;

export class EventLoopCollector extends BatchCollector {
  readonly name = 'event-loop';
  private histogram: IntervalHistogram | undefined;
  private lastReset = 0;
  private lastElu: EventLoopUtilization | undefined;

  constructor(fail: FailureSink, private readonly resetEveryMs: number) {
    super(fail);
  }

  protected register(meter: Meter): () => void {
    if (!this.histogram) {
      this.histogram = monitorEventLoopDelay({ resolution: RESOLUTION_MS });
      this.histogram.enable();
      this.lastReset = Date.now();
    }
    const gauge = (suffix: string, description: string) =>
      meter.createObservableGauge(METRIC.eventLoopDelayPrefix + suffix, { unit: 's', description });
    const delays = {
      min: gauge('min', 'Event loop minimum delay.'),
      max: gauge('max', 'Event loop maximum delay.'),
      mean: gauge('mean', 'Event loop mean delay.'),
      stddev: gauge('stddev', 'Event loop standard deviation delay.'),
      p50: gauge('p50', 'Event loop 50 percentile delay.'),
      p90: gauge('p90', 'Event loop 90 percentile delay.'),
      p99: gauge('p99', 'Event loop 99 percentile delay.'),
    };
    const utilization = meter.createObservableGauge(METRIC.eventLoopUtilization, { unit: '1', description: 'Event loop utilization.' });
    const time = meter.createObservableCounter(METRIC.eventLoopTime, { unit: 's', description: 'Cumulative duration of time the event loop has been in each state.' });
    const instruments = [...Object.values(delays), utilization, time];
    return observeBatch(meter, this.name, instruments, this.fail, (result) => {
      const h = this.histogram;
      if (h && h.count > 0) {
        result.observe(delays.min, h.min / NS_PER_S);
        result.observe(delays.max, h.max / NS_PER_S);
        result.observe(delays.mean, h.mean / NS_PER_S);
        result.observe(delays.stddev, h.stddev / NS_PER_S);
        result.observe(delays.p50, h.percentile(50) / NS_PER_S);
        result.observe(delays.p90, h.percentile(90) / NS_PER_S);
        result.observe(delays.p99, h.percentile(99) / NS_PER_S);
      }
      const now = Date.now();
      if (h && now - this.lastReset >= this.resetEveryMs) {
        h.reset();
        this.lastReset = now;
      }
      const elu = performance.eventLoopUtilization();
      const delta = this.lastElu ? performance.eventLoopUtilization(elu, this.lastElu) : elu;
      this.lastElu = elu;
      result.observe(utilization, delta.utilization);
      result.observe(time, elu.active / 1000, { [ATTR.eventLoopState]: 'active' });
      result.observe(time, elu.idle / 1000, { [ATTR.eventLoopState]: 'idle' });
    });
  }

  override disable(): void {
    super.disable();
    this.histogram?.disable();
    this.histogram = undefined;
    this.lastElu = undefined;
  }
}
