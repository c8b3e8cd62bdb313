'use strict';
/**
 * Runs one scenario in this process (the agent is attached with `node -r <repo>`), and records
 * every GC record and a process-memory reading per second to SCENARIO_RECORD (JSON lines), so the
 * scorer can judge the same series with the memwatch rule and replay it through the detector.
 *
 * Usage: node -r <repo> bench/scenarios/child.js <scenario> <durationSec> <leakStartSec>
 */
const fs = require('node:fs');
const path = require('node:path');
const { scenarios, background } = require('./workloads');
const dist = path.join(__dirname, '..', '..', 'dist');
const { JsSampler } = require(path.join(dist, 'sampler', 'js-sampler'));
const { readProcessMemory } = require(path.join(dist, 'process', 'memory'));

const [name, durationArg, leakStartArg] = process.argv.slice(2);
const scenario = scenarios[name];
if (!scenario) { console.error(`unknown scenario ${name}; known: ${Object.keys(scenarios).join(', ')}`); process.exit(2); }
const durationSec = Number(durationArg ?? 120);
const leakStartSec = Number(leakStartArg ?? 15);
const out = fs.openSync(process.env.SCENARIO_RECORD ?? `/tmp/scenario-${name}.jsonl`, 'w');
const started = Date.now();

const traceAgent = process.env.SCENARIO_TRACE ? require(path.join(__dirname, '..', '..')) : undefined;
const recorder = new JsSampler();
recorder.start();
fs.writeSync(out, JSON.stringify({ type: 'start', t: started, scenario: name, leak: scenario.leak, leakStartMs: started + leakStartSec * 1000 }) + '\n');
setInterval(() => {
  const records = recorder.drain().map((r) => ({ kind: r.kind, startTime: r.startTime, duration: r.duration, after: r.after, before: r.before, external: r.external }));
  // The agent's own view of each series (state, slope, p, effect), for diagnosing a run afterwards.
  const detector = traceAgent ? traceAgent.status().detector : undefined;
  fs.writeSync(out, JSON.stringify({ type: 'tick', memory: readProcessMemory(), records, detector }) + '\n');
}, 1000);

const kept = [];
const exit = (code) => { fs.closeSync(out); process.exit(code); };
const ctx = {
  leakStartSec,
  agent: traceAgent,
  at(sec, fn) { setTimeout(fn, sec * 1000); },
  keep(x) { kept.push(x); },
  /** Adds a line to the recording (e.g. the moment a scenario saw the verdict). */
  mark(line) { fs.writeSync(out, JSON.stringify(line) + '\n'); },
  exit,
};
// HTTP services make their own traffic; bare scenarios are only what they say.
if (!scenario.service && !scenario.bare) background();
scenario.run(ctx);
setTimeout(() => exit(0), durationSec * 1000);
