/**
 * v8js.gc.duration from the sampler's GcRecords. The policy hands every drained batch to telemetry,
 * so each GC the sampler saw is recorded exactly once (the histogram is not sampled from a timer).
 */
import type { Histogram, Meter } from '@opentelemetry/api';
import type { GcKind, GcRecord } from '../sampler/types';
import type { Collector } from './collector';
import { ATTR, GC_DURATION_BUCKETS, METRIC } from './names';

/** Sampler kinds → the convention's well-known v8js.gc.type values. */
const GC_TYPE: Record<GcKind, string> = {
  'scavenge': 'minor',
  'minor-mark-sweep': 'minor',
  'mark-sweep-compact': 'major',
  'incremental-marking': 'incremental',
  'weak-callbacks': 'weakcb',
};

/** Attribute objects built once: record() runs for every GC. */
const ATTRS: Record<GcKind, { [ATTR.gcType]: string }> = Object.fromEntries(
  Object.entries(GC_TYPE).map(([kind, type]) => [kind, Object.freeze({ [ATTR.gcType]: type })]),
) as Record<GcKind, { [ATTR.gcType]: string }>;

export function gcType(kind: GcKind): string {
  return GC_TYPE[kind] ?? 'major';
}

export class GcCollector implements Collector {
  readonly name = 'gc';
  private histograms: Histogram[] = [];

  enable(meter: Meter): void {
    this.histograms.push(meter.createHistogram(METRIC.gcDuration, {
      unit: 's',
      description: 'Garbage collection duration.',
      advice: { explicitBucketBoundaries: GC_DURATION_BUCKETS },
    }));
  }

  record(records: readonly GcRecord[]): void {
    if (this.histograms.length === 0) return;
    for (const r of records) {
      const attrs = ATTRS[r.kind] ?? ATTRS['mark-sweep-compact'];
      const seconds = r.duration / 1000;
      for (const h of this.histograms) h.record(seconds, attrs);
    }
  }

  disable(): void {
    this.histograms = [];
  }
}
