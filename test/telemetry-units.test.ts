/**
 * The pure parts of telemetry (configuration from the environment, alert records, the detector
 * view) and the facade in-process against a real SDK MeterProvider registered globally, the way an
 * application would.
 */
import { metrics } from '@opentelemetry/api';
import { AggregationTemporality, InMemoryMetricExporter, MeterProvider, PeriodicExportingMetricReader, type ResourceMetrics } from '@opentelemetry/sdk-metrics';
import { describe, expect, it } from 'vitest';
import { readConfig } from '../src/config/env';
import { parsePrometheusAddress, readTelemetryConfig } from '../src/config/telemetry-env';
import type { LeakVerdict } from '../src/detect/verdict';
import { readProcessMemory } from '../src/process/memory';
import { AgentTallies } from '../src/telemetry/agent-counters';
import { alertRecord } from '../src/telemetry/alert-records';
import { readDetectorSeries } from '../src/telemetry/detector-view';
import { gcType } from '../src/telemetry/gc-collector';
import { Telemetry } from '../src/telemetry/telemetry';

function read(env: Record<string, string>) {
  const problems: string[] = [];
  const config = readTelemetryConfig(env, (variable) => problems.push(variable));
  return { config, problems };
}

describe('telemetry configuration from the environment', () => {
  it('configures nothing by default: no OTLP target, no Prometheus endpoint', () => {
    const { config, problems } = read({});
    expect(problems).toEqual([]);
    expect(config).toMatchObject({ sdkDisabled: false, metrics: undefined, logs: undefined, prometheus: undefined, exportIntervalMs: 60_000, exportTimeoutMs: 30_000 });
    expect(Object.isFrozen(config)).toBe(true);
  });

  it('derives signal URLs from OTEL_EXPORTER_OTLP_ENDPOINT and uses signal endpoints as given', () => {
    const { config } = read({
      OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318/',
      OTEL_EXPORTER_OTLP_LOGS_ENDPOINT: 'https://logs.example/ingest',
      OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
      OTEL_EXPORTER_OTLP_LOGS_PROTOCOL: 'http/protobuf',
      OTEL_EXPORTER_OTLP_HEADERS: 'authorization=Bearer%20abc,x-team=a',
      OTEL_EXPORTER_OTLP_METRICS_HEADERS: 'x-team=b',
    });
    expect(config.metrics).toEqual({ url: 'http://collector:4318/v1/metrics', protocol: 'http/json', headers: { authorization: 'Bearer abc', 'x-team': 'b' }, timeoutMs: 10_000, compression: 'none', tls: {} });
    expect(config.logs).toMatchObject({ url: 'https://logs.example/ingest', protocol: 'http/protobuf', headers: { authorization: 'Bearer abc', 'x-team': 'a' } });
  });

  it('reads interval, timeout (clamped to the interval), service name and resource attributes', () => {
    const { config, problems } = read({
      OTEL_METRIC_EXPORT_INTERVAL: '5000',
      OTEL_METRIC_EXPORT_TIMEOUT: '9000',
      OTEL_SERVICE_NAME: 'checkout',
      OTEL_RESOURCE_ATTRIBUTES: 'service.name=ignored,deployment.environment.name=prod',
    });
    expect(problems).toEqual([]);
    expect(config).toMatchObject({ exportIntervalMs: 5_000, exportTimeoutMs: 5_000, serviceName: 'checkout' });
    expect(config.resourceAttributes).toEqual({ 'service.name': 'ignored', 'deployment.environment.name': 'prod' });
  });

  it('names each bad value and keeps the safe default', () => {
    const { config, problems } = read({
      OTEL_EXPORTER_OTLP_ENDPOINT: 'collector:4318',
      OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc',
      OTEL_METRIC_EXPORT_INTERVAL: 'soon',
      OTEL_RESOURCE_ATTRIBUTES: 'novalue',
      OTEL_SDK_DISABLED: 'maybe',
      LEAK_AGENT_PROMETHEUS: 'port nine',
    });
    expect(problems.sort()).toEqual(['LEAK_AGENT_PROMETHEUS', 'OTEL_EXPORTER_OTLP_ENDPOINT', 'OTEL_METRIC_EXPORT_INTERVAL', 'OTEL_RESOURCE_ATTRIBUTES', 'OTEL_SDK_DISABLED']);
    expect(config).toMatchObject({ metrics: undefined, logs: undefined, exportIntervalMs: 60_000, prometheus: undefined, sdkDisabled: false });
    const grpc = read({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318', OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc' });
    expect(grpc.config.metrics?.protocol).toBe('http/protobuf');
    expect(grpc.problems).toEqual(['OTEL_EXPORTER_OTLP_PROTOCOL']); // once, though both signals read it
  });

  it('OTEL_METRICS_EXPORTER / OTEL_LOGS_EXPORTER = none switch a signal off; OTEL_SDK_DISABLED=true is read', () => {
    const { config } = read({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318', OTEL_LOGS_EXPORTER: 'none', OTEL_SDK_DISABLED: 'TRUE' });
    expect(config.metrics?.url).toBe('http://c:4318/v1/metrics');
    expect(config.logs).toBeUndefined();
    expect(config.sdkDisabled).toBe(true);
  });

  it('LEAK_AGENT_PROMETHEUS takes a port (loopback) or host:port', () => {
    expect(parsePrometheusAddress('9464')).toEqual({ host: '127.0.0.1', port: 9464 });
    expect(parsePrometheusAddress('0.0.0.0:9464')).toEqual({ host: '0.0.0.0', port: 9464 });
    expect(parsePrometheusAddress('[::1]:9464')).toEqual({ host: '::1', port: 9464 });
    for (const bad of ['', 'abc', '70000', '0', 'host:', ':9464']) expect(parsePrometheusAddress(bad), bad).toBeUndefined();
    expect(read({ LEAK_AGENT_PROMETHEUS: 'off' }).config.prometheus).toBeUndefined();
    expect(read({ LEAK_AGENT_PROMETHEUS: 'off' }).problems).toEqual([]);
  });

  it('LEAK_AGENT_PROMETHEUS=0 is refused with a line saying how to turn the endpoint off, not read as off in silence', () => {
    const { config, problems } = readConfig({ LEAK_AGENT_PROMETHEUS: '0' });
    expect(config.telemetry.prometheus).toBeUndefined();
    expect(problems).toEqual([expect.objectContaining({ variable: 'LEAK_AGENT_PROMETHEUS', value: '0', using: 'no Prometheus endpoint' })]);
    expect(problems[0]!.expected).toMatch(/off/);
  });

  it('an endpoint with a path or a query keeps both on the signal URL', () => {
    expect(read({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318/otlp/?tenant=a' }).config.metrics?.url).toBe('http://c:4318/otlp/v1/metrics?tenant=a');
  });

  it('a header value Node could not send (outside Latin-1) is refused at start', () => {
    const { config, problems } = read({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318', OTEL_EXPORTER_OTLP_HEADERS: 'x-cost=%E2%82%AC' });
    expect(problems).toEqual(['OTEL_EXPORTER_OTLP_HEADERS']);
    expect(config.metrics?.headers).toEqual({});
  });

  it('every interval and timeout has an upper bound', () => {
    const { config, problems } = read({ OTEL_METRIC_EXPORT_INTERVAL: '99999999999999999999', OTEL_EXPORTER_OTLP_TIMEOUT: '86400000', OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318' });
    expect(problems.sort()).toEqual(['OTEL_EXPORTER_OTLP_TIMEOUT', 'OTEL_METRIC_EXPORT_INTERVAL']);
    expect(config.exportIntervalMs).toBe(60_000);
    expect(config.metrics?.timeoutMs).toBe(10_000);
  });

  it('is part of the agent configuration, and its problems are reported like the others', () => {
    const { config, problems } = readConfig({ OTEL_METRIC_EXPORT_INTERVAL: '-1', LEAK_AGENT_PROMETHEUS: '9464' });
    expect(config.telemetry.prometheus).toEqual({ host: '127.0.0.1', port: 9464 });
    expect(problems).toEqual([expect.objectContaining({ variable: 'OTEL_METRIC_EXPORT_INTERVAL', value: '-1', using: '60000' })]);
  });
});

const LEAK: LeakVerdict = {
  kind: 'leak', memory: 'old_space', episodeId: 'e1', detectedAt: Date.UTC(2026, 0, 1),
  growthBytesPerSec: 1048576, growthLowerBytesPerSec: 900000, growthUpperBytesPerSec: 1200000, confidence: 0.95,
  pValue: 0.001, windowMs: 1_800_000, points: 60, currentBytes: 300 * 1048576, limitBytes: 500 * 1048576,
  limitSource: 'container', timeToLimitSec: null, timeToLimitLowerSec: null, timeToLimitUpperSec: null,
};

describe('alert records', () => {
  it('carry the verdict and the evidence locations; absent figures are left out, not zero', () => {
    const rec = alertRecord(LEAK, [{ path: '/d/a.heapsnapshot' }, { path: '/d/b.heapprofile', uri: 's3://b/p/b.heapprofile' }]);
    expect(rec).toMatchObject({ eventName: 'leak.detected', severityNumber: 13, severityText: 'WARN' });
    expect(rec.attributes).toMatchObject({
      'event.name': 'leak.detected',
      'leak_agent.memory.limit_source': 'container',
      'leak_agent.detected_at': '2026-01-01T00:00:00.000Z',
      'leak_agent.evidence.uris': ['s3://b/p/b.heapprofile'],
      'leak_agent.evidence.paths': ['/d/a.heapsnapshot', '/d/b.heapprofile'],
    });
    expect(rec.attributes).not.toHaveProperty('leak_agent.time_to_limit.sec');
    expect(rec.body).toBe('memory leak: old_space grows 1.0 MiB/s (p=0.0010), now 300.0 MiB of 500.0 MiB');
    const end = alertRecord({ kind: 'episode-end', memory: 'old_space', episodeId: 'e1', endedAt: 0, reason: 'growth stopped' });
    expect(end).toMatchObject({ eventName: 'episode.ended', severityText: 'INFO' });
    expect(end.attributes).not.toHaveProperty('leak_agent.evidence.uris');
  });
});

describe('detector view', () => {
  it('reads the per-series shapes the detector may report and ignores what it does not know', () => {
    expect(readDetectorSeries(undefined)).toEqual([]);
    expect(readDetectorSeries({ gcs: 3 })).toEqual([]);
    expect(readDetectorSeries({ detector: { series: [
      { memory: 'old_space', state: 'leak', growthBytesPerSec: 10, timeToLimitSec: 20 },
      { memory: 'heap_of_doom', state: 'leak' },
      { memory: 'external', state: 'exploding' },
    ] } })).toEqual([{ memory: 'old_space', state: 'leak', growthBytesPerSec: 10, timeToLimitSec: 20 }]);
    expect(readDetectorSeries({ series: { external: { state: 'steady', growthBytesPerSec: Infinity } } }))
      .toEqual([{ memory: 'external', state: 'steady', growthBytesPerSec: undefined, timeToLimitSec: undefined }]);
    // The detector's own SeriesStatus shape: slope, current use and limit; time to limit derived from them.
    expect(readDetectorSeries({ detector: { series: {
      old_space: { memory: 'old_space', state: 'suspect', slopeBytesPerSec: 1000, currentBytes: 1_000_000, limitBytes: 4_600_000, pValue: 0.2 },
      native: { memory: 'native', state: 'steady', slopeBytesPerSec: -5, currentBytes: 10, limitBytes: 20 },
      external: { memory: 'external', state: 'warming-up', slopeBytesPerSec: null, currentBytes: null, limitBytes: null },
    } } })).toEqual([
      { memory: 'old_space', state: 'suspect', growthBytesPerSec: 1000, timeToLimitSec: 3600 },
      { memory: 'native', state: 'steady', growthBytesPerSec: -5, timeToLimitSec: undefined },
      { memory: 'external', state: 'warming-up', growthBytesPerSec: undefined, timeToLimitSec: undefined },
    ]);
  });
});

describe('counters and gc types', () => {
  it('map sampler kinds to the convention\'s gc types and keep alert attributes bounded', () => {
    expect(['scavenge', 'minor-mark-sweep', 'mark-sweep-compact', 'incremental-marking', 'weak-callbacks'].map((k) => gcType(k as never)))
      .toEqual(['minor', 'minor', 'major', 'incremental', 'weakcb']);
    const t = new AgentTallies();
    t.alert('leak', 'old_space');
    t.alert('leak', 'something-new');
    t.alert('leak', 'something-else');
    expect([...t.alerts]).toEqual([['leak/old_space', 1], ['leak/other', 2]]);
  });
});

describe('the facade on an application\'s global MeterProvider (in-process, real SDK)', () => {
  it('binds to it, reports detector state as a state set, and counts what the agent log says', async () => {
    const exporter = new InMemoryMetricExporter(AggregationTemporality.CUMULATIVE);
    const reader = new PeriodicExportingMetricReader({ exporter, exportIntervalMillis: 60_000 });
    const provider = new MeterProvider({ readers: [reader] });
    metrics.setGlobalMeterProvider(provider);
    try {
      const lines: string[] = [];
      const logger = { log: (event: string) => { lines.push(event); }, close() {} };
      const status = { detector: { series: [{ memory: 'old_space', state: 'suspect', growthBytesPerSec: 2048, timeToLimitSec: 7200 }] } };
      const { config } = readConfig({});
      const telemetry = new Telemetry(config.telemetry, { logger, status: () => status });
      const tapped = telemetry.tapLogger(logger);
      telemetry.onTick({
        records: [{ kind: 'mark-sweep-compact', startTime: Date.now(), duration: 12.5, after: {}, external: 0 }, { kind: 'scavenge', startTime: Date.now(), duration: 0.5, after: {}, external: 0 }],
        memory: readProcessMemory(),
        container: { version: 2, path: '/x', limit: 1 << 30, usage: 1 << 28, oomKills: 0, limitHits: 0 },
      });
      tapped.log('snapshot.written');
      tapped.log('snapshot.skipped');
      tapped.log('snapshot.skipped');
      tapped.log('upload.failed');
      telemetry.onVerdict(LEAK);
      expect(lines).toContain('telemetry.started');
      expect(telemetry.describe()).toEqual({ metrics: ['global MeterProvider'], logs: undefined });

      await reader.forceFlush();
      const exported = exporter.getMetrics() as ResourceMetrics[];
      const all = exported.flatMap((rm) => rm.scopeMetrics.flatMap((sm) => sm.metrics));
      const byName = (n: string) => all.filter((m) => m.descriptor.name === n).pop()!;
      const value = (n: string, attrs: Record<string, unknown>) =>
        byName(n).dataPoints.find((p) => Object.entries(attrs).every(([k, v]) => p.attributes[k] === v))?.value;

      const states = byName('leak_agent.detector.state').dataPoints;
      expect(states).toHaveLength(5);
      expect(states.filter((p) => p.value === 1).map((p) => p.attributes['leak_agent.detector.state'])).toEqual(['suspect']);
      expect(value('leak_agent.memory.growth_rate', { 'leak_agent.memory': 'old_space' })).toBe(2048);
      expect(value('leak_agent.memory.time_to_limit', { 'leak_agent.memory': 'old_space' })).toBe(7200);
      expect(value('leak_agent.snapshots', { 'leak_agent.outcome': 'skipped' })).toBe(2);
      expect(value('leak_agent.snapshots', { 'leak_agent.outcome': 'written' })).toBe(1);
      expect(value('leak_agent.uploads', { 'leak_agent.outcome': 'failed' })).toBe(1);
      expect(value('leak_agent.alerts', { 'leak_agent.alert.kind': 'leak', 'leak_agent.memory': 'old_space' })).toBe(1);
      expect(value('leak_agent.container.memory.limit', {})).toBe(1 << 30);
      const major = byName('v8js.gc.duration').dataPoints.find((p) => p.attributes['v8js.gc.type'] === 'major')!.value as { count: number; sum: number };
      expect(major).toMatchObject({ count: 1, sum: 0.0125 });

      await telemetry.stop();
    } finally {
      metrics.disable();
      await provider.shutdown();
    }
  });
});
