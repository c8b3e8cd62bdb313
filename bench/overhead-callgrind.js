// bench/overhead-callgrind.js — what the agent costs a GC-heavy process, in instructions (callgrind).
// Each configuration runs bench/overhead/workload.js at N and 2N iterations under callgrind; the
// difference between the two is the steady state (start-up cancels out) and 2·I(N) − I(2N) is the
// start-up. Goals: steady state ≤ +0.3 % at defaults, ≤ +0.5 % with OTLP export; agent start-up ≤ 100 M.
// The A/A line (agent off against agent off) shows the noise.
// Caveat: the agent's 1 s tick is wall-clock driven, and callgrind runs ~50× slower, so per-tick work
// is over-weighted here relative to per-GC work (the wall time of each run is printed).
// Run: npm run build && node bench/overhead-callgrind.js [N=30000] [--jobs=2] [--keep=DIR] [--node-flags=…] [--configs=a,b]
'use strict';
const { spawn, execFileSync } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const net = require('node:net');

const REPO = path.resolve(__dirname, '..');
const WORKLOAD = path.join(__dirname, 'overhead', 'workload.js');
const args = process.argv.slice(2);
const N = Number(args.find((a) => /^\d+$/.test(a)) || 30000);
const JOBS = Number((args.find((a) => a.startsWith('--jobs=')) || '--jobs=2').slice(7));
// --node-flags="--single-threaded": V8 without background compile/GC threads, so tier-up does not
// depend on thread timing (the A/A line shows how much that matters). --configs=off,defaults: a subset.
const nodeFlags = ((args.find((a) => a.startsWith('--node-flags=')) || '--node-flags=').slice(13)).split(' ').filter(Boolean);
const only = (args.find((a) => a.startsWith('--configs=')) || '').slice(10).split(',').filter(Boolean);
const keepArg = args.find((a) => a.startsWith('--keep='));
const OUT = keepArg ? path.resolve(keepArg.slice(7)) : fs.mkdtempSync(path.join(os.tmpdir(), 'leak-agent-callgrind-'));
fs.mkdirSync(OUT, { recursive: true });

function freePort() {
  return new Promise((resolve) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => { const { port } = s.address(); s.close(() => resolve(port)); });
  });
}

/** One callgrind run; resolves with the instruction count, wall time and output file. */
function run(name, iterations, env, agent) {
  const file = path.join(OUT, `${name}-${iterations}.callgrind`);
  const clean = { ...process.env };
  for (const k of Object.keys(clean)) if (k.startsWith('OTEL_') || k.startsWith('LEAK_AGENT_')) delete clean[k];
  const dir = fs.mkdtempSync(path.join(OUT, `${name}-${iterations}-dir-`));
  const nodeArgs = [...nodeFlags, ...(agent ? ['-r', REPO] : []), WORKLOAD, String(iterations)];
  const started = Date.now();
  return new Promise((resolve, reject) => {
    const p = spawn('valgrind', ['--tool=callgrind', '--smc-check=all-non-file', `--callgrind-out-file=${file}`, process.execPath, ...nodeArgs], {
      env: { ...clean, LEAK_AGENT_LOG: path.join(dir, 'agent.log'), LEAK_AGENT_DIR: dir, ...env },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let err = '';
    p.stderr.on('data', (d) => (err += d));
    p.on('close', (code) => {
      const m = /Collected : (\d+)/.exec(err);
      if (code !== 0 || !m) return reject(new Error(`${name} ${iterations}: exit ${code}\n${err.slice(-2000)}`));
      resolve({ name, iterations, instructions: Number(m[1]), wallMs: Date.now() - started, file });
    });
  });
}

async function pool(tasks, jobs) {
  const results = new Array(tasks.length);
  let next = 0;
  await Promise.all(Array.from({ length: jobs }, async () => {
    while (next < tasks.length) { const i = next++; results[i] = await tasks[i](); }
  }));
  return results;
}

async function main() {
  const { MockOtlpServer } = require('@elastic/mockotlpserver');
  const otlp = new MockOtlpServer({ logLevel: 'warn', services: ['http'], httpHostname: '127.0.0.1', httpPort: 0 });
  await otlp.start();
  const prom = await freePort();
  const all = [
    { name: 'off', agent: false, env: {} },
    { name: 'off-again', agent: false, env: {} },
    { name: 'defaults', agent: true, env: {} },
    { name: 'otlp+prometheus', agent: true, env: { OTEL_EXPORTER_OTLP_ENDPOINT: String(otlp.httpUrl).replace(/\/$/, ''), LEAK_AGENT_PROMETHEUS: `127.0.0.1:${prom}` } },
    { name: 'js-fallback', agent: true, env: { LEAK_AGENT_NATIVE: 'off' } },
  ];
  const configs = all.filter((c) => !only.length || only.includes(c.name));
  const t0 = Date.now();
  const tasks = [];
  for (const c of configs) for (const it of [N, 2 * N]) tasks.push(() => run(c.name, it, c.env, c.agent));
  const results = await pool(tasks, JOBS);
  await otlp.close();
  const by = (name, it) => results.find((r) => r.name === name && r.iterations === it);
  const steady = (name) => by(name, 2 * N).instructions - by(name, N).instructions;
  const startup = (name) => 2 * by(name, N).instructions - by(name, 2 * N).instructions;
  const M = (x) => (x / 1e6).toFixed(1) + ' M';
  console.log(`callgrind, workload ${N} vs ${2 * N} iterations, node ${process.version}${nodeFlags.length ? ' ' + nodeFlags.join(' ') : ''}, ${os.cpus().length} cpus, loadavg ${os.loadavg().map((l) => l.toFixed(1)).join(' ')}`);
  console.log('configuration       I(N)          I(2N)         steady Δ vs off   start-up vs off   wall N / 2N');
  for (const c of configs) {
    const pct = ((steady(c.name) - steady('off')) / steady('off')) * 100;
    const su = startup(c.name) - startup('off');
    console.log(`${c.name.padEnd(18)}  ${M(by(c.name, N).instructions).padStart(12)}  ${M(by(c.name, 2 * N).instructions).padStart(12)}  ${(pct >= 0 ? '+' : '') + pct.toFixed(2) + ' %'}`.padEnd(66)
      + `${(su >= 0 ? '+' : '') + M(su)}`.padEnd(18) + `${(by(c.name, N).wallMs / 1000).toFixed(0)} s / ${(by(c.name, 2 * N).wallMs / 1000).toFixed(0)} s`);
  }
  console.log(`(off-again is the A/A line: its deltas are the noise.) total ${((Date.now() - t0) / 1000).toFixed(0)} s; callgrind files in ${OUT}`);
  console.log(`where the defaults' instructions go: node bench/overhead/annotate-diff.js ${by('off', 2 * N).file} ${by('defaults', 2 * N).file}`);
}

main().catch((err) => { console.error(err); process.exit(1); });
