#!/usr/bin/env node
/**
 * Snapshot analysis benchmark: our analyzer vs memlab on the same synthetic snapshot, in one run.
 *
 *   npm run build && node bench/analysis/bench.js --mb 100      # ~100 MB file
 *   node bench/analysis/bench.js --mb 1000                      # ~1 GB file (run once, late)
 *
 * Goal: at least 5× faster than memlab with less than half its peak memory, and the
 * 1 GB file within this machine's memory. Each tool runs in its own child process (one after the
 * other, never together) so its peak RSS is its own; memlab gets a time and memory cap and is
 * reported DNF when it hits one. Files go to $LEAK_AGENT_BENCH_DIR (default /tmp/leak-agent-bench)
 * and are reused when present.
 *
 * What is timed: parse + dominators/retained sizes + suspects (ours: the single-snapshot
 * pipeline, accumulation point and retainer path; memlab: its `object-size` heap analysis, which
 * parses, computes dominators and retained sizes and ranks the largest objects).
 */
'use strict';
const { spawn } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { generate } = require('./generate-snapshot');

function arg(name, fallback) {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : fallback;
}

const mb = Number(arg('mb', '100'));
const dir = process.env.LEAK_AGENT_BENCH_DIR || path.join(os.tmpdir(), 'leak-agent-bench');
const timeCapSec = Number(arg('time-cap', String(mb >= 500 ? 2400 : 900)));
const memCapMB = Number(arg('mem-cap', String(Math.min(16384, Math.floor((os.totalmem() / 1048576) * 0.6)))));

function readStatusKB(pid, field) {
  try {
    const m = fs.readFileSync(`/proc/${pid}/status`, 'utf8').match(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm'));
    return m ? Number(m[1]) : 0;
  } catch {
    return 0;
  }
}

/** Runs one tool; kills it at the caps. Resolves { ok, seconds, maxRssMB, result?, reason? }. */
function runTool(label, args) {
  return new Promise((resolve) => {
    const started = Date.now();
    const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    let peakKB = 0;
    let killedFor = null;
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (err = (err + d).slice(-4000)));
    const poll = setInterval(() => {
      peakKB = Math.max(peakKB, readStatusKB(child.pid, 'VmHWM'), readStatusKB(child.pid, 'VmRSS'));
      if (peakKB / 1024 > memCapMB) killedFor = `memory cap ${memCapMB} MB`;
      else if ((Date.now() - started) / 1000 > timeCapSec) killedFor = `time cap ${timeCapSec} s`;
      if (killedFor) child.kill('SIGKILL');
    }, 200);
    child.on('exit', (code, signal) => {
      clearInterval(poll);
      const seconds = (Date.now() - started) / 1000;
      const line = out.trim().split('\n').pop();
      if (code === 0 && line) {
        const result = JSON.parse(line);
        resolve({ label, ok: true, seconds: result.seconds, maxRssMB: Math.max(result.maxRssMB, peakKB / 1024), result });
      } else {
        const reason = killedFor || (signal ? `killed by ${signal}` : `exit ${code}: ${err.trim().split('\n').slice(-3).join(' | ')}`);
        resolve({ label, ok: false, seconds, maxRssMB: peakKB / 1024, reason });
      }
    });
  });
}

async function main() {
  fs.mkdirSync(dir, { recursive: true });
  const file = path.join(dir, `synthetic-${mb}mb.heapsnapshot`);
  if (!fs.existsSync(file)) {
    process.stderr.write(`generating ${file} …\n`);
    const t = Date.now();
    const r = generate(file, Math.max(2000, Math.round((mb * 1048576) / 55)));
    process.stderr.write(`  ${(r.bytes / 1048576).toFixed(0)} MB, ${r.nodes} nodes, ${r.edges} edges in ${((Date.now() - t) / 1000).toFixed(0)} s\n`);
  }
  const size = fs.statSync(file).size;
  console.log(`file: ${file} (${(size / 1048576).toFixed(0)} MB); machine: ${os.cpus().length} cores, ${(os.totalmem() / 1073741824).toFixed(0)} GB, load ${os.loadavg().map((x) => x.toFixed(1)).join(' ')}`);
  console.log(`caps for memlab: ${timeCapSec} s, ${memCapMB} MB RSS`);
  const ours = await runTool('leak-agent', [path.join(__dirname, 'run-ours.js'), file]);
  const memlab = await runTool('memlab', [`--max-old-space-size=${memCapMB}`, path.join(__dirname, 'run-memlab.js'), file]);
  for (const r of [ours, memlab]) {
    console.log(`${r.label.padEnd(11)} ${r.ok ? `${r.seconds.toFixed(1).padStart(7)} s wall ${r.result.cpuSeconds.toFixed(1).padStart(7)} s CPU  peak RSS ${r.maxRssMB.toFixed(0).padStart(6)} MB` : `DNF (${r.reason}) after ${r.seconds.toFixed(0)} s, peak RSS ${r.maxRssMB.toFixed(0)} MB`}`);
  }
  if (ours.ok) console.log(`ours: phases ${JSON.stringify(ours.result.phases)}; top suspect ${ours.result.top && `${ours.result.top.name} ×${ours.result.top.count} via ${ours.result.top.path}`}`);
  if (ours.ok && memlab.ok) {
    const speed = memlab.seconds / ours.seconds;
    const cpuSpeed = memlab.result.cpuSeconds / ours.result.cpuSeconds;
    const mem = ours.maxRssMB / memlab.maxRssMB;
    // Wall time is what a user waits; on a shared machine CPU time is the steadier comparison.
    console.log(`speed-up ${speed.toFixed(1)}× wall, ${cpuSpeed.toFixed(1)}× CPU (goal ≥ 5×); memory ${(100 * mem).toFixed(0)}% of memlab's (goal < 50%): ${speed >= 5 && mem < 0.5 ? 'GOAL MET' : cpuSpeed >= 5 && mem < 0.5 ? 'goal met in CPU time, not in wall time' : 'goal missed'}`);
  } else if (ours.ok) {
    console.log(`memlab did not finish; ours finished in ${ours.seconds.toFixed(1)} s at ${ours.maxRssMB.toFixed(0)} MB`);
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
