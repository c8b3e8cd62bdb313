#!/usr/bin/env node
/**
 * Upload throughput and peak extra RSS while shipping one 1 GB file, to s3rver (S3 sink, multipart)
 * and to a plain node:http collector (PUT sink), both on loopback.
 *
 * Goal: extra RSS stays in the tens of MB whatever the file size (streaming, never the
 * whole file in memory), and the host's event loop is never held for more than a few ms.
 *
 * Run:   npm run build && node bench/upload-throughput.js [--mb 1024] [--content text|random] [--rate off|32MiB]
 *   --rate sets LEAK_AGENT_UPLOAD_MAX_RATE (default: the agent's default, 32 MiB/s)
 *   text   = JSON-like lines that compress about like a heap snapshot (default)
 *   random = incompressible bytes: the worst case for time and for multipart part count
 * Each sink runs in its own child process so its RSS baseline is clean; the child samples its RSS
 * every 20 ms and the event-loop delay (perf_hooks, 1 ms resolution) while uploading.
 */
'use strict';
const { spawn } = require('node:child_process');
const fs = require('node:fs');
const http = require('node:http');
const net = require('node:net');
const os = require('node:os');
const path = require('node:path');
const { createHash } = require('node:crypto');

const ROOT = path.resolve(__dirname, '..');
// BENCH_DIST: compare another build (e.g. an older commit's dist/) side by side.
const DIST = process.env.BENCH_DIST || path.join(ROOT, 'dist');
const arg = (name, fallback) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : fallback;
};

if (process.argv[2] === '--child') {
  child().catch((err) => {
    process.stdout.write(JSON.stringify({ error: String(err && err.stack || err) }) + '\n');
    process.exit(1);
  });
} else {
  main().catch((err) => {
    console.error(err);
    process.exit(1);
  });
}

async function child() {
  const { monitorEventLoopDelay } = require('node:perf_hooks');
  const { Uploader } = require(`${DIST}/upload/uploader.js`);
  const { readUploadOptions } = require(`${DIST}/upload/options.js`);
  const [, , , file, dir] = process.argv;
  const { options, problems } = readUploadOptions(process.env);
  if (problems.length) throw new Error(JSON.stringify(problems));
  const lines = [];
  const logger = { log: (event, fields) => lines.push({ event, ...fields }), close() {} };
  const up = new Uploader({ dir, options, logger, identity: { service: 'bench', host: 'bench-host', pid: process.pid } });
  // Load the S3 SDK before the baseline: its code is a one-time cost, not per-upload memory.
  if (options.target.kind === 's3') require('@aws-sdk/client-s3');
  global.gc?.();
  // Idle control, same process, same run: on a shared machine the event-loop delay includes time
  // the OS gave other processes; this is the floor the upload figures should be read against.
  const idle = monitorEventLoopDelay({ resolution: 1 });
  idle.enable();
  await new Promise((resolve) => setTimeout(resolve, 2000));
  idle.disable();
  const baseline = process.memoryUsage().rss;
  let peak = baseline;
  const sampler = setInterval(() => { peak = Math.max(peak, process.memoryUsage().rss); }, 20);
  const delay = monitorEventLoopDelay({ resolution: 1 });
  delay.enable();
  const { performance } = require('node:perf_hooks');
  const elu0 = performance.eventLoopUtilization();
  const t0 = process.hrtime.bigint();
  await up.enqueue([file]);
  await up.whenSettled();
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  // Share of wall time the main thread was busy (hashing, stream plumbing, SDK): the host's cost.
  const elu = performance.eventLoopUtilization(elu0).utilization;
  delay.disable();
  clearInterval(sampler);
  peak = Math.max(peak, process.memoryUsage().rss);
  const done = lines.find((l) => l.event === 'upload.done');
  const failed = lines.filter((l) => l.event === 'upload.failed');
  process.stdout.write(JSON.stringify({
    ok: Boolean(done), seconds, bytes: done && done.bytes, compressedBytes: done && done.compressedBytes, verified: done && done.verified,
    baselineRss: baseline, peakRss: peak, eventLoopMaxMs: delay.max / 1e6, eventLoopP99Ms: delay.percentile(99) / 1e6,
    eventLoopMeanMs: delay.mean / 1e6, eventLoopUtilization: elu, idleMaxMs: idle.max / 1e6, idleP99Ms: idle.percentile(99) / 1e6, failures: failed.map((f) => f.reason),
  }) + '\n');
}

async function main() {
  if (!fs.existsSync(`${DIST}/upload/uploader.js`)) throw new Error('dist/ is missing: run `npm run build` first');
  const mb = Number(arg('mb', '1024'));
  const content = arg('content', 'text');
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'leak-agent-bench-upload-'));
  try {
    const file = path.join(work, `big-${content}.heapsnapshot`);
    const sha = await writeBigFile(file, mb * 1024 * 1024, content);
    console.log(`file: ${mb} MiB of ${content} content (${file})`);
    console.log(`machine: ${os.cpus().length} CPU(s), node ${process.version}; LEAK_AGENT_UPLOAD_MAX_RATE=${arg('rate', '(default 32MiB)')}`);

    // --- S3 sink → s3rver ---
    const port = await freePort();
    const s3dir = path.join(work, 's3rver');
    const s3 = spawn(process.execPath, [path.join(ROOT, 'node_modules/s3rver/bin/s3rver.js'), '-d', s3dir, '-a', '127.0.0.1', '-p', String(port), '-s', '--configure-bucket', 'bench'], { stdio: ['ignore', 'pipe', 'inherit'] });
    await new Promise((resolve) => setTimeout(resolve, 1500));
    const s3res = await runChild(file, path.join(work, 'agent-s3'), {
      LEAK_AGENT_UPLOAD: 's3://bench/leaks', AWS_ACCESS_KEY_ID: 'S3RVER', AWS_SECRET_ACCESS_KEY: 'S3RVER', AWS_REGION: 'us-east-1',
      AWS_ENDPOINT_URL_S3: `http://127.0.0.1:${port}`, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
    });
    process.kill(s3.pid, 'SIGTERM');
    report('S3 sink → s3rver (multipart, 16 MiB parts, 2 in flight)', s3res);

    // --- HTTP PUT sink → node:http collector that hashes and discards ---
    let received = 0;
    let gotHash = '';
    const server = http.createServer((req, res) => {
      const h = createHash('md5');
      req.on('data', (c) => { h.update(c); received += c.length; });
      req.on('end', () => { gotHash = h.digest('base64'); res.writeHead(gotHash === req.headers['content-md5'] ? 201 : 400).end(); });
    });
    await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
    const httpRes = await runChild(file, path.join(work, 'agent-http'), { LEAK_AGENT_UPLOAD: `http://127.0.0.1:${server.address().port}/ingest` });
    server.close();
    report('HTTP PUT sink → loopback collector', httpRes);
    console.log(`source sha256 ${sha.slice(0, 16)}…; collector received ${received} bytes`);
  } finally {
    fs.rmSync(work, { recursive: true, force: true });
  }
}

function report(title, r) {
  const MiB = 1024 * 1024;
  console.log(`\n${title}`);
  if (!r.ok) {
    console.log(`  FAILED: ${JSON.stringify(r)}`);
    process.exitCode = 1;
    return;
  }
  const extra = (r.peakRss - r.baselineRss) / MiB;
  console.log(`  ${(r.bytes / MiB).toFixed(0)} MiB → ${(r.compressedBytes / MiB).toFixed(1)} MiB gzip in ${r.seconds.toFixed(1)} s: ${(r.bytes / MiB / r.seconds).toFixed(1)} MiB/s of source (compress + upload, verified by ${r.verified})`);
  console.log(`  RSS baseline ${(r.baselineRss / MiB).toFixed(1)} MiB, peak ${(r.peakRss / MiB).toFixed(1)} MiB → extra ${extra.toFixed(1)} MiB (goal: tens of MB) ${extra < 100 ? 'OK' : 'OVER GOAL'}`);
  console.log(`  event-loop delay while uploading: mean ${r.eventLoopMeanMs.toFixed(2)} ms, p99 ${r.eventLoopP99Ms.toFixed(2)} ms, max ${r.eventLoopMaxMs.toFixed(2)} ms`);
  console.log(`  main thread busy ${(r.eventLoopUtilization * 100).toFixed(1)}% of the upload's wall time (event-loop utilization)`);
  console.log(`  event-loop delay idle (same process, 2 s before): p99 ${r.idleP99Ms.toFixed(2)} ms, max ${r.idleMaxMs.toFixed(2)} ms; load average ${os.loadavg()[0].toFixed(1)} on ${os.cpus().length} CPUs`);
  if (r.failures.length) console.log(`  retried after: ${r.failures.join(' | ')}`);
}

function runChild(file, dir, env) {
  return new Promise((resolve, reject) => {
    const c = spawn(process.execPath, ['--expose-gc', __filename, '--child', file, dir], {
      cwd: ROOT, env: { PATH: process.env.PATH, HOME: process.env.HOME, BENCH_DIST: DIST, ...(arg('rate') ? { LEAK_AGENT_UPLOAD_MAX_RATE: arg('rate') } : {}), ...env }, stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    c.stdout.on('data', (d) => (out += d));
    c.on('close', () => {
      try { resolve(JSON.parse(out.trim().split('\n').pop())); } catch (e) { reject(new Error(`child said: ${out}`)); }
    });
  });
}

async function writeBigFile(file, bytes, content) {
  const h = createHash('sha256');
  const fd = fs.openSync(file, 'w');
  const block = Buffer.alloc(4 * 1024 * 1024);
  let i = 0;
  for (let written = 0; written < bytes; written += block.length) {
    if (content === 'random') require('node:crypto').randomFillSync(block);
    else {
      let off = 0;
      while (off < block.length) {
        const s = `{"id":${i},"name":"Leaky${i % 97}","self_size":${(i * 7919) % 4096},"edges":[${i % 13},${(i * 31) % 1000}]},\n`;
        off += block.write(s, off);
        i += 1;
      }
    }
    const n = Math.min(block.length, bytes - written);
    fs.writeSync(fd, block, 0, n);
    h.update(block.subarray(0, n));
  }
  fs.closeSync(fd);
  return h.digest('hex');
}

function freePort() {
  return new Promise((resolve) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const p = s.address().port;
      s.close(() => resolve(p));
    });
  });
}
