#!/usr/bin/env node
'use strict';
// `npm run demo`: the whole job end to end. Starts examples/leaky-service.js with the agent attached
// (short 60 s window so it finishes in a few minutes), drives traffic at it over loopback, prints what
// the agent logs as it happens and, every 10 s, one progress line (the detector's state, growth,
// streak and the earliest time a verdict can come); once the leak is detected and evidence written,
// runs the analyzer on that evidence, prints the suspects and writes the episode's HTML report.
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
/** `fit`: cut the line at the terminal's edge (progress and log narration; the full lines are in the agent log). */
const say = (text, fit = false) => {
  const line = `[demo ${new Date().toISOString().slice(11, 19)}] ${text}`;
  const width = process.stdout.columns || 120;
  process.stdout.write((fit && line.length > width ? line.slice(0, width - 1) + '…' : line) + '\n');
};

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
    say(`agent: ${describe(e)}`, true);
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
        `now ${mb(e.currentBytes)} of ${mb(e.limitBytes)} (${e.limitSource}), limit in ~${ttl}; evidence planned: ${(e.evidence || []).length} file(s) in ${e.episodeDir}`;
    }
    case 'evidence.ready':
      return `evidence ready: ${(e.files || []).length} file(s) in the manifest, ${(e.skipped || []).length} skipped, ${(e.pending || []).length} still to come`;
    case 'snapshot.written':
      return `heap snapshot written ${e.path} (${mb(e.bytes || 0)}, paused ${e.pauseMs ?? e.durationMs} ms)`;
    case 'snapshot.skipped':
      return `snapshot skipped: ${e.reason}`;
    case 'profile.written':
      return `heap profile written ${e.path || (e.paths || []).join(', ')}`;
    default: {
      // The event and its short scalar fields; the full line is in the agent log.
      const fields = Object.entries(e)
        .filter(([k, v]) => k !== 'event' && k !== 'time' && ['string', 'number', 'boolean'].includes(typeof v) && String(v).length <= 40)
        .slice(0, 4)
        .map(([k, v]) => `${k}=${v}`);
      return `${e.event} ${fields.join(' ')}`;
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
    if (!detectedAt && seen.some((e) => e.event === 'leak.detected')) {
      detectedAt = Date.now();
      say(`waiting for the second heap snapshot of the pair (taken once old space has grown further), at most ${SETTLE_MS / 1000} s`);
    }
    // Wait until the episode's evidence is complete (the pair, so the analyzer can diff: evidence.ready
    // with nothing pending), or SETTLE_MS at most.
    const complete = seen.some((e) => e.event === 'evidence.ready' && Array.isArray(e.pending) && e.pending.length === 0);
    if (detectedAt && (complete || Date.now() - detectedAt > SETTLE_MS)) break;
    if (port && !detectedAt && Date.now() - lastStatus > 10_000) {
      lastStatus = Date.now();
      const body = await get('/debug/leak-agent');
      let status;
      try {
        status = JSON.parse(body);
      } catch { /* service busy: skip this line */ }
      if (status) say(progressLine(status), true);
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

const STATE_RANK = { leak: 5, suspect: 4, plateau: 3, steady: 2, 'warming-up': 1 };
/** Evaluations in a row a trend must hold, per sensitivity (src/detect/thresholds.ts), unless status() says. */
const PERSISTENCE = { low: 20, normal: 15, high: 8 };
const secs = (ms) => `${Math.max(0, Math.round(ms / 1000))} s`;

/**
 * One short line from status(): the series closest to a verdict, its growth and streak, and the
 * earliest a verdict can come. Reads the fields defensively: a field that is absent is left out.
 */
function progressLine(s) {
  const d = s.detector || {};
  const series = d.series || d.states || {};
  const pick = Object.values(series)
    .filter((x) => x && typeof x.state === 'string')
    .sort((a, b) => (STATE_RANK[b.state] || 0) - (STATE_RANK[a.state] || 0) || (a.memory === 'old_space' ? -1 : 1))[0];
  const parts = [`up ${secs(s.uptimeMs || 0)}`];
  if (s.memory && s.memory.heapUsed) parts.push(`heap ${mb(s.memory.heapUsed)}`);
  if (!pick) return parts.concat(`sampler ${s.sampler}`).join(' · ');
  parts.push(`${pick.memory} ${pick.state}`);
  if (typeof pick.slopeBytesPerSec === 'number') parts.push(`${pick.slopeBytesPerSec >= 0 ? '+' : ''}${(pick.slopeBytesPerSec / 1024).toFixed(0)} KB/s`);
  const persistence = d.persistence || PERSISTENCE[d.sensitivity] || PERSISTENCE.normal;
  if (typeof pick.streak === 'number') parts.push(`streak ${pick.streak}/${persistence}`);
  const bucketMs = d.bucketMs;
  const windowMs = s.windowMs;
  if (typeof bucketMs === 'number') {
    const rest = Math.max(0, persistence - (pick.streak || 0)) * bucketMs;
    if (pick.state === 'warming-up' && typeof windowMs === 'number') parts.push(`verdict in ≥ ${secs(windowMs - (s.uptimeMs || 0) + rest)}`);
    else if (pick.state === 'suspect') parts.push(`verdict in ≥ ${secs(rest)}`);
    else if (pick.state !== 'leak') parts.push('no trend yet');
  }
  return parts.join(' · ');
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
  report(cli);
}

/** Writes the episode's HTML report (verdict, memory chart, suspects, allocation sites) and says how to open it. */
function report(cli) {
  const leak = seen.find((e) => e.event === 'leak.detected');
  const episode = leak && path.join(DIR, 'episodes', String(leak.episodeId));
  if (!episode || !fs.existsSync(path.join(episode, 'manifest.json'))) {
    say('no episode manifest was written, so there is no report');
    return;
  }
  const out = path.join(episode, 'report.html');
  const run = spawnSync(process.execPath, [cli, 'report', episode, '-o', out, '--quiet'], { encoding: 'utf8', maxBuffer: 64 << 20 });
  if (run.status !== 0) {
    say(`report failed: ${run.stderr.trim().split('\n').pop()}`);
    process.exit(1);
  }
  say(`report: leak-agent report ${path.relative(process.cwd(), episode)} -o ${path.relative(process.cwd(), out)}`);
  say(`open it in a browser: file://${out}`);
  say(`  (from a shell: xdg-open ${path.relative(process.cwd(), out)}, or open ${path.relative(process.cwd(), out)} on macOS)`);
}

watch().catch((err) => {
  say(`demo failed: ${err.stack || err}`);
  service.kill('SIGKILL');
  process.exit(1);
});
