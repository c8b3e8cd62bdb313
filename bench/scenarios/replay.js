#!/usr/bin/env node
'use strict';
/**
 * Replays kept scenario recordings (`score.js --keep`) through the detector in dist/ and prints the
 * scorer's verdict columns per scenario: detected, time to detect, false leak alarms, spikes. A tuning
 * loop that takes seconds instead of the corpus' forty minutes: record once, change the detector,
 * `npm run build`, replay. The recordings hold every GC the agent saw, including the confirmation GCs
 * it requested during the run, so a replay sees the same series; what it cannot do is request new
 * ones (a detector that would ask earlier is judged on the GCs of the recorded run).
 *
 *   node bench/scenarios/replay.js <dir-of-recordings> [--window S] [--sensitivity normal] [--verbose]
 */
const fs = require('node:fs');
const path = require('node:path');
const { scenarios } = require('./workloads');
const { readRecording, replayDetector } = require('./judge');

const args = process.argv.slice(2);
const opt = (name, fallback) => { const i = args.indexOf(`--${name}`); return i >= 0 ? args[i + 1] : fallback; };
const dir = args[0] && !args[0].startsWith('--') ? args[0] : undefined;
if (!dir) { console.error('usage: replay.js <dir-of-recordings> [--window S] [--sensitivity normal|low|high] [--verbose]'); process.exit(2); }
const windowSec = Number(opt('window', 60));
const sensitivity = opt('sensitivity', 'normal');
const verbose = args.includes('--verbose');

const files = fs.readdirSync(dir).filter((f) => f.endsWith('.rec.jsonl')).sort();
const rows = new Map();
for (const file of files) {
  const { start, ticks } = readRecording(path.join(dir, file));
  const sc = scenarios[start.scenario];
  if (!sc) continue;
  const { verdicts } = replayDetector(ticks, windowSec * 1000, sensitivity);
  const leaks = verdicts.filter((v) => v.kind === 'leak');
  const hits = sc.leak ? leaks.filter((v) => v.memory === sc.memory && v.detectedAt >= start.leakStartMs) : [];
  const row = rows.get(start.scenario) ?? { runs: 0, detected: 0, ttds: [], falseAlarms: 0, spikes: 0 };
  row.runs += 1;
  if (hits.length) {
    row.detected += 1;
    row.ttds.push((hits[0].detectedAt - start.leakStartMs) / 1000);
  }
  row.falseAlarms += leaks.length - hits.length;
  row.spikes += verdicts.filter((v) => v.kind === 'spike').length;
  rows.set(start.scenario, row);
  if (verbose) {
    for (const v of verdicts) {
      const at = ((v.detectedAt ?? v.at ?? v.endedAt) - start.t) / 1000;
      console.log(`${file} ${at.toFixed(0)} s ${v.kind} ${v.memory} ${v.reason ?? ''}${v.sizeBytes ? ` ${(v.sizeBytes / 1e6).toFixed(1)} MB` : ''}`);
    }
  }
}

const fmt = (xs) => (xs.length ? xs.map((x) => `${x.toFixed(0)} s (${(x / windowSec).toFixed(2)}w)`).join(', ') : '—');
console.log(`replay of ${files.length} recordings, window ${windowSec}s, sensitivity ${sensitivity}`);
console.log('| scenario | leak? | detected | time to detect (each run) | false leak alarms | spikes |');
console.log('|---|---|---|---|---|---|');
let falseTotal = 0;
let missed = 0;
let late = 0;
for (const [name, row] of [...rows].sort()) {
  const sc = scenarios[name];
  if (!sc.leak) falseTotal += row.falseAlarms;
  if (sc.leak) missed += row.runs - row.detected;
  late += row.ttds.filter((x) => x > 1.5 * windowSec).length;
  console.log(`| ${name} | ${sc.leak ? sc.memory : 'no'} | ${sc.leak ? `${row.detected}/${row.runs}` : '—'} | ${sc.leak ? fmt(row.ttds) : '—'} | ${row.falseAlarms} | ${row.spikes} |`);
}
console.log(`\nfalse leak alarms on non-leak scenarios: ${falseTotal}; leak runs missed: ${missed}; detected later than 1.5x window: ${late}`);
