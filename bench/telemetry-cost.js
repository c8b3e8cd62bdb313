// bench/telemetry-cost.js — what telemetry costs the host process.
// Goal: a process that exports nothing pays nothing (no OpenTelemetry module loaded); with an OTLP
// endpoint, one collection of every agent metric stays well under 1 ms, recording a GC in the
// histogram costs a few microseconds at most (< 5 µs), and the SDK's fixed heap cost is a few MB.
// Run: npm run build && node bench/telemetry-cost.js   (plain JS against dist/)
'use strict';
const { spawn } = require('node:child_process');
const http = require('node:http');
const path = require('node:path');
const { performance } = require('node:perf_hooks');

const REPO = path.resolve(__dirname, '..');
const dist = (p) => path.join(REPO, 'dist', p);

/** Child with the agent preloaded; reports loaded @opentelemetry modules and heap after 3 s (after a full GC). */
function child(env) {
  const script = `
    setTimeout(() => {
      global.gc(); global.gc();
      const otel = Object.keys(require.cache).filter((k) => k.includes('@opentelemetry')).length;
      console.log(JSON.stringify({ otel, heapUsed: process.memoryUsage().heapUsed, rss: process.memoryUsage().rss }));
      require(${JSON.stringify(REPO)}).stop().then(() => process.exit(0));
    }, 3000);`;
  return new Promise((resolve) => {
    const clean = { ...process.env };
    for (const k of Object.keys(clean)) if (k.startsWith('OTEL_') || k.startsWith('LEAK_AGENT_')) delete clean[k];
    const p = spawn(process.execPath, ['--expose-gc', '-r', REPO, '-e', script], { env: { ...clean, LEAK_AGENT_LOG: '/dev/null', ...env } });
    let out = '';
    p.stdout.on('data', (d) => (out += d));
    p.on('close', () => resolve(JSON.parse(out.trim().split('\n').pop())));
  });
}

async function main() {
  // A sink that accepts OTLP requests and answers 200, so the exporting child does real exports.
  const sink = http.createServer((req, res) => { req.resume(); req.on('end', () => res.end('{}')); });
  await new Promise((r) => sink.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${sink.address().port}`;

  const runs = 3;
  const none = [];
  const otlp = [];
  for (let i = 0; i < runs; i++) {
    // side by side in the same run, alternating
    none.push(await child({}));
    otlp.push(await child({ OTEL_EXPORTER_OTLP_ENDPOINT: url, OTEL_METRIC_EXPORT_INTERVAL: '500' }));
  }
  sink.close();
  const med = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  const mb = (b) => (b / 1048576).toFixed(1) + ' MB';
  console.log(`no endpoint : @opentelemetry modules loaded = ${med(none.map((r) => r.otel))}, heapUsed ${mb(med(none.map((r) => r.heapUsed)))}, rss ${mb(med(none.map((r) => r.rss)))}`);
  console.log(`OTLP export : @opentelemetry modules loaded = ${med(otlp.map((r) => r.otel))}, heapUsed ${mb(med(otlp.map((r) => r.heapUsed)))}, rss ${mb(med(otlp.map((r) => r.rss)))}`);
  console.log(`SDK fixed cost (median of ${runs}): heapUsed +${mb(med(otlp.map((r) => r.heapUsed)) - med(none.map((r) => r.heapUsed)))}, rss +${mb(med(otlp.map((r) => r.rss)) - med(none.map((r) => r.rss)))}`);

  // In-process: the cost of one collection of every agent instrument, and of recording GCs.
  const { metrics } = require('@opentelemetry/api');
  const { MeterProvider, MetricReader } = require('@opentelemetry/sdk-metrics');
  class PullReader extends MetricReader { async onForceFlush() {} async onShutdown() {} }
  const reader = new PullReader();
  metrics.setGlobalMeterProvider(new MeterProvider({ readers: [reader] }));
  const { readConfig } = require(dist('config/env.js'));
  const { Telemetry } = require(dist('telemetry/telemetry.js'));
  const { readProcessMemory } = require(dist('process/memory.js'));
  const telemetry = new Telemetry(readConfig({}).config.telemetry, { logger: { log() {}, close() {} }, status: () => undefined });
  telemetry.onTick({ records: [], memory: readProcessMemory(), container: undefined });
  for (let i = 0; i < 50; i++) await reader.collect(); // warm-up
  const n = 1000;
  let t = performance.now();
  for (let i = 0; i < n; i++) await reader.collect();
  const collectUs = ((performance.now() - t) / n) * 1000;
  const records = Array.from({ length: 10_000 }, (_, i) => ({ kind: i % 10 === 0 ? 'mark-sweep-compact' : 'scavenge', startTime: 0, duration: 0.4 + (i % 7), after: {}, external: 0 }));
  t = performance.now();
  telemetry.onTick({ records, memory: readProcessMemory(), container: undefined });
  const recordNs = ((performance.now() - t) / records.length) * 1e6;
  console.log(`one collection of all agent metrics: ${collectUs.toFixed(1)} µs (mean of ${n})`);
  console.log(`recording one GC in v8js.gc.duration: ${recordNs.toFixed(0)} ns (mean of ${records.length})`);
  await telemetry.stop();
}

main().catch((err) => { console.error(err); process.exit(1); });
