#!/usr/bin/env node
'use strict';
// `npm run demo`: the whole job end to end. Starts examples/leaky-service.js with the agent attached
// (short 60 s window so it finishes in a few minutes), drives traffic at it over loopback, prints what
// the agent logs as it happens, and once the leak is detected and evidence written, runs the analyzer
// on that evidence and prints the suspects.
const { spawn, spawnSync } = require('node:child_process');
const fs = require('node:fs');
const http = require('node:http');
const path = require('node:path');

const REPO = path.resolve(__dirname, '..');
const DIR = path.resolve(process.env.DEMO_DIR || path.join(REPO, '.leak-agent', 'demo'));
const LOG = path.join(DIR, 'agent.log');
const TIMEOUT_MS = Number(process.env.DEMO_TIMEOUT_MS || 6 * 60_000);
/** After leak.detected, how long we wait for evidence lines (snapshot pair, uploads) to settle. */
const SETTLE_MS = Number(process.env.DEMO_SETTLE_MS || 120_000);

const mb = (n) => (n / 1048576).toFixed(1) + ' MB';
const say = (text) => process.stdout.write(`[demo ${new Date().toISOString().slice(11, 19)}] ${text}\n`);

fs.rmSync(DIR, { recursive: true, force: true });
fs.mkdirSync(DIR, { recursive: true });

say(`starting examples/leaky-service.js with the agent attached (evidence in ${path.relative(process.cwd(), DIR) || '.'})`);
const service = spawn(process.execPath, ['--max-old-space-size=512', '-r', REPO, path.join(__dirname, 'leaky-service.js')], {
  cwd: REPO,
  env: {
    ...process.env,
    LEAK_AGENT_WINDOW: process.env.LEAK_AGENT_WINDOW || '60s',
    // Production waits 10 minutes between snapshots; the demo wants the pair within a couple of minutes.
    LEAK_AGENT_SNAPSHOT_COOLDOWN: process.env.LEAK_AGENT_SNAPSHOT_COOLDOWN || '20s',
    LEAK_AGENT_DIR: DIR,
    LEAK_AGENT_LOG: LOG,
    OTEL_SERVICE_NAME: process.env.OTEL_SERVICE_NAME || 'leaky-demo',
  },
  stdio: ['ignore', 'pipe', 'inherit'],
});

let port;
let finished = false;
const seen = [];
let logOffset = 0;

service.stdout.once('data', (chunk) => {
  port = JSON.parse(String(chunk).split('\n')[0]).listening;
  say(`service listening on 127.0.0.1:${port}; sending traffic (each request leaks one SessionRecord into a Map)`);
  drive();
});
service.on('exit', (code, signal) => {
  if (!finished) {
    say(`the service exited unexpectedly (code ${code}, signal ${signal})`);
    process.exit(1);
  }
});

function get(pathname) {
  return new Promise((resolve) => {
    const req = http.get({ host: '127.0.0.1', port, path: pathname, agent: keepAlive }, (res) => {
      let body = '';
      res.on('data', (d) => (body += d));
      res.on('end', () => resolve(body));
    });
    req.on('error', () => resolve(''));
  });
}
const keepAlive = new http.Agent({ keepAlive: true, maxSockets: 8 });

/**
 * A steady REQUESTS_PER_SECOND (about 1 MB/s of leaked sessions at the default): fast enough to see
 * within a couple of windows, slow enough that the heap limit is minutes away, as in a real incident.
 */
const REQUESTS_PER_SECOND = Number(process.env.DEMO_RPS || 400);
function drive() {
  const perTick = Math.max(1, Math.round(REQUESTS_PER_SECOND / 20));
  const timer = setInterval(() => {
    if (finished) return clearInterval(timer);
    for (let i = 0; i < perTick; i++) get('/checkout');
  }, 50);
}

/** Prints the agent's own log lines as they appear, in words. */
function readLog() {
  if (!fs.existsSync(LOG)) return;
  const text = fs.readFileSync(LOG, 'utf8');
  const fresh = text.slice(logOffset);
  const lastNewline = fresh.lastIndexOf('\n');
  if (lastNewline < 0) return;
  logOffset += lastNewline + 1;
  for (const line of fresh.slice(0, lastNewline).split('\n')) {
    if (!line.trim()) continue;
    const e = JSON.parse(line);
    seen.push(e);
    say(`agent: ${describe(e)}`);
  }
}

function describe(e) {
  switch (e.event) {
    case 'agent.started':
      return `started (sampler ${e.sampler}: ${e.samplerReason}; heap limit ${mb(e.heapLimit)}; window ${e.window})`;
    case 'leak.detected': {
      const ttl = e.timeToLimitSec == null ? 'unknown' : `${Math.round(e.timeToLimitSec)} s`;
      return `LEAK DETECTED in ${e.memory}: +${(e.growthBytesPerSec / 1024).toFixed(1)} KB/s ` +
        `[${(e.growthLowerBytesPerSec / 1024).toFixed(1)}, ${(e.growthUpperBytesPerSec / 1024).toFixed(1)}], p=${Number(e.pValue).toExponential(1)}, ` +
        `now ${mb(e.currentBytes)} of ${mb(e.limitBytes)} (${e.limitSource}), limit in ~${ttl}; evidence: ${(e.evidence || []).length} file(s)`;
    }
    case 'snapshot.written':
      return `heap snapshot written ${e.path} (${mb(e.bytes || 0)}, paused ${e.pauseMs ?? e.durationMs} ms)`;
    case 'snapshot.skipped':
      return `snapshot skipped: ${e.reason}`;
    case 'profile.written':
      return `heap profile written ${e.path || (e.paths || []).join(', ')}`;
    default: {
      const { event, time, ...rest } = e;
      void time;
      return `${event} ${JSON.stringify(rest).slice(0, 200)}`;
    }
  }
}

async function watch() {
  const startedAt = Date.now();
  let detectedAt = 0;
  let lastStatus = 0;
  while (Date.now() - startedAt < TIMEOUT_MS) {
    await new Promise((r) => setTimeout(r, 500));
    readLog();
    if (!detectedAt && seen.some((e) => e.event === 'leak.detected')) detectedAt = Date.now();
    // Wait for the second snapshot of the pair (so the analyzer can diff), or SETTLE_MS at most.
    const snapshots = seen.filter((e) => e.event === 'snapshot.written').length;
    if (detectedAt && (snapshots >= 2 || Date.now() - detectedAt > SETTLE_MS)) break;
    if (port && Date.now() - lastStatus > 10_000) {
      lastStatus = Date.now();
      const body = await get('/debug/leak-agent');
      try {
        const s = JSON.parse(body);
        const old = s.memory ? `heap used ${mb(s.memory.heapUsed)}, rss ${mb(s.memory.rss)}` : '';
        const states = s.detector ? ` detector ${JSON.stringify(s.detector.states || s.detector)}` : '';
        say(`status: sampler ${s.sampler}, ${s.gcs ?? s.records} GCs seen, ${old}${states}`.slice(0, 300));
      } catch { /* service busy */ }
    }
  }
  finished = true;
  service.kill('SIGTERM');
  await new Promise((r) => setTimeout(r, 300));
  readLog();
  if (!detectedAt) {
    say(`no leak detected within ${TIMEOUT_MS / 1000} s — this is a failure of the demo`);
    process.exit(1);
  }
  analyse();
}

/** Runs the CLI on the evidence the agent left behind. */
function analyse() {
  const cli = path.join(REPO, 'dist', 'cli', 'main.js');
  const snapshots = seen.filter((e) => e.event === 'snapshot.written').map((e) => e.path);
  if (!fs.existsSync(cli) || snapshots.length === 0) {
    say(snapshots.length === 0 ? 'no snapshot was written, nothing to analyse' : 'the analyzer CLI is not built');
    return;
  }
  const args = [cli, 'analyze', snapshots.at(-1), '--json'];
  if (snapshots.length > 1) args.push('--baseline', snapshots[0]);
  say(`analysing: leak-agent ${args.slice(1).map((a) => path.relative(process.cwd(), a) || a).join(' ')}`);
  const run = spawnSync(process.execPath, args, { encoding: 'utf8', maxBuffer: 64 << 20 });
  if (run.status !== 0) {
    say(`analyzer failed: ${run.stderr.trim().split('\n').pop()}`);
    process.exit(1);
  }
  const { suspects } = JSON.parse(run.stdout);
  say('top suspects:');
  for (const s of suspects.slice(0, 3)) {
    say(`  ${s.name}: +${s.countDelta} objects, +${mb(s.sizeDelta)}, retained ${mb(s.retainedSize)}`);
    say(`    held by: ${s.path.join(' -> ')}`);
  }
}

watch().catch((err) => {
  say(`demo failed: ${err.stack || err}`);
  service.kill('SIGKILL');
  process.exit(1);
});
