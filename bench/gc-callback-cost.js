#!/usr/bin/env node
// Bench: what the GC sampler costs the host, native addon vs JS fallback, side by side in one run.
//
// Goal: under 1 µs per GC for the native callbacks, and no measurable effect on GC pause
// times; plus the agent's own memory footprint after start.
//
// Method. The same allocation-heavy workload runs in fresh child processes, interleaved round by
// round, under three configurations: no sampler, the native sampler, the JS fallback (v8.GCProfiler
// + perf_hooks). Each child runs with --trace-gc, so every GC pause is reported by V8 itself,
// independently of either sampler. Reported per configuration (medians over rounds):
//   - ns per GC inside the native callbacks (timed natively with uv_hrtime, measure=true);
//   - extra CPU per GC relative to "none" (process.cpuUsage; includes everything a sampler does,
//     drains too, and is the only way to price the fallback, whose work happens inside Node core);
//   - GC pause p50 / p99 / max from V8's own trace.
// Then the footprint: RSS and V8 heap before and after starting the agent (native and fallback).
//
// With --callgrind (needs valgrind; ~5 minutes), each configuration also runs once under
// valgrind's callgrind with collection switched on only inside V8's Heap::CallGCPrologueCallbacks
// and Heap::CallGCEpilogueCallbacks, i.e. all embedder GC callbacks (ours, Node's GCProfiler and
// perf_hooks ones). Instruction counts do not depend on what else the machine is doing, so this is
// the clean side-by-side figure on a shared machine. (--jitless under valgrind: the workload runs
// interpreted, the callbacks are the same native code.)
//
//   node bench/gc-callback-cost.js [rounds=5] [--callgrind]   (needs `npm run build` and the addon)
'use strict';
const { spawnSync } = require('node:child_process');
const path = require('node:path');

const ROOT = path.resolve(__dirname, '..');
const DIST = path.join(ROOT, 'dist');
const ROUNDS = Number(process.argv.slice(2).find((a) => /^\d+$/.test(a)) || 5);
const CALLGRIND = process.argv.includes('--callgrind');
const CONFIGS = ['none', 'native', 'js'];

// ---- child side -------------------------------------------------------------------------------

function child(mode, liveObjects, slices) {
  let sampler = null;
  if (mode === 'native+sampling') {
    // What near-OOM arming adds: V8's sampling heap profiler at the near-OOM rate.
    const { loadAddon } = require(`${DIST}/native/addon.js`);
    loadAddon().addon.startSamplingHeapProfiler(512 * 1024, 32);
    mode = 'native';
  }
  if (mode === 'native') {
    const { loadNativeSampler } = require(`${DIST}/sampler/native-sampler.js`);
    const loaded = loadNativeSampler({ measure: true });
    if (!loaded.sampler) throw new Error(loaded.error);
    sampler = loaded.sampler;
  } else if (mode === 'js') {
    const { JsSampler } = require(`${DIST}/sampler/js-sampler.js`);
    sampler = new JsSampler();
  }
  if (sampler) sampler.start();
  // Drain like the agent does: every second, on an unref'd timer (the workload below is synchronous
  // in slices, so the timer gets its turns between slices).
  const timer = setInterval(() => sampler && sampler.drain(), 1000);
  timer.unref();

  const cpu0 = process.cpuUsage();
  const t0 = process.hrtime.bigint();
  const live = new Array(liveObjects);
  let slice = 0;
  const SLICES = slices || 40;
  const step = () => {
    // Rolling window of live objects: mostly short-lived garbage (scavenges), some promotion
    // (mark-compacts now and then), like a request-serving heap.
    for (let i = 0; i < 150000; i++) {
      const o = { id: i, name: 'item' + (i & 4095), tags: [i, i + 1] };
      live[(i * 7919) % live.length] = o;
    }
    slice += 1;
    if (slice < SLICES) setImmediate(step);
    else finish();
  };
  const finish = () => {
    const cpu = process.cpuUsage(cpu0);
    const wallMs = Number(process.hrtime.bigint() - t0) / 1e6;
    if (sampler) sampler.drain();
    const native = mode === 'native' ? sampler.nativeCounters() : null;
    const oldSpace = require('node:v8').getHeapSpaceStatistics().find((x) => x.space_name === 'old_space').space_used_size;
    process.stdout.write(JSON.stringify({ mode, cpuUs: cpu.user + cpu.system, wallMs, native, oldSpace }) + '\n');
    if (sampler) sampler.stop();
  };
  step();
}

function footprintChild(native) {
  const v8 = require('node:v8');
  const settle = () => {
    for (let i = 0; i < 3; i++) global.gc();
    return { rss: process.memoryUsage().rss, heap: v8.getHeapStatistics().used_heap_size };
  };
  const before = settle();
  process.env.LEAK_AGENT_NATIVE = native ? 'auto' : 'off';
  process.env.LEAK_AGENT_LOG = '/dev/null';
  const agent = require(ROOT);
  const after = settle();
  process.stdout.write(JSON.stringify({ sampler: agent.status().sampler, rss: after.rss - before.rss, heap: after.heap - before.heap }) + '\n');
  agent.stop();
}

// ---- parent side ------------------------------------------------------------------------------

function pauses(traceOut) {
  // e.g. "[123:0x5d...]   412 ms: Scavenge 5.2 (6.0) -> 4.1 (7.0) MB, 0.85 / 0.00 ms  (average ..."
  const out = [];
  const re = /: (Scavenge|Mark-Compact|Mark-sweep|Minor Mark-Sweep|Minor Mark-Compact)[^,]*MB, (?:pooled: [\d.]+ MB, )?([\d.]+) \/ [\d.]+ ms/;
  for (const line of traceOut.split('\n')) {
    const m = re.exec(line);
    if (m) out.push({ kind: m[1], ms: Number(m[2]) });
  }
  return out;
}

/** Median of a histogram with fixed-width buckets (bucket midpoint). */
function histMedian(hist, width) {
  const total = hist.reduce((a, b) => a + b, 0);
  let seen = 0;
  for (let i = 0; i < hist.length; i++) {
    seen += hist[i];
    if (seen * 2 >= total) return (i + 0.5) * width;
  }
  return NaN;
}
const sumHists = (hs) => hs.reduce((acc, h) => acc.map((v, i) => v + h[i]));

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? s[Math.floor((s.length - 1) / 2)] : NaN;
};
const pct = (xs, p) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? s[Math.min(s.length - 1, Math.floor(p * s.length))] : NaN;
};

function runChild(mode, liveObjects) {
  const r = spawnSync(process.execPath, ['--expose-gc', '--trace-gc', __filename, '--child', mode, String(liveObjects)], { encoding: 'utf8', maxBuffer: 256 * 1024 * 1024 });
  if (r.status !== 0) throw new Error(`child ${mode} failed: ${r.stderr}`);
  // --trace-gc lines and our one JSON line share stdout, in any order.
  const lines = r.stdout.split('\n');
  const result = JSON.parse(lines.find((l) => l.startsWith('{"mode"')));
  result.pauses = pauses(lines.filter((l) => !l.startsWith('{')).join('\n'));
  return result;
}

// Live-set sizes: a small service heap and a larger one. The native cost grows with old-space size
// because V8's GetHeapSpaceStatistics (the only public per-space API) also computes each space's
// "available" bytes by walking its free list, page by page; Node's GCProfiler (the fallback) makes
// the same calls, before and after every GC.
const HEAPS = [
  { label: 'small heap', live: 20000 },
  { label: 'larger heap', live: 400000 },
];

function main() {
  const os = require('node:os');
  console.log(`leak-agent bench: GC sampler cost, ${ROUNDS} rounds x ${CONFIGS.join(' / ')}, Node ${process.version}, ${os.cpus().length} CPUs, load average ${os.loadavg().map((x) => x.toFixed(1)).join(' ')}`);
  for (const heap of HEAPS) {
    const results = Object.fromEntries(CONFIGS.map((c) => [c, []]));
    for (let round = 0; round < ROUNDS; round++) {
      for (const mode of CONFIGS) results[mode].push(runChild(mode, heap.live));
    }
    const baseCpu = median(results.none.map((r) => r.cpuUs));
    const rows = [];
    for (const mode of CONFIGS) {
      const rs = results[mode];
      const all = rs.flatMap((r) => r.pauses.map((p) => p.ms));
      const perGc = (key) => (mode === 'native' ? Math.round(median(rs.map((r) => r.native[key] / r.native.recorded))) : '-');
      const cpu = median(rs.map((r) => r.cpuUs));
      // Typical GC: median prologue + median epilogue over every callback of every round.
      const typical = mode === 'native'
        ? Math.round(histMedian(sumHists(rs.map((r) => r.native.prologueHistogram)), rs[0].native.histogramBucketNs) +
            histMedian(sumHists(rs.map((r) => r.native.epilogueHistogram)), rs[0].native.histogramBucketNs))
        : '-';
      rows.push({
        sampler: mode,
        'GCs/run': median(rs.map((r) => r.pauses.length)),
        'ns/GC typical (median)': typical,
        'ns/GC mean': perGc('callbackNs'),
        'of which space stats': perGc('spacesNs'),
        'of which external': perGc('externalNs'),
        'CPU ms (median)': Math.round(cpu / 1000),
        'CPU vs none': mode === 'none' ? '-' : (cpu / baseCpu).toFixed(3),
        'pause p50 ms': pct(all, 0.5),
        'pause p99 ms': pct(all, 0.99),
      });
    }
    const oldMb = (median(results.none.map((r) => r.oldSpace)) / 1048576).toFixed(0);
    console.log(`\n${heap.label}: ~${oldMb} MB old space at the end of the workload`);
    console.table(rows);
  }

  const fp = [];
  for (const native of [true, false]) {
    const runs = [];
    for (let i = 0; i < 3; i++) {
      const r = spawnSync(process.execPath, ['--expose-gc', __filename, '--footprint', native ? 'native' : 'js'], { encoding: 'utf8' });
      if (r.status !== 0) throw new Error(r.stderr);
      runs.push(JSON.parse(r.stdout.trim().split('\n').pop()));
    }
    fp.push({ sampler: runs[0].sampler, 'RSS delta KB (median of 3)': Math.round(median(runs.map((r) => r.rss)) / 1024), 'V8 heap delta KB': Math.round(median(runs.map((r) => r.heap)) / 1024) });
  }
  console.log('Agent footprint after start (require + sampler + near-OOM arming, after 3 full GCs):');
  console.table(fp);
  if (CALLGRIND) callgrindSection();
  console.log('Goal: < 1000 ns per GC inside the native callbacks: see "ns/GC typical" (median callback times, 100 ns buckets);');
  console.log('"ns/GC mean" includes every preemption that landed inside a callback on this shared machine.');
  console.log('Pause effect: compare the pause columns across rows (same workload, same run, V8\'s own --trace-gc figures).');
  console.log('"CPU vs none" and the pause columns share the machine with everything else running: read them with the load average above.');
}

function callgrindSection() {
  const fs = require('node:fs');
  const os = require('node:os');
  const rows = [];
  for (const heap of HEAPS) {
    for (const mode of CONFIGS) {
      const out = path.join(os.tmpdir(), `leak-agent-callgrind-${process.pid}-${mode}.out`);
      const r = spawnSync(
        'valgrind',
        ['--tool=callgrind', `--callgrind-out-file=${out}`, '--toggle-collect=*Heap::CallGCPrologueCallbacks*', '--toggle-collect=*Heap::CallGCEpilogueCallbacks*',
          process.execPath, '--expose-gc', '--jitless', '--trace-gc', __filename, '--child', mode, String(heap.live), '6'],
        { encoding: 'utf8', maxBuffer: 256 * 1024 * 1024 },
      );
      if (r.status !== 0) throw new Error(`valgrind ${mode}: ${r.stderr.slice(-2000)}`);
      const collected = Number((/Collected : (\d+)/.exec(r.stderr) || [])[1]);
      fs.rmSync(out, { force: true });
      const gcs = pauses(r.stdout).length;
      rows.push({ heap: heap.label, sampler: mode, GCs: gcs, 'instructions in GC callbacks': collected, 'per GC': Math.round(collected / gcs) });
    }
  }
  console.log('\nInstructions executed inside all embedder GC callbacks (callgrind; independent of machine load):');
  console.table(rows);

  // The near-OOM capture keeps V8's sampling heap profiler on (512 KiB mean interval): price it as
  // whole-program instructions of the small-heap workload, with and without it.
  const whole = [];
  for (const mode of ['native', 'native+sampling']) {
    const out = path.join(os.tmpdir(), `leak-agent-callgrind-${process.pid}-whole.out`);
    const r = spawnSync('valgrind', ['--tool=callgrind', `--callgrind-out-file=${out}`, process.execPath, '--expose-gc', '--jitless', __filename, '--child', mode, String(HEAPS[0].live), '6'], { encoding: 'utf8', maxBuffer: 256 * 1024 * 1024 });
    if (r.status !== 0) throw new Error(`valgrind ${mode}: ${r.stderr.slice(-2000)}`);
    fs.rmSync(out, { force: true });
    whole.push({ config: mode, 'whole-program instructions': Number((/Collected : (\d+)/.exec(r.stderr) || [])[1]) });
  }
  whole[1].ratio = (whole[1]['whole-program instructions'] / whole[0]['whole-program instructions']).toFixed(4);
  console.log('Sampling heap profiler kept on by the near-OOM capture (small heap, whole program, callgrind):');
  console.table(whole);
}

if (process.argv[2] === '--child') child(process.argv[3], Number(process.argv[4]), Number(process.argv[5]));
else if (process.argv[2] === '--footprint') footprintChild(process.argv[3] === 'native');
else main();
