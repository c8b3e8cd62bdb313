/**
 * The optional Prometheus pull endpoint, scraped by a real Prometheus server (Debian's package;
 * CI installs it, see .ci/run) every second; the heap series comes back through PromQL.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { killChild, startChild, type Child } from './helpers/child';
import { waitFor } from './helpers/otlp-receiver';
import { freePort, prometheusBinary, PrometheusServer } from './helpers/prometheus-server';

const bin = prometheusBinary();
if (!bin) console.log('skipping the Prometheus test: no `prometheus` binary on PATH (apt-get install -y --no-install-recommends prometheus)');

let child: Child | undefined;
const server = new PrometheusServer();
afterAll(async () => {
  killChild(child);
  await server.stop();
});

describe('Prometheus pull endpoint', () => {
  it.skipIf(!bin)('a real Prometheus scrapes the agent and answers PromQL with the heap series', async () => {
    const port = await freePort();
    child = startChild('retain-and-report.js', { LEAK_AGENT_PROMETHEUS: String(port) }, ['--expose-gc']);
    await waitFor(() => child!.log.find((l) => l.event === 'telemetry.prometheus'), 'the pull endpoint to listen');
    expect(child.log.find((l) => l.event === 'telemetry.prometheus')).toMatchObject({ url: `http://127.0.0.1:${port}/metrics` });
    await server.start(bin!, `127.0.0.1:${port}`);

    const query = 'v8js_memory_heap_used{job="leak-agent",v8js_heap_space_name="old_space"}';
    let series: Awaited<ReturnType<PrometheusServer['query']>> = [];
    const deadline = Date.now() + 30_000;
    while (series.length === 0 && Date.now() < deadline) {
      series = await server.query(query);
      if (series.length === 0) await new Promise((r) => setTimeout(r, 250));
    }
    expect(series, server.output.slice(-2000)).toHaveLength(1);
    expect(series[0]!.metric).toMatchObject({ job: 'leak-agent', instance: `127.0.0.1:${port}`, v8js_heap_space_name: 'old_space', otel_scope_name: 'leak-agent' });
    const scraped = Number(series[0]!.value[1]);
    const measured = (child.out.filter((l) => typeof l.oldSpaceUsed === 'number').pop() as { oldSpaceUsed: number }).oldSpaceUsed;
    expect(Math.abs(scraped - measured) / measured).toBeLessThan(0.05);

    // The other families are there too, under the same job.
    const spaces = await server.query('count(v8js_memory_heap_used{job="leak-agent"})');
    expect(Number(spaces[0]?.value[1])).toBeGreaterThanOrEqual(4);
    const limit = await server.query('leak_agent_memory_heap_limit{job="leak-agent"}');
    expect(Number(limit[0]?.value[1])).toBeGreaterThan(scraped);
    const gc = await server.query('sum(v8js_gc_duration_count{job="leak-agent"})');
    expect(Number(gc[0]?.value[1])).toBeGreaterThan(0);

    child.send({ cmd: 'stop' });
    expect((await child.exited).code).toBe(0);
  });

  it.skipIf(!bin)('on IPv6 loopback ([::1]:port) a real Prometheus scrapes it too', async () => {
    const port = await freePort();
    child = startChild('retain-and-report.js', { LEAK_AGENT_PROMETHEUS: `[::1]:${port}` });
    const listening = await waitFor(() => child!.log.find((l) => l.event === 'telemetry.prometheus'), 'the pull endpoint to listen');
    expect(listening).toMatchObject({ url: `http://[::1]:${port}/metrics` });
    expect(child.log.find((l) => l.event === 'telemetry.started')).toMatchObject({ metrics: [`prometheus [::1]:${port}`] });
    const direct = await fetch(`http://[::1]:${port}/metrics`);
    expect(direct.status).toBe(200);
    // Its own server, stopped here: the shared one may still be running for another test.
    const v6 = new PrometheusServer();
    try {
      await v6.start(bin!, `[::1]:${port}`);
      let series: Awaited<ReturnType<PrometheusServer['query']>> = [];
      const deadline = Date.now() + 30_000;
      while (series.length === 0 && Date.now() < deadline) {
        series = await v6.query('v8js_memory_heap_used{job="leak-agent",v8js_heap_space_name="old_space"}');
        if (series.length === 0) await new Promise((r) => setTimeout(r, 250));
      }
      expect(series, v6.output.slice(-2000)).toHaveLength(1);
      expect(series[0]!.metric.instance).toBe(`[::1]:${port}`);
    } finally {
      await v6.stop();
    }
    child.send({ cmd: 'stop' });
    expect((await child.exited).code).toBe(0);
  });

  it('/metrics answers GET and HEAD only; other methods get 405 with Allow, other paths 404', async () => {
    const port = await freePort();
    const c = startChild('retain-and-report.js', { LEAK_AGENT_PROMETHEUS: String(port) });
    child = c;
    await waitFor(() => c.log.find((l) => l.event === 'telemetry.prometheus'), 'the pull endpoint to listen');
    const url = `http://127.0.0.1:${port}/metrics`;
    const get = await fetch(url);
    expect(get.status).toBe(200);
    expect(await get.text()).toContain('v8js_memory_heap_used');
    const head = await fetch(url, { method: 'HEAD' });
    expect(head.status).toBe(200);
    expect(await head.text()).toBe('');
    for (const method of ['POST', 'PUT', 'DELETE', 'PATCH']) {
      const res = await fetch(url, { method, body: method === 'DELETE' ? undefined : 'x' });
      expect(res.status, method).toBe(405);
      expect(res.headers.get('allow')).toBe('GET, HEAD');
    }
    expect((await fetch(`http://127.0.0.1:${port}/other`)).status).toBe(404);
    expect((await fetch(`http://127.0.0.1:${port}/metrics?x=1`)).status).toBe(200);
    c.send({ cmd: 'stop' });
    expect((await c.exited).code).toBe(0);
  });

  it('a port already taken: one clear agent.error line, the agent keeps running', async () => {
    const net = await import('node:net');
    const blocker = net.createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    const port = (blocker.address() as import('node:net').AddressInfo).port;
    try {
      const busy = startChild('retain-and-report.js', { LEAK_AGENT_PROMETHEUS: `127.0.0.1:${port}` });
      child = busy;
      const error = await waitFor(() => busy.log.find((l) => l.event === 'agent.error' && l.variable === 'LEAK_AGENT_PROMETHEUS'), 'the agent.error line');
      expect(String(error.message)).toMatch(new RegExp(`127\\.0\\.0\\.1:${port}.*EADDRINUSE`));
      const before = busy.out.length;
      await waitFor(() => (busy.out.length >= before + 5 ? true : undefined), 'the child to keep working');
      busy.send({ cmd: 'stop' });
      expect((await busy.exited).code).toBe(0);
      expect(busy.log.filter((l) => l.event === 'agent.error')).toHaveLength(1);
    } finally {
      await new Promise<void>((resolve) => blocker.close(() => resolve()));
    }
  });

  it('with worker threads, only the main thread serves the endpoint; workers say why they do not', async () => {
    const port = await freePort();
    const c = startChild('with-worker.js', { LEAK_AGENT_PROMETHEUS: String(port) });
    child = c;
    expect((await c.exited).code).toBe(0);
    const result = c.out.find((l) => 'main' in l) as { main: { metrics: string[] }; worker: { metrics: string[] } };
    expect(result.main.metrics).toEqual([`prometheus 127.0.0.1:${port}`]);
    expect(result.worker.metrics).toEqual([]);
    expect(c.log.filter((l) => l.event === 'telemetry.prometheus_skipped')).toHaveLength(1);
    expect(c.log.filter((l) => l.event === 'agent.error')).toEqual([]);
  });
});
