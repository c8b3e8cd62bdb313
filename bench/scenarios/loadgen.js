'use strict';
/**
 * Load generator for the HTTP service scenarios: a separate process (forked without the agent) that
 * sends ~`rps` requests per second over keep-alive loopback connections to the service in its parent,
 * with a mix of paths like a small API's traffic. It exits when its parent goes away.
 *
 *   (forked by services.js) node loadgen.js <port> <rps>
 *
 * SCENARIO_LOADGEN_CGROUP_PROCS, when set, names a cgroup.procs file this process moves itself into
 * first: the scorer passes its own cgroup so the load generator does not count against the memory
 * limit of the container the service runs in.
 */
const fs = require('node:fs');
const http = require('node:http');

const [portArg, rpsArg] = process.argv.slice(2);
const port = Number(portArg);
const rps = Number(rpsArg ?? 300);
if (process.env.SCENARIO_LOADGEN_CGROUP_PROCS) {
  try { fs.writeFileSync(process.env.SCENARIO_LOADGEN_CGROUP_PROCS, String(process.pid)); } catch { /* stays in the service's cgroup */ }
}
process.on('disconnect', () => process.exit(0));

const agent = new http.Agent({ keepAlive: true, maxSockets: 16 });
let n = 0;
let inflight = 0;
function one() {
  n += 1;
  const r = Math.random();
  const user = Math.floor(Math.random() * 50000);
  const path = r < 0.6 ? `/api/items/${Math.floor(Math.random() * 10000)}?user=${user}`
    : r < 0.8 ? `/api/search?q=${Math.random().toString(36).slice(2, 8)}&page=${n % 7}`
      : r < 0.95 ? '/login' : '/healthz';
  const method = path === '/login' ? 'POST' : 'GET';
  inflight += 1;
  const req = http.request({ host: '127.0.0.1', port, path, method, agent, headers: { 'x-request-id': `lg-${process.pid}-${n}`, 'content-type': 'application/json', 'user-agent': 'scenario-loadgen/1' } }, (res) => {
    res.resume();
    res.on('end', () => { inflight -= 1; });
  });
  req.on('error', () => { inflight -= 1; });
  req.end(method === 'POST' ? JSON.stringify({ user: `user${user}`, password: 'x'.repeat(12) }) : undefined);
}
// 20 ticks a second; skip sending while more than 64 requests are outstanding (the service is slow).
setInterval(() => { for (let k = 0; k < rps / 20 && inflight < 64; k++) one(); }, 50);
