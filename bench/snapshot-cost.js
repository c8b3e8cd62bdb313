#!/usr/bin/env node
/**
 * Goal: measure what the snapshot gate and the profiler default rely on, on this machine.
 *  1. Heap snapshots: for a few heap sizes, the pause `v8.writeHeapSnapshot` causes, the extra
 *     RSS it needs per heap node (peak RSS during the snapshot minus RSS before), heap bytes per
 *     node and file bytes per node. The gate's cost model (src/evidence/snapshot-cost.ts) cites these.
 *  2. The sampling heap profiler's overhead on an allocation-heavy workload: time with the
 *     profiler on ÷ time with it off, measured side by side in the same process, alternating
 *     rounds so machine noise hits both, at V8's default interval (32 KiB) and the agent's.
 *
 * Run: npm run build && node bench/snapshot-cost.js [--sizes 20,60,150] [--rounds 7] [--profiler-only]
 * Each snapshot runs in its own child process so peak RSS (VmHWM) belongs to that heap alone.
 * Keep the biggest heap modest (≤ 150 MB): the machine is shared.
 */
'use strict';
const { execFileSync } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');

const args = process.argv.slice(2);
const opt = (name, fallback) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 && args[i + 1] ? args[i + 1] : fallback;
};

// ---------------------------------------------------------------- child: one snapshot measurement
if (process.env.SNAPSHOT_COST_CHILD) {
  const v8 = require('node:v8');
  const targetMb = Number(process.env.SNAPSHOT_COST_CHILD);
  // A heap shaped like a service's: objects with a few fields, strings, small arrays, maps.
  class Session { constructor(i) { this.id = i; this.user = `user-${i}`; this.tags = [i, i + 1]; this.meta = { at: i }; } }
  const keep = [];
  const byId = new Map();
  while (process.memoryUsage().heapUsed < targetMb * 1024 * 1024) {
    for (let i = 0; i < 10_000; i++) {
      const s = new Session(keep.length);
      keep.push(s);
      if (keep.length % 4 === 0) byId.set(s.user, s);
    }
  }
  global.gc();
  const statusKb = (key) => Number(new RegExp(`${key}:\\s+(\\d+) kB`).exec(fs.readFileSync('/proc/self/status', 'utf8'))[1]) * 1024;
  const before = process.memoryUsage();
  // Reset the peak-RSS mark (VmHWM) so it reports the snapshot's peak, not the build-up's.
  fs.writeFileSync('/proc/self/clear_refs', '5');
  const file = path.join(process.env.SNAPSHOT_COST_DIR, `bench-${process.pid}.heapsnapshot`);
  const t0 = process.hrtime.bigint();
  v8.writeHeapSnapshot(file);
  const pauseMs = Number(process.hrtime.bigint() - t0) / 1e6;
  const peakRss = statusKb('VmHWM');
  const head = Buffer.alloc(4096);
  const fd = fs.openSync(file, 'r');
  fs.readSync(fd, head, 0, head.length, 0);
  fs.closeSync(fd);
  const nodes = Number(/"node_count":(\d+)/.exec(head.toString('latin1'))[1]);
  const fileBytes = fs.statSync(file).size;
  fs.unlinkSync(file);
  process.stdout.write(JSON.stringify({
    targetMb, heapUsed: before.heapUsed, rssBefore: before.rss, peakRss, nodes, fileBytes, pauseMs, keep: keep.length + byId.size,
  }) + '\n');
  process.exit(0);
}

// ---------------------------------------------------------------- parent
function snapshotCosts(sizes) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'snapshot-cost-'));
  const rows = [];
  try {
    for (const mb of sizes) {
      const out = execFileSync(process.execPath, ['--expose-gc', `--max-old-space-size=${Math.max(512, mb * 4)}`, __filename], {
        env: { ...process.env, SNAPSHOT_COST_CHILD: String(mb), SNAPSHOT_COST_DIR: dir },
        encoding: 'utf8',
        maxBuffer: 1 << 20,
      });
      rows.push(JSON.parse(out.trim().split('\n').pop()));
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
  return rows;
}

async function profilerOverhead(rounds) {
  let InspectorHeapProfiler;
  try {
    ({ InspectorHeapProfiler } = require('../dist/evidence/inspector-profiler.js'));
  } catch (err) {
    return { skipped: `build first (npm run build): ${err.message}` };
  }
  // Allocation-heavy: many short-lived objects and strings, a little retained churn.
  const ring = new Array(5_000);
  let sink = 0;
  // CPU time of this process (user + system), not wall time: the machine is shared, and another
  // process taking the core would otherwise show up as profiler overhead.
  const workload = () => {
    const c0 = process.cpuUsage();
    for (let i = 0; i < 3_000_000; i++) {
      const o = { a: i, b: `s${i}`, c: [i, i] };
      ring[i % ring.length] = o;
      sink += o.c.length;
    }
    const c = process.cpuUsage(c0);
    return (c.user + c.system) / 1000;
  };
  for (let i = 0; i < 3; i++) workload(); // warm up the JIT before timing anything
  const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  const results = {};
  for (const interval of [32 * 1024, 512 * 1024]) {
    const off = [];
    const on = [];
    const profiled = async () => {
      const profiler = new InspectorHeapProfiler();
      await profiler.start(interval);
      on.push(workload());
      await profiler.stop();
    };
    // ABBA order: alternate which runs first so drift (heap growth, thermal, neighbours) cancels out.
    for (let r = 0; r < rounds; r++) {
      if (r % 2 === 0) {
        off.push(workload());
        await profiled();
      } else {
        await profiled();
        off.push(workload());
      }
    }
    results[`${interval / 1024}KiB`] = { offCpuMs: +median(off).toFixed(1), onCpuMs: +median(on).toFixed(1), ratio: +(median(on) / median(off)).toFixed(3) };
  }
  results.sink = sink > 0;
  return results;
}

async function main() {
  const sizes = opt('sizes', '20,60,150').split(',').map(Number);
  const rounds = Number(opt('rounds', '7'));
  console.log(`node ${process.version} on ${os.cpus().length} cores, ${Math.round(os.totalmem() / 2 ** 30)} GiB`);
  console.log('\n# heap snapshot cost (v8.writeHeapSnapshot, one child per heap size)');
  console.log('heapMB  nodes      heapB/node  fileB/node  extraRSS/node  pause_ms  peakRSS_MB');
  for (const r of args.includes('--profiler-only') ? [] : snapshotCosts(sizes)) {
    const extra = r.peakRss - r.rssBefore;
    console.log([
      (r.heapUsed / 2 ** 20).toFixed(1).padEnd(7),
      String(r.nodes).padEnd(10),
      (r.heapUsed / r.nodes).toFixed(1).padEnd(11),
      (r.fileBytes / r.nodes).toFixed(1).padEnd(11),
      (extra / r.nodes).toFixed(1).padEnd(14),
      r.pauseMs.toFixed(0).padEnd(9),
      (r.peakRss / 2 ** 20).toFixed(0),
    ].join(' '));
  }
  console.log(`\n# sampling heap profiler overhead: CPU ms of 3M allocations, median of ${rounds} rounds, on/off alternating in one process`);
  console.log(JSON.stringify(await profilerOverhead(rounds), null, 2));
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
