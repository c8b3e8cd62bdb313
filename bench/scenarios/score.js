#!/usr/bin/env node
'use strict';
/**
 * Scenario scorer. Goal: zero false leak alarms on every non-leak scenario, every leak
 * detected within ~1.5x the window of starting, and the memwatch rule shown on the same data.
 *
 * Runs every scenario of workloads.js in a real child process with the agent attached
 * (`node -r <repo>`, native sampler, LEAK_AGENT_WINDOW=60s), several times, a few at a time, and prints
 * one row per scenario: leak alerts raised by the agent (from its JSON log), time to detect from the
 * leak's start (seconds and in windows), false alarms, spikes, and the memwatch rule applied to the
 * recorded GC series of the same child.
 *
 *   npm run build && node bench/scenarios/score.js --runs 2     # full corpus, 29 scenarios (measured 2252 s)
 *   node bench/scenarios/score.js --quick                       # 4 scenarios, 1 run (measured 120 s)
 * Options: --runs N, --parallel P (default 4), --duration S (default 150), --window S (default 60),
 *          --only a,b,c, --json FILE (write the raw results), --keep (keep the recordings and agent
 *          logs; print where: `node bench/scenarios/trace.js <name>.<run>.rec.jsonl` shows a run).
 */
const { spawn } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { scenarios } = require('./workloads');
const { readRecording, memwatchRule } = require('./judge');

const repo = path.join(__dirname, '..', '..');
const args = process.argv.slice(2);
const opt = (name, fallback) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : fallback;
};
const quick = args.includes('--quick');
const runs = Number(opt('runs', 1));
const parallel = Number(opt('parallel', 4));
const durationSec = Number(opt('duration', quick ? 120 : 150));
const windowSec = Number(opt('window', 60));
const leakStartSec = 15;
const only = opt('only', quick ? 'leak-fast-array,leak-buffers,steady-churn,one-time-step' : undefined);
const names = only ? only.split(',') : Object.keys(scenarios);
const jsonOut = opt('json', undefined);
const keep = args.includes('--keep');
// 128 MB old space: the fast leak stays well below it for the whole run; small enough that V8 runs
// full GCs at a cadence comparable to production relative to a 60 s window.
const nodeFlags = ['--max-old-space-size=128'];

if (!fs.existsSync(path.join(repo, 'dist', 'index.js'))) {
  console.error('dist/ is missing: run `npm run build` first');
  process.exit(2);
}
const work = fs.mkdtempSync(path.join(os.tmpdir(), 'leak-agent-score-'));

function runOne(name, run) {
  return new Promise((resolve) => {
    const base = path.join(work, `${name}.${run}`);
    const env = {
      ...process.env,
      LEAK_AGENT_WINDOW: `${windowSec}s`,
      LEAK_AGENT_LOG: `${base}.log.jsonl`,
      LEAK_AGENT_SNAPSHOTS: 'off',
      LEAK_AGENT_DIR: path.join(work, 'agent'),
      SCENARIO_RECORD: `${base}.rec.jsonl`,
      SCENARIO_TRACE: '1',
    };
    const child = spawn(process.execPath, [...nodeFlags, '-r', repo, path.join(__dirname, 'child.js'), name, String(durationSec), String(leakStartSec)], { env, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d) => { stderr += d; });
    child.on('exit', (code) => resolve({ name, run, code, stderr, base }));
  });
}

function judge({ name, run, code, stderr, base }) {
  const sc = scenarios[name];
  const { start, ticks } = readRecording(`${base}.rec.jsonl`);
  const log = fs.readFileSync(`${base}.log.jsonl`, 'utf8').trim().split('\n').filter(Boolean).map((l) => JSON.parse(l));
  const leakStart = start.leakStartMs;
  const leaks = log.filter((l) => l.event === 'leak.detected');
  const spikes = log.filter((l) => l.event === 'memory.spike');
  const errors = log.filter((l) => l.event === 'agent.error');
  const hits = sc.leak ? leaks.filter((l) => l.memory === sc.memory && l.detectedAt >= leakStart) : [];
  const falseAlarms = leaks.length - hits.length;
  const ttd = hits.length ? (hits[0].detectedAt - leakStart) / 1000 : null;
  const mw = memwatchRule(ticks);
  const mwHits = sc.leak ? mw.filter((t) => t >= leakStart) : [];
  return {
    name, run, leak: sc.leak, exit: code, errors: errors.length + (code === 0 ? 0 : 1), stderr: code === 0 ? '' : stderr.slice(-300),
    leakAlerts: leaks.length, detected: hits.length > 0, ttd, falseAlarms, spikes: spikes.length,
    memwatchAlerts: mw.length, memwatchDetected: mwHits.length > 0, memwatchTtd: mwHits.length ? (mwHits[0] - leakStart) / 1000 : null,
    memwatchFalse: sc.leak ? mw.length - mwHits.length : mw.length,
    fullGcs: ticks.reduce((n, t) => n + t.records.filter((r) => r.kind === 'mark-sweep-compact').length, 0),
  };
}

async function main() {
  const jobs = [];
  for (let run = 1; run <= runs; run++) for (const name of names) jobs.push([name, run]);
  const started = Date.now();
  const results = [];
  let next = 0;
  async function worker() {
    while (next < jobs.length) {
      const [name, run] = jobs[next++];
      const outcome = await runOne(name, run);
      try { results.push(judge(outcome)); } catch (err) { results.push({ name, run, error: err.message }); }
      process.stderr.write(`.${name}#${run}`);
    }
  }
  await Promise.all(Array.from({ length: Math.min(parallel, jobs.length) }, worker));
  process.stderr.write('\n');

  const med = (xs) => { const s = xs.filter((x) => x !== null).sort((a, b) => a - b); return s.length ? s[Math.floor((s.length - 1) / 2)] : null; };
  const fmt = (x) => (x === null ? '—' : `${x.toFixed(0)} s (${(x / windowSec).toFixed(2)}w)`);
  console.log(`window ${windowSec}s, ${runs} run(s), ${durationSec}s each, leak starts at ${leakStartSec}s, node ${process.version}, flags ${nodeFlags.join(' ')}`);
  console.log('| scenario | leak? | agent: detected | agent: time to detect (median) | agent: false leak alarms | spikes | memwatch: detected | memwatch: time to detect | memwatch: false alarms | full GCs/run |');
  console.log('|---|---|---|---|---|---|---|---|---|---|');
  let totalFalse = 0;
  let missed = 0;
  let late = 0;
  for (const name of names) {
    const rs = results.filter((r) => r.name === name && !r.error);
    const sc = scenarios[name];
    const falseAlarms = rs.reduce((n, r) => n + r.falseAlarms, 0);
    totalFalse += sc.leak ? 0 : falseAlarms;
    const det = rs.filter((r) => r.detected).length;
    if (sc.leak) missed += rs.length - det;
    const t = med(rs.map((r) => r.ttd));
    if (sc.leak) late += rs.filter((r) => r.ttd !== null && r.ttd > 1.5 * windowSec).length;
    const mwDet = rs.filter((r) => r.memwatchDetected).length;
    console.log(`| ${name}${sc.rate ? ` (${sc.rate})` : ''} | ${sc.leak ? sc.memory : 'no'} | ${sc.leak ? `${det}/${rs.length}` : '—'} | ${sc.leak ? fmt(t) : '—'} | ${falseAlarms} | ${rs.reduce((n, r) => n + r.spikes, 0)} | ${sc.leak ? `${mwDet}/${rs.length}` : '—'} | ${sc.leak ? fmt(med(rs.map((r) => r.memwatchTtd))) : '—'} | ${rs.reduce((n, r) => n + r.memwatchFalse, 0)} | ${(rs.reduce((n, r) => n + r.fullGcs, 0) / Math.max(1, rs.length)).toFixed(1)} |`);
  }
  const broken = results.filter((r) => r.error || r.errors);
  console.log(`\nfalse leak alarms on non-leak scenarios: ${totalFalse}; leak runs missed: ${missed}; detected later than 1.5x window: ${late}; runs with errors: ${broken.length}; wall time ${((Date.now() - started) / 1000).toFixed(0)} s`);
  for (const b of broken) console.log(`  ${b.name}#${b.run}: ${b.error ?? `exit ${b.exit} ${b.stderr}`}`);
  if (jsonOut) fs.writeFileSync(jsonOut, JSON.stringify(results, null, 2));
  if (keep) console.log(`recordings and agent logs kept in ${work}`);
  else fs.rmSync(work, { recursive: true, force: true });
}

main().catch((err) => { console.error(err); process.exit(1); });
