/**
 * Every metric name, unit and attribute key the agent emits, in one place (the table in docs/telemetry.md is
 * written from this file). `v8js.*` and `nodejs.*` follow the OpenTelemetry semantic conventions
 * (status Development; checked against the V8 JS and Node.js runtime pages: heap figures are
 * UpDownCounters in By, v8js.gc.duration is a Histogram in s with advised buckets
 * [0.01, 0.1, 1, 10], event-loop figures are Gauges). What the conventions lack lives under
 * `leak_agent.*`.
 */

export const METER_NAME = 'leak-agent';

/** Advised explicit bucket boundaries for v8js.gc.duration (seconds). */
export const GC_DURATION_BUCKETS = [0.01, 0.1, 1, 10];

export const ATTR = {
  heapSpace: 'v8js.heap.space.name',
  gcType: 'v8js.gc.type',
  eventLoopState: 'nodejs.eventloop.state',
  /** Which memory series a detector figure is about: old_space | external | native. */
  memory: 'leak_agent.memory',
  detectorState: 'leak_agent.detector.state',
  alertKind: 'leak_agent.alert.kind',
  outcome: 'leak_agent.outcome',
  signal: 'leak_agent.signal',
  /** Which memory pressure signal: heap | container | growth | full_gc_rate | gc_time | time_to_oom | critical. */
  pressureSignal: 'leak_agent.pressure.signal',
} as const;

export const METRIC = {
  // semantic conventions: V8
  heapUsed: 'v8js.memory.heap.used',
  heapSpaceSize: 'v8js.memory.heap.space.size',
  heapSpaceAvailable: 'v8js.memory.heap.space.available_size',
  heapSpacePhysical: 'v8js.memory.heap.space.physical_size',
  gcDuration: 'v8js.gc.duration',
  // semantic conventions: Node.js event loop
  eventLoopDelayPrefix: 'nodejs.eventloop.delay.',
  eventLoopUtilization: 'nodejs.eventloop.utilization',
  eventLoopTime: 'nodejs.eventloop.time',
  // own namespace: process and container memory
  heapLimit: 'leak_agent.memory.heap.limit',
  external: 'leak_agent.memory.external',
  arrayBuffers: 'leak_agent.memory.array_buffers',
  rss: 'leak_agent.memory.rss',
  containerLimit: 'leak_agent.container.memory.limit',
  containerUsage: 'leak_agent.container.memory.usage',
  // own namespace: detector
  detectorState: 'leak_agent.detector.state',
  growthRate: 'leak_agent.memory.growth_rate',
  timeToLimit: 'leak_agent.memory.time_to_limit',
  // own namespace: memory pressure (src/pressure)
  pressureActive: 'leak_agent.pressure.active',
  pressureValue: 'leak_agent.pressure.value',
  // own namespace: what the agent did
  alerts: 'leak_agent.alerts',
  snapshots: 'leak_agent.snapshots',
  uploads: 'leak_agent.uploads',
  errors: 'leak_agent.errors',
  exportFailures: 'leak_agent.telemetry.export.failures',
} as const;

/** Detector states, fixed so the state-set gauge has bounded cardinality (series × states). */
export const DETECTOR_STATES = ['warming-up', 'steady', 'suspect', 'leak', 'plateau'] as const;
export const MEMORY_SERIES = ['old_space', 'external', 'native'] as const;
