#!/usr/bin/env node
'use strict';
/**
 * What the detector costs the event loop: CPU time per evaluation (all three series), on a steady
 * series and on a bursty one (where the burst floor is the view judged), measured side by side in one
 * run, and what that is as a share of one core at a 60 s and a 30 min window (one evaluation per
 * bucket = window / 30). The detector runs on the agent's drain timer, so an evaluation is a pause of
 * the host's event loop of that length.
 *
 *   npm run build && node bench/detector-cost.js [virtualHours]
 */
const path = require('node:path');
const { Detector } = require(path.join(__dirname, '..', 'dist', 'detect', 'detector'));
const { rng } = require('./longrun'); // the same seeded PRNG as the long-horizon simulation

const MB = 1024 * 1024;
const hours = Number(process.argv[2] ?? 3);

/**
 * One reading per virtual second (the agent's drain interval) for `hours`; returns ms of CPU per
 * evaluation of the window and CPU per second of process time (all scales: at a 30 min window the
 * short scales evaluate far more often than the window).
 */
function run(bursty, windowMs = 60_000) {
  const r = rng(42);
  const detector = new Detector({ windowMs, sensitivity: 'normal' });
  const t0 = Date.UTC(2026, 0, 1);
  let x = 0;
  let evaluations = 0;
  let lastEvaluated = null;
  const started = process.cpuUsage();
  for (let s = 0; s < hours * 3600; s++) {
    const t = t0 + s * 1000;
    const full = s % 7 === 0;
    x = 0.9 * x + 0.3 * MB * (r() - 0.5);
    const old = 80 * MB + x + (bursty && s % 25 < 12 ? 8 * MB : 0);
    const record = {
      kind: full ? 'mark-sweep-compact' : 'scavenge', startTime: t - 2, duration: 1,
      after: { new_space: { used: MB, committed: 16 * MB }, old_space: { used: old, committed: old + 4 * MB } }, external: 10 * MB,
    };
    if (full) record.before = { new_space: { used: 8 * MB, committed: 16 * MB }, old_space: { used: old + 2 * MB, committed: old + 4 * MB } };
    detector.observe({ records: [record], memory: { time: t, rss: old + 100 * MB, heapUsed: old, heapTotal: old + 20 * MB, heapLimit: 512 * MB, external: 10 * MB, arrayBuffers: 10 * MB }, hostMemoryBytes: 8192 * MB });
    const at = detector.states().old_space.evaluatedAt;
    if (at !== lastEvaluated) { evaluations++; lastEvaluated = at; }
  }
  const used = process.cpuUsage(started);
  const cpuMs = (used.user + used.system) / 1000;
  return { msPerEvaluation: cpuMs / evaluations, evaluations, bursty: detector.states().old_space.bursty, shareOfCore: cpuMs / (hours * 3600 * 1000) };
}

run(false); // warm up the JIT
const steady = run(false);
const bursty = run(true);
const share = (ms, windowMs) => `${((ms / (windowMs / 30)) * 100).toFixed(3)}%`;
console.log(`node ${process.version}; ${hours} virtual hours per series kind, window 60 s (${steady.evaluations} evaluations each)`);
console.log('| series | judged on | CPU per evaluation (3 series) | share of a core at 60 s window | at 30 min window |');
console.log('|---|---|---|---|---|');
for (const [name, res] of [['steady', steady], ['bursty', bursty]]) {
  console.log(`| ${name} | ${res.bursty ? 'burst floor' : 'bucket minima'} | ${res.msPerEvaluation.toFixed(3)} ms | ${share(res.msPerEvaluation, 60_000)} | ${share(res.msPerEvaluation, 1_800_000)} |`);
}
// Everything the detector does, all scales, as a share of one core (readings every second).
const at30 = run(false, 1_800_000);
console.log(`\nall scales, CPU per second of process time: 60 s window (no short scales) ${(steady.shareOfCore * 100).toFixed(3)}% of a core; 30 min window (window + 5 short scales) ${(at30.shareOfCore * 100).toFixed(3)}% of a core`);
