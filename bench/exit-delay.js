// bench/exit-delay.js — how long the agent delays a host's exit once the host's own work is done.
// Goal: ≤ 100 ms in every state of the collector (none configured, healthy, down, slow, 503,
// resetting connections), with and without a call to stop() before the end.
// The host measures the gap itself: from its last piece of work to its 'exit' event.
// Run: npm run build && node bench/exit-delay.js [--runs 5]
'use strict';
const { spawn } = require('node:child_process');
const http = require('node:http');
const net = require('node:net');
const path = require('node:path');

const REPO = path.resolve(__dirname, '..');
const runs = Number(process.argv[process.argv.indexOf('--runs') + 1]) || 5;

function host(env, callStop) {
  const script = `
    let done = 0;
    process.on('exit', () => { process.stdout.write(JSON.stringify({ exitDelayMs: Date.now() - done }) + '\\n'); });
    setTimeout(async () => {
      ${callStop ? `await require(${JSON.stringify(REPO)}).stop();` : ''}
      done = Date.now();
    }, 2500);`;
  return new Promise((resolve) => {
    const clean = { ...process.env };
    for (const k of Object.keys(clean)) if (k.startsWith('OTEL_') || k.startsWith('LEAK_AGENT_')) delete clean[k];
    const p = spawn(process.execPath, ['-r', REPO, '-e', script], { env: { ...clean, LEAK_AGENT_LOG: '/dev/null', OTEL_METRIC_EXPORT_INTERVAL: '200', ...env } });
    let out = '';
    p.stdout.on('data', (d) => (out += d));
    const kill = setTimeout(() => p.kill('SIGKILL'), 60_000);
    p.on('close', () => {
      clearTimeout(kill);
      try { resolve(JSON.parse(out.trim()).exitDelayMs); } catch { resolve(Infinity); }
    });
  });
}

function server(handler) {
  const s = http.createServer(handler);
  return new Promise((r) => s.listen(0, '127.0.0.1', () => r(s)));
}

async function main() {
  const ok = await server((req, res) => { req.resume(); req.on('end', () => res.end('{}')); });
  const slow = await server((req) => { req.resume(); });
  const busy = await server((req, res) => { req.resume(); req.on('end', () => res.writeHead(503).end()); });
  const reset = await server((req) => { req.socket.resetAndDestroy(); });
  const closed = net.createServer();
  await new Promise((r) => closed.listen(0, '127.0.0.1', r));
  const closedPort = closed.address().port;
  await new Promise((r) => closed.close(r));
  const url = (s) => `http://127.0.0.1:${s.address().port}`;
  const states = [
    ['no collector configured', {}],
    ['healthy', { OTEL_EXPORTER_OTLP_ENDPOINT: url(ok) }],
    ['down (connection refused)', { OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${closedPort}` }],
    ['slow (never answers)', { OTEL_EXPORTER_OTLP_ENDPOINT: url(slow) }],
    ['answering 503', { OTEL_EXPORTER_OTLP_ENDPOINT: url(busy) }],
    ['resetting connections', { OTEL_EXPORTER_OTLP_ENDPOINT: url(reset) }],
  ];
  console.log(`node ${process.version}, ${runs} runs each; exit delay after the host's last work, ms (median / max)`);
  for (const [name, env] of states) {
    for (const callStop of [false, true]) {
      const delays = [];
      for (let i = 0; i < runs; i++) delays.push(await host(env, callStop));
      delays.sort((a, b) => a - b);
      console.log(`${name.padEnd(28)} ${callStop ? 'after stop()' : 'no stop()   '}  ${String(delays[Math.floor(runs / 2)]).padStart(5)} / ${String(delays[runs - 1]).padStart(5)}`);
    }
  }
  for (const s of [ok, slow, busy, reset]) { s.closeAllConnections(); s.close(); }
}

main();
