'use strict';
// A small HTTP service with a realistic leak: every request registers a "session" in a module-level
// Map that nothing ever evicts, plus ordinary short-lived garbage. Run it with the agent attached:
//   node -r leak-agent examples/leaky-service.js        (from a project that installed leak-agent)
//   node -r ./ examples/leaky-service.js                 (from this repository)
const http = require('node:http');

class SessionRecord {
  constructor(id, user) {
    this.id = id;
    this.user = user;
    this.createdAt = Date.now();
    // The payload an app would cache "just for this request" (~0.5 KB retained per session in the
    // demo's own analysis: +21,080 SessionRecords, +10.5 MB between the two snapshots).
    this.payload = 'x'.repeat(1024) + id;
    this.history = [{ at: this.createdAt, path: '/checkout' }];
  }
}

/** The agent's public API when it is loaded (by `-r`/`--import`), else nothing. */
function agentStatus() {
  try {
    return require('leak-agent').status();
  } catch {
    return { running: false, sampler: 'none' };
  }
}

/** The leak: sessions are added on every request and never removed. */
const sessions = new Map();
let nextId = 0;

function handle(req, res) {
  if (req.url === '/healthz') {
    res.end('ok');
    return;
  }
  if (req.url === '/debug/leak-agent') {
    // What the agent sees right now (status() is part of the public API).
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify(agentStatus()));
    return;
  }
  const id = nextId++;
  sessions.set(id, new SessionRecord(id, `user-${id % 1000}`));
  // Ordinary per-request garbage that is collected: the noise the detector must see through.
  const scratch = [];
  for (let i = 0; i < 200; i++) scratch.push({ i, s: String(i * id) });
  res.setHeader('content-type', 'application/json');
  res.end(JSON.stringify({ id, sessions: sessions.size, scratch: scratch.length }));
}

const server = http.createServer(handle);
server.listen(Number(process.env.PORT || 0), '127.0.0.1', () => {
  const { port } = server.address();
  // The demo driver reads this line to know where to send traffic.
  process.stdout.write(JSON.stringify({ listening: port, pid: process.pid }) + '\n');
});

process.on('SIGTERM', () => server.close(() => process.exit(0)));
