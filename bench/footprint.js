// bench/footprint.js — the agent's memory footprint at start: RSS, V8 heapUsed and external, each
// against the same process with the agent off, median of several runs, and which optional SDKs got
// loaded. Configurations: defaults (no OpenTelemetry, no upload), OTLP export to a real receiver on
// loopback, S3 upload configured (nothing uploaded yet: the AWS SDK must not be loaded for that).
// Goals: defaults ≤ 4 MB RSS and ≤ 1 MB V8 heap over agent-off.
// Run: npm run build && node bench/footprint.js [runs=5]
'use strict';
const { spawn } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');

const REPO = path.resolve(__dirname, '..');
const RUNS = Number(process.argv[2] || 5);

// The host: idle for 2 s after start (the agent's first ticks run), then two full GCs and a reading.
const HOST = `
  setTimeout(() => {
    global.gc(); global.gc();
    const m = process.memoryUsage();
    const loaded = new Set();
    for (const f of Object.keys(require.cache)) { const x = /node_modules\\/((?:@[^/]+\\/)?[^/]+)\\//.exec(f); if (x) loaded.add(x[1]); }
    const sdks = [...loaded].filter((n) => n.startsWith('@opentelemetry/') || n.startsWith('@aws-sdk/') || n.startsWith('@smithy/'));
    console.log(JSON.stringify({ rss: m.rss, heapUsed: m.heapUsed, external: m.external, sdks }));
    process.exit(0);
  }, 2000);`;

function child(agent, env, dir) {
  const clean = { ...process.env };
  for (const k of Object.keys(clean)) if (k.startsWith('OTEL_') || k.startsWith('LEAK_AGENT_') || k.startsWith('AWS_')) delete clean[k];
  const args = ['--expose-gc', ...(agent ? ['-r', REPO] : []), '-e', HOST];
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, args, { env: { ...clean, LEAK_AGENT_LOG: path.join(dir, 'agent.log'), LEAK_AGENT_DIR: dir, ...env }, stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    p.stdout.on('data', (d) => (out += d));
    p.on('close', (code) => (code === 0 ? resolve(JSON.parse(out.trim().split('\n').pop())) : reject(new Error(`exit ${code}`))));
  });
}

async function main() {
  const { MockOtlpServer } = require('@elastic/mockotlpserver');
  const otlp = new MockOtlpServer({ logLevel: 'warn', services: ['http'], httpHostname: '127.0.0.1', httpPort: 0 });
  await otlp.start();
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'leak-agent-footprint-'));
  const configs = [
    { name: 'agent off', agent: false, env: {} },
    { name: 'defaults', agent: true, env: {} },
    // Two breakdowns of the defaults, to see where the footprint comes from.
    { name: 'defaults, NEAR_OOM=off', agent: true, env: { LEAK_AGENT_NEAR_OOM: 'off' } },
    { name: 'defaults, JS fallback', agent: true, env: { LEAK_AGENT_NATIVE: 'off' } },
    { name: 'OTLP export', agent: true, env: { OTEL_EXPORTER_OTLP_ENDPOINT: String(otlp.httpUrl).replace(/\/$/, ''), OTEL_METRIC_EXPORT_INTERVAL: '1000' } },
    { name: 'S3 upload configured', agent: true, env: { LEAK_AGENT_UPLOAD: 's3://evidence-bucket/svc', AWS_REGION: 'us-east-1', AWS_ACCESS_KEY_ID: 'bench', AWS_SECRET_ACCESS_KEY: 'bench', AWS_ENDPOINT_URL_S3: 'http://127.0.0.1:9' } },
  ];
  const samples = new Map(configs.map((c) => [c.name, []]));
  for (let i = 0; i < RUNS; i++) {
    for (const c of configs) samples.get(c.name).push(await child(c.agent, c.env, fs.mkdtempSync(path.join(tmp, 'run-'))));
  }
  await otlp.close();
  fs.rmSync(tmp, { recursive: true, force: true });
  const med = (xs) => { const s = [...xs].sort((a, b) => a - b); return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2; };
  const MB = (b) => (b >= 0 ? '+' : '') + (b / 1048576).toFixed(2) + ' MB';
  const base = (k) => med(samples.get('agent off').map((r) => r[k]));
  console.log(`footprint 2 s after start, after two full GCs; median of ${RUNS} runs per configuration, alternating; node ${process.version}, loadavg ${os.loadavg().map((l) => l.toFixed(1)).join(' ')}`);
  console.log(`agent off: rss ${(base('rss') / 1048576).toFixed(1)} MB, heapUsed ${(base('heapUsed') / 1048576).toFixed(2)} MB, external ${(base('external') / 1048576).toFixed(2)} MB`);
  for (const c of configs.slice(1)) {
    const rs = samples.get(c.name);
    const spread = (k) => `${MB(Math.min(...rs.map((r) => r[k])) - base(k))}..${MB(Math.max(...rs.map((r) => r[k])) - base(k))}`;
    const sdks = [...new Set(rs.flatMap((r) => r.sdks))];
    console.log(`${c.name.padEnd(24)} rss ${MB(med(rs.map((r) => r.rss)) - base('rss'))} (${spread('rss')})  heapUsed ${MB(med(rs.map((r) => r.heapUsed)) - base('heapUsed'))} (${spread('heapUsed')})  external ${MB(med(rs.map((r) => r.external)) - base('external'))}  SDK packages loaded: ${sdks.length ? sdks.length + ' (' + sdks.slice(0, 4).join(', ') + (sdks.length > 4 ? ', …' : '') + ')' : 'none'}`);
  }
}

main().catch((err) => { console.error(err); process.exit(1); });
