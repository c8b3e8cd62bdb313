/**
 * End to end through a real OTLP receiver on loopback: a child process with the agent preloaded
 * exports over http/json and http/protobuf; the receiver decodes the wire format (OTLP JSON mapping,
 * or protobuf with the OTLP proto definitions) and the test checks names, instruments, units,
 * attributes and values against what the child itself measured.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { killChild, REPO, startChild, type Child } from './helpers/child';
import { OtlpReceiver, waitFor, type ReceivedMetric } from './helpers/otlp-receiver';

const PROTOCOLS = ['http/json', 'http/protobuf'] as const;

let child: Child | undefined;
let receivers: OtlpReceiver[] = [];
afterEach(async () => {
  killChild(child);
  child = undefined;
  for (const r of receivers) await r.stop();
  receivers = [];
});

async function receiver(): Promise<OtlpReceiver> {
  const r = new OtlpReceiver();
  await r.start();
  receivers.push(r);
  return r;
}

/** The newest export's metric of this name. */
function latest(r: OtlpReceiver, name: string): ReceivedMetric | undefined {
  const all = r.named(name);
  return all[all.length - 1];
}

function point(m: ReceivedMetric | undefined, attrs: Record<string, unknown> = {}) {
  return m?.points.find((p) => Object.entries(attrs).every(([k, v]) => p.attributes[k] === v));
}

describe.each(PROTOCOLS)('OTLP metrics over %s', (protocol) => {
  it('arrive with the conventions\' names, units and attributes, and the child\'s own values', async () => {
    const r = await receiver();
    child = startChild('retain-and-report.js', {
      OTEL_EXPORTER_OTLP_ENDPOINT: r.url,
      OTEL_EXPORTER_OTLP_PROTOCOL: protocol,
      OTEL_METRIC_EXPORT_INTERVAL: '400',
      OTEL_SERVICE_NAME: 'checkout',
      OTEL_RESOURCE_ATTRIBUTES: 'deployment.environment.name=test,team=payments%20core',
    }, ['--expose-gc']);

    // Several exports after the child settled, so the comparison is against a quiet heap.
    await waitFor(() => (r.named('v8js.memory.heap.used').length >= 4 && child!.out.length >= 5 ? true : undefined), 'four metric exports');
    child.send({ cmd: 'stop' });
    const done = await waitFor(() => child!.out.find((l) => l.stopped), 'the child to stop');
    expect((await child.exited).code).toBe(0);

    const wanted = protocol === 'http/json' ? 'application/json' : 'application/x-protobuf';
    expect(r.requests.length).toBeGreaterThan(0);
    for (const req of r.requests) expect(req.contentType).toContain(wanted);

    // v8js.memory.heap.* — UpDownCounters (non-monotonic sums) in By per v8js.heap.space.name.
    const used = latest(r, 'v8js.memory.heap.used')!;
    expect(used).toMatchObject({ kind: 'sum', monotonic: false, unit: 'By', scope: 'leak-agent' });
    const spaces = used.points.map((p) => p.attributes['v8js.heap.space.name']);
    expect(spaces).toContain('old_space');
    expect(spaces).toContain('new_space');
    for (const name of ['v8js.memory.heap.space.size', 'v8js.memory.heap.space.available_size', 'v8js.memory.heap.space.physical_size']) {
      const m = latest(r, name)!;
      expect(m, name).toMatchObject({ kind: 'sum', monotonic: false, unit: 'By' });
      expect(m.points.map((p) => p.attributes['v8js.heap.space.name']).sort()).toEqual([...spaces].sort());
    }

    // old_space used matches what the child measured itself (its heap is idle after retaining ~30 MB).
    const reports = child.out.filter((l) => typeof l.oldSpaceUsed === 'number') as { t: number; oldSpaceUsed: number }[];
    const exported = r.named('v8js.memory.heap.used').slice(-3).map((m) => point(m, { 'v8js.heap.space.name': 'old_space' })!.value);
    const measured = reports.slice(-5).map((l) => l.oldSpaceUsed);
    expect(Math.min(...measured)).toBeGreaterThan(20 * 1048576);
    const mid = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;
    expect(Math.abs(mid(exported) - mid(measured)) / mid(measured)).toBeLessThan(0.03);

    // v8js.gc.duration: histogram in s, advised buckets, well-known gc types; every sampled GC counted.
    const gc = latest(r, 'v8js.gc.duration')!;
    expect(gc).toMatchObject({ kind: 'histogram', unit: 's' });
    for (const p of gc.points) {
      expect(['major', 'minor', 'incremental', 'weakcb']).toContain(p.attributes['v8js.gc.type']);
      expect(p.explicitBounds).toEqual([0.01, 0.1, 1, 10]);
    }
    const status = done.status as { records: number; dropped: number };
    const gcCount = gc.points.reduce((s, p) => s + (p.count ?? 0), 0);
    expect(gcCount).toBe(status.records);
    expect(gcCount).toBeGreaterThan(0);
    expect(point(gc, { 'v8js.gc.type': 'major' })?.count).toBeGreaterThanOrEqual(2); // the child's two global.gc() calls

    // Event loop (Gauges: delay in s, utilization in 1) and time (Counter, s, per state).
    for (const q of ['min', 'max', 'mean', 'stddev', 'p50', 'p90', 'p99']) {
      expect(latest(r, `nodejs.eventloop.delay.${q}`), q).toMatchObject({ kind: 'gauge', unit: 's' });
    }
    const elu = latest(r, 'nodejs.eventloop.utilization')!;
    expect(elu).toMatchObject({ kind: 'gauge', unit: '1' });
    expect(elu.points[0]!.value).toBeGreaterThanOrEqual(0);
    expect(elu.points[0]!.value).toBeLessThanOrEqual(1);
    const loopTime = latest(r, 'nodejs.eventloop.time')!;
    expect(loopTime).toMatchObject({ kind: 'sum', monotonic: true, unit: 's' });
    expect(loopTime.points.map((p) => p.attributes['nodejs.eventloop.state']).sort()).toEqual(['active', 'idle']);

    // Own namespace.
    for (const name of ['leak_agent.memory.heap.limit', 'leak_agent.memory.external', 'leak_agent.memory.array_buffers', 'leak_agent.memory.rss']) {
      const m = latest(r, name)!;
      expect(m, name).toMatchObject({ kind: 'sum', monotonic: false, unit: 'By' });
      expect(m.points[0]!.value, name).toBeGreaterThan(0);
    }
    const heapLimit = point(latest(r, 'leak_agent.memory.heap.limit'))!.value;
    expect(heapLimit).toBeGreaterThan(used.points.reduce((s, p) => s + p.value, 0));
    const snapshots = latest(r, 'leak_agent.snapshots')!;
    expect(snapshots).toMatchObject({ kind: 'sum', monotonic: true, unit: '{snapshot}' });
    expect(snapshots.points.map((p) => p.attributes['leak_agent.outcome']).sort()).toEqual(['skipped', 'written']);

    // Resource from OTEL_SERVICE_NAME / OTEL_RESOURCE_ATTRIBUTES.
    expect(used.resource).toMatchObject({
      'service.name': 'checkout',
      'deployment.environment.name': 'test',
      'team': 'payments core',
      'process.pid': child.proc.pid,
    });
  });
});

describe.each(PROTOCOLS)('alert log records over %s', (protocol) => {
  it('a leak verdict arrives as a leak.detected record carrying the evidence URIs; a spike as memory.spike', async () => {
    const r = await receiver();
    child = startChild('emit-verdict.js', {
      OTEL_EXPORTER_OTLP_ENDPOINT: r.url,
      OTEL_EXPORTER_OTLP_PROTOCOL: protocol,
      OTEL_SERVICE_NAME: 'checkout',
      LEAK_AGENT_ENABLED: 'false', // the facade is driven by hand in this child
    });
    const { code } = await child.exited;
    expect(code).toBe(0);
    const leak = r.logs.find((l) => l.attributes['event.name'] === 'leak.detected');
    expect(leak, child.stderr()).toBeDefined();
    expect(leak).toMatchObject({ severityText: 'WARN', severityNumber: 13 });
    if (protocol === 'http/json') expect(leak!.eventName).toBe('leak.detected');
    expect(leak!.attributes).toMatchObject({
      'leak_agent.memory': 'old_space',
      'leak_agent.episode.id': 'ep-test-1',
      'leak_agent.growth.bytes_per_sec': 524288,
      'leak_agent.p_value': 0.0004,
      'leak_agent.memory.limit_source': 'heap',
      'leak_agent.time_to_limit.sec': 624,
      'leak_agent.evidence.uris': ['s3://evidence/svc/ep-test-1/after.heapsnapshot', 's3://evidence/svc/ep-test-1/profile.heapprofile'],
      'leak_agent.evidence.paths': ['/tmp/la/ep-test-1/after.heapsnapshot', '/tmp/la/ep-test-1/profile.heapprofile'],
    });
    expect(String(leak!.body)).toContain('old_space');
    expect(leak!.resource['service.name']).toBe('checkout');
    const spike = r.logs.find((l) => l.attributes['event.name'] === 'memory.spike');
    expect(spike?.attributes).toMatchObject({ 'leak_agent.memory': 'external', 'leak_agent.spike.size_bytes': 64 * 1048576 });
  });
});

const detectorPresent = fs.readdirSync(path.join(REPO, 'src', 'detect')).some((f) => f !== 'verdict.ts');

describe('alert from the real detector', () => {
  it.skipIf(!detectorPresent)('a leaking child with a short window sends leak.detected to the receiver', async () => {
    const r = await receiver();
    child = startChild('leak.js', {
      OTEL_EXPORTER_OTLP_ENDPOINT: r.url,
      OTEL_EXPORTER_OTLP_PROTOCOL: 'http/protobuf',
      OTEL_METRIC_EXPORT_INTERVAL: '1000',
      LEAK_AGENT_WINDOW: '10s',
      LEAK_AGENT_SNAPSHOTS: 'off',
    }, ['--max-old-space-size=512']);
    const leak = await waitFor(() => r.logs.find((l) => l.attributes['event.name'] === 'leak.detected'), 'a leak.detected log record', 100_000);
    expect(leak.attributes['leak_agent.memory']).toBe('old_space');
    expect(Number(leak.attributes['leak_agent.growth.bytes_per_sec'])).toBeGreaterThan(0);
    const alerts = await waitFor(() => point(latest(r, 'leak_agent.alerts'), { 'leak_agent.alert.kind': 'leak' }), 'the alert counter');
    expect(alerts.value).toBeGreaterThanOrEqual(1);
    child.send({ cmd: 'stop' });
    expect((await child.exited).code).toBe(0);
  }, 120_000);
});

describe('provider handling', () => {
  it('uses the application\'s global MeterProvider and builds no private one, even with an OTLP endpoint set', async () => {
    const app = await receiver();
    const env = await receiver();
    child = startChild('app-with-sdk.js', {
      APP_OTLP_URL: `${app.url}/v1/metrics`,
      OTEL_EXPORTER_OTLP_ENDPOINT: env.url, // would be the agent's private target; must stay unused
      OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
      OTEL_METRIC_EXPORT_INTERVAL: '300',
    });
    const used = await waitFor(() => app.named('v8js.memory.heap.used').find((m) => m.scope === 'leak-agent'), 'agent metrics on the app provider');
    expect(used.resource['service.name']).toBe('app-own');
    expect(app.named('app.requests').length).toBeGreaterThan(0);
    await waitFor(() => (app.named('v8js.memory.heap.used').length >= 3 ? true : undefined), 'more app exports');
    child.send({ cmd: 'stop' });
    expect((await child.exited).code).toBe(0);
    expect(env.requests).toEqual([]);
    const started = child.log.find((l) => l.event === 'telemetry.started');
    expect(started).toMatchObject({ metrics: ['global MeterProvider'] });
  });

  it('with no endpoint configured loads no OpenTelemetry module and opens no socket', async () => {
    child = startChild('retain-and-report.js', {});
    await waitFor(() => (child!.out.length >= 12 ? true : undefined), 'two and a half seconds of reports');
    child.send({ cmd: 'stop' });
    const done = await waitFor(() => child!.out.find((l) => l.stopped), 'the child to stop');
    expect(done.loaded).toBe(0);
    expect(child.log.some((l) => l.event === 'telemetry.started')).toBe(false);
    expect((done.status as { telemetry: unknown }).telemetry).toEqual({ metrics: [], logs: undefined });
  });

  it('OTEL_SDK_DISABLED=true builds nothing and says so once', async () => {
    const r = await receiver();
    child = startChild('retain-and-report.js', { OTEL_SDK_DISABLED: 'true', OTEL_EXPORTER_OTLP_ENDPOINT: r.url, OTEL_METRIC_EXPORT_INTERVAL: '200' });
    await waitFor(() => (child!.out.length >= 10 ? true : undefined), 'two seconds of reports');
    child.send({ cmd: 'stop' });
    const done = await waitFor(() => child!.out.find((l) => l.stopped), 'the child to stop');
    expect(done.loaded).toBe(0);
    expect(r.requests).toEqual([]);
    expect(child.log.filter((l) => l.event === 'telemetry.disabled')).toHaveLength(1);
  });
});
