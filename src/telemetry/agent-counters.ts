/**
 * Counts of what the agent did: alerts, snapshots written and skipped, uploads done and failed,
 * agent errors, failed telemetry exports. The tallies live here as plain numbers (always kept,
 * a few increments per hour) and are observed as cumulative counters at collection time, so a
 * meter bound late still reports the totals since start. Attribute values are fixed sets.
 */
import type { Meter } from '@opentelemetry/api';
import { BatchCollector, observeBatch } from './collector';
import { ATTR, MEMORY_SERIES, METRIC } from './names';

export type AlertKind = 'leak' | 'spike';

export class AgentTallies {
  /** key: `${kind}/${memory}` */
  readonly alerts = new Map<string, number>();
  readonly snapshots = { written: 0, skipped: 0 };
  readonly uploads = { done: 0, failed: 0 };
  readonly exportFailures = { metrics: 0, logs: 0 };
  errors = 0;

  alert(kind: AlertKind, memory: string): void {
    // Unknown series names collapse to one bucket: cardinality stays bounded whatever arrives.
    const series = (MEMORY_SERIES as readonly string[]).includes(memory) ? memory : 'other';
    const key = `${kind}/${series}`;
    this.alerts.set(key, (this.alerts.get(key) ?? 0) + 1);
  }

  /** Counts the agent-log events that mean "the agent did something" (called for every log line). */
  logEvent(event: string): void {
    switch (event) {
      case 'snapshot.written': this.snapshots.written += 1; break;
      case 'snapshot.skipped': this.snapshots.skipped += 1; break;
      case 'upload.done': this.uploads.done += 1; break;
      case 'upload.failed': this.uploads.failed += 1; break;
      case 'agent.error': this.errors += 1; break;
    }
  }
}

export class AgentCountersCollector extends BatchCollector {
  readonly name = 'agent-counters';

  constructor(fail: (collector: string, err: unknown) => void, private readonly tallies: AgentTallies) {
    super(fail);
  }

  protected register(meter: Meter): () => void {
    const alerts = meter.createObservableCounter(METRIC.alerts, { unit: '{alert}', description: 'Alerts raised (leak.detected, memory.spike).' });
    const snapshots = meter.createObservableCounter(METRIC.snapshots, { unit: '{snapshot}', description: 'Heap snapshots written or skipped by the safety gate.' });
    const uploads = meter.createObservableCounter(METRIC.uploads, { unit: '{upload}', description: 'Evidence uploads that succeeded or failed.' });
    const errors = meter.createObservableCounter(METRIC.errors, { unit: '{error}', description: 'agent.error log lines.' });
    const exportFailures = meter.createObservableCounter(METRIC.exportFailures, { unit: '{export}', description: 'Failed OTLP exports of the agent\'s own telemetry.' });
    const t = this.tallies;
    return observeBatch(meter, this.name, [alerts, snapshots, uploads, errors, exportFailures], this.fail, (result) => {
      for (const [key, value] of t.alerts) {
        const [kind, memory] = key.split('/');
        result.observe(alerts, value, { [ATTR.alertKind]: kind as string, [ATTR.memory]: memory as string });
      }
      result.observe(snapshots, t.snapshots.written, { [ATTR.outcome]: 'written' });
      result.observe(snapshots, t.snapshots.skipped, { [ATTR.outcome]: 'skipped' });
      result.observe(uploads, t.uploads.done, { [ATTR.outcome]: 'done' });
      result.observe(uploads, t.uploads.failed, { [ATTR.outcome]: 'failed' });
      result.observe(errors, t.errors);
      result.observe(exportFailures, t.exportFailures.metrics, { [ATTR.signal]: 'metrics' });
      result.observe(exportFailures, t.exportFailures.logs, { [ATTR.signal]: 'logs' });
    });
  }
}
