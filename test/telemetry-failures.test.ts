/**
 * A receiver that is down, answers errors, or answers too slowly: the agent keeps running and
 * reporting, its memory stays bounded, it does not crash, and the agent log carries exactly one
 * clear line per outage (plus one when the receiver is back).
 */
import * as net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { killChild, startChild, type Child, type Line } from './helpers/child';
import { OtlpReceiver, waitFor } from './helpers/otlp-receiver';

let child: Child | undefined;
let r: OtlpReceiver | undefined;
afterEach(async () => {
  killChild(child);
  child = undefined;
  await r?.stop();
  r = undefined;
});

/** A loopback port nothing listens on. */
async function closedPort(): Promise<number> {
  const s = net.createServer();
  await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve));
  const port = (s.address() as net.AddressInfo).port;
  await new Promise<void>((resolve) => s.close(() => resolve()));
  return port;
}

const events = (c: Child, event: string): Line[] => c.log.filter((l) => l.event === event);
const reportsAfter = (c: Child, n: number) => () => (c.out.filter((l) => 'oldSpaceUsed' in l).length >= n ? true : undefined);

async function stopCleanly(c: Child): Promise<Line> {
  c.send({ cmd: 'stop' });
  const done = await waitFor(() => c.out.find((l) => l.stopped), 'the child to stop', 30_000);
  expect((await c.exited).code).toBe(0);
  return done;
}

describe('OTLP receiver trouble', () => {
  it('receiver down: one clear log line, the agent keeps running and counts the failures', async () => {
    const port = await closedPort();
    child = startChild('retain-and-report.js', {
      OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${port}`,
      OTEL_EXPORTER_OTLP_TIMEOUT: '300', // the exporter retries within this deadline
      OTEL_METRIC_EXPORT_INTERVAL: '100',
    });
    await waitFor(() => events(child!, 'telemetry.export_failed')[0], 'telemetry.export_failed');
    const before = child.out.length;
    await waitFor(reportsAfter(child, before + 10), 'two more seconds of the child working');
    const failed = events(child, 'telemetry.export_failed');
    expect(failed).toHaveLength(1);
    expect(failed[0]).toMatchObject({ signal: 'metrics', endpoint: `http://127.0.0.1:${port}/v1/metrics` });
    expect(String(failed[0]!.message)).toMatch(/ECONNREFUSED|connect/i);
    const done = await stopCleanly(child);
    expect((done.status as { running: boolean }).running).toBe(false);
    expect(child.log.filter((l) => l.event === 'agent.error')).toEqual([]);
  });

  it('receiver answering errors, then healthy again: one failure line, one recovery line, metrics flow again', async () => {
    r = new OtlpReceiver();
    await r.start();
    r.setMode({ kind: 'error', status: 503 });
    child = startChild('retain-and-report.js', {
      OTEL_EXPORTER_OTLP_ENDPOINT: r.url,
      OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
      OTEL_EXPORTER_OTLP_TIMEOUT: '300', // 503 is retryable: the exporter retries within this deadline
      OTEL_METRIC_EXPORT_INTERVAL: '100',
    });
    const failed = await waitFor(() => events(child!, 'telemetry.export_failed')[0], 'telemetry.export_failed');
    expect(String(failed.message)).toMatch(/HTTP 503.*retryable/);
    const before = child.out.length;
    await waitFor(reportsAfter(child, before + 5), 'another second of failing exports');
    r.setMode({ kind: 'ok' });
    const recovered = await waitFor(() => events(child!, 'telemetry.export_recovered')[0], 'telemetry.export_recovered');
    expect(Number(recovered.failedExports)).toBeGreaterThanOrEqual(3);
    await waitFor(() => (r!.named('leak_agent.telemetry.export.failures').length > 0 ? true : undefined), 'a successful export');
    const failures = r.named('leak_agent.telemetry.export.failures').pop()!;
    const metricsFailures = failures.points.find((p) => p.attributes['leak_agent.signal'] === 'metrics')!.value;
    expect(metricsFailures).toBeGreaterThanOrEqual(Number(recovered.failedExports));
    expect(events(child, 'telemetry.export_failed')).toHaveLength(1);
    await stopCleanly(child);
  });

  it('receiver too slow: exports time out, memory stays bounded, stop() still returns', async () => {
    r = new OtlpReceiver();
    await r.start();
    r.setMode({ kind: 'slow', delayMs: 5_000 });
    child = startChild('retain-and-report.js', {
      OTEL_EXPORTER_OTLP_ENDPOINT: r.url,
      OTEL_EXPORTER_OTLP_TIMEOUT: '200',
      OTEL_METRIC_EXPORT_INTERVAL: '100',
    }, ['--expose-gc']);
    await waitFor(() => events(child!, 'telemetry.export_failed')[0], 'telemetry.export_failed');
    // Heap after a full GC, early and after ~40 more timed-out exports: nothing may pile up.
    child.send({ cmd: 'gc' });
    const first = await waitFor(() => child!.out.filter((l) => l.gcDone)[0], 'first gc');
    const before = child.out.length;
    await waitFor(reportsAfter(child, before + 20), 'four more seconds of timed-out exports');
    child.send({ cmd: 'gc' });
    const second = await waitFor(() => child!.out.filter((l) => l.gcDone)[1], 'second gc');
    const growth = Number(second.heapUsed) - Number(first.heapUsed);
    expect(growth).toBeLessThan(2 * 1048576);
    expect(events(child, 'telemetry.export_failed')).toHaveLength(1);
    expect(String(events(child, 'telemetry.export_failed')[0]!.message)).toMatch(/time/i);
    await stopCleanly(child);
  });
});
