#!/usr/bin/env node
'use strict';
/**
 * Prints the agent's own view of one series, evaluation by evaluation, from a scenario recording
 * (the scorer records it; see child.js): seconds since start, state, streak, p-value, growth per
 * window and minimum effect (MB), whether a confirmation GC was wanted, the view judged (bucket minima or burst floor), full GCs in that second, reason.
 *
 *   node bench/scenarios/trace.js <recording.rec.jsonl> [old_space|external|native] [--replay [windowSec]]
 *
 * --replay: instead of what the agent saw, replay the recorded GC series through the detector in
 * dist/ (after a change to it): same columns. The replay cannot request confirmation GCs; the full
 * GCs the agent requested during the run are in the recording.
 */
const path = require('node:path');
const { readRecording } = require('./judge');

const args = process.argv.slice(2);
const replayAt = args.indexOf('--replay');
const replayWindowSec = replayAt >= 0 ? Number(args[replayAt + 1]) || 60 : undefined;
const [file, memory = 'old_space'] = args.filter((a, i) => !a.startsWith('--') && !(replayAt >= 0 && i === replayAt + 1));
if (!file) { console.error('usage: trace.js <recording.rec.jsonl> [series] [--replay [windowSec]]'); process.exit(2); }
const { start, ticks } = readRecording(file);
if (replayWindowSec) {
  const { Detector } = require(path.join(process.env.SCENARIO_DIST || path.join(__dirname, '..', '..', 'dist'), 'detect', 'detector'));
  const detector = new Detector({ windowMs: replayWindowSec * 1000, sensitivity: 'normal' });
  for (const tick of ticks) {
    detector.observe({ records: tick.records, memory: tick.memory, container: undefined, hostMemoryBytes: 8 * 2 ** 30 });
    tick.detector = { series: detector.states() };
  }
}
const mb = (b) => (b === null || b === undefined ? '-' : (b / 1e6).toFixed(2));
console.log(`leak starts at ${((start.leakStartMs - start.t) / 1000).toFixed(0)} s`);
console.log('sec state streak p growth/window(MB) effect(MB) needsFullGc view fullGCs reason');
let lastEvaluation;
for (const tick of ticks) {
  const s = tick.detector && tick.detector.series[memory];
  if (!s) continue;
  const fulls = tick.records.filter((r) => r.kind === 'mark-sweep-compact').length;
  if (s.evaluatedAt === lastEvaluation && !fulls) continue;
  lastEvaluation = s.evaluatedAt;
  const sec = Math.round((tick.memory.time - start.t) / 1000);
  console.log([sec, s.state, s.streak, s.pValue === null ? '-' : s.pValue.toExponential(1), mb(s.growthPerWindowBytes), mb(s.minEffectBytes), s.needsFullGc ? 'NEED' : '-', (s.bursty ? 'floor' : 'minima') + (s.burstRatio ? ':' + s.burstRatio.toFixed(1) : ''), fulls || '-', s.reason].join(' '));
}
