'use strict';
/**
 * The scenario corpus: workloads that run inside a real Node child process with the agent attached.
 * Every scenario runs the same background "service" (request-shaped garbage with a little promotion,
 * so the heap is noisy like a real server) plus its own behaviour. `leak: true` scenarios start
 * retaining memory at `leakStartSec`; the scorer measures time to detect from there.
 *
 * Rates are chosen around the detector's defaults for a 60 s window: the slowest leak grows about
 * 1.8 MB per window, close to the minimum effect size, so it is a real test of sensitivity.
 */
const { EventEmitter } = require('node:events');

const KB = 1024;
const MB = 1024 * KB;

/** Allocates roughly `bytesPerSec` of retained objects per second into `sink(obj)`. */
function retainAtRate(bytesPerSec, make, sink) {
  // One tick every 50 ms; an object from make() is ~ `size` bytes (measured roughly, see make fns).
  const perTick = bytesPerSec / 20;
  let owed = 0;
  return setInterval(() => {
    owed += perTick;
    while (owed > 0) {
      const { obj, size } = make();
      sink(obj);
      owed -= size;
    }
  }, 50);
}

/** A request-shaped record: ~300 bytes of objects and strings. */
function makeRecord(i) {
  return { id: i, path: '/api/items/' + i, headers: { 'x-request-id': 'r' + i + '-' + Math.random().toString(36).slice(2) }, body: new Array(8).fill(i) };
}

/** Background traffic: ~`rps` requests/s, each allocating garbage and holding a few objects ~200 ms. */
function background(rps = 400) {
  const inflight = [];
  let i = 0;
  return setInterval(() => {
    for (let k = 0; k < rps / 20; k++) {
      const r = makeRecord(i++);
      r.payload = Buffer.from(r.path + r.headers['x-request-id']); // network-style small Buffers (pooled)
      const tmp = JSON.stringify(r).split(',').map((s) => s.toUpperCase());
      if (tmp.length > 1000) console.log('never');
      inflight.push(r);
    }
    while (inflight.length > rps / 5) inflight.shift();
  }, 50);
}

/**
 * Traffic bursts: every `everyMs` a burst of `burstMs` adding `perTick` records per 50 ms; every `trimMs`
 * all but the newest `keep` share of the held requests complete (a slow backend). Defaults: every 25 s
 * a 6 s burst at 8x traffic, requests held for about 2 s.
 */
function bursts({ everyMs = 25000, burstMs = 6000, perTick = 600, trimMs = 2000, keep = 0.2 } = {}) {
  let held = [];
  setInterval(() => {
    const burst = setInterval(() => { for (let k = 0; k < perTick; k++) held.push(makeRecord(k)); }, 50);
    setTimeout(() => clearInterval(burst), burstMs);
  }, everyMs);
  setInterval(() => { held = held.slice(Math.floor(held.length * (1 - keep))); }, trimMs);
}

/** A batch job: every `everyMs` it builds a structure of `perTick` records per 50 ms for `buildMs`, holds it until `dropMs`, then drops it. */
function batchJob({ everyMs, buildMs, dropMs, perTick }) {
  let batch = null;
  setInterval(() => {
    batch = [];
    const fill = setInterval(() => { for (let k = 0; k < perTick; k++) batch.push(makeRecord(k)); }, 50);
    setTimeout(() => clearInterval(fill), buildMs);
    setTimeout(() => { batch = null; }, dropMs);
  }, everyMs);
  return () => batch;
}

const record = () => ({ obj: makeRecord(Math.random()), size: 600 });
const chunk = (n) => () => ({ obj: Buffer.alloc(n, 1), size: n });

const scenarios = {
  // ---- leaks ---------------------------------------------------------------------------------
  'leak-fast-array': {
    leak: true, memory: 'old_space', rate: '500 KB/s',
    run(ctx) { const kept = []; ctx.at(ctx.leakStartSec, () => retainAtRate(500 * KB, record, (o) => kept.push(o))); },
  },
  'leak-closures': {
    leak: true, memory: 'old_space', rate: '250 KB/s',
    run(ctx) {
      const handlers = [];
      ctx.at(ctx.leakStartSec, () => retainAtRate(250 * KB, () => {
        const captured = new Array(60).fill(Math.random());
        return { obj: () => captured.length, size: 700 };
      }, (f) => handlers.push(f)));
    },
  },
  'leak-listeners': {
    leak: true, memory: 'old_space', rate: '150 KB/s',
    run(ctx) {
      const bus = new EventEmitter();
      bus.setMaxListeners(0);
      ctx.at(ctx.leakStartSec, () => retainAtRate(150 * KB, () => {
        const session = makeRecord(Math.random());
        return { obj: () => session.id, size: 700 };
      }, (fn) => bus.on('config-changed', fn)));
    },
  },
  'leak-map-slow': {
    leak: true, memory: 'old_space', rate: '60 KB/s',
    run(ctx) { const m = new Map(); let i = 0; ctx.at(ctx.leakStartSec, () => retainAtRate(60 * KB, record, (o) => m.set('k' + i++, o))); },
  },
  'leak-very-slow': {
    leak: true, memory: 'old_space', rate: '30 KB/s',
    run(ctx) { const m = new Map(); let i = 0; ctx.at(ctx.leakStartSec, () => retainAtRate(30 * KB, record, (o) => m.set(i++, o))); },
  },
  'leak-buffers': {
    leak: true, memory: 'external', rate: '300 KB/s',
    run(ctx) { const kept = []; ctx.at(ctx.leakStartSec, () => retainAtRate(300 * KB, chunk(16 * KB), (b) => kept.push(b))); },
  },
  'leak-buffers-slow': {
    leak: true, memory: 'external', rate: '60 KB/s',
    run(ctx) { const kept = new Set(); ctx.at(ctx.leakStartSec, () => retainAtRate(60 * KB, chunk(16 * KB), (b) => kept.add(b))); },
  },
  'leak-under-bursts': {
    // A 100 KB/s leak of per-request state behind the traffic-bursts workload (below): the leak has
    // to be told apart from bursts that raise and release tens of MB.
    leak: true, memory: 'old_space', rate: '100 KB/s + bursts',
    run(ctx) {
      const perUser = {};
      ctx.at(ctx.leakStartSec, () => retainAtRate(100 * KB, record, (o) => { perUser['u' + Math.random()] = o; }));
      bursts();
    },
  },
  // ---- not leaks -----------------------------------------------------------------------------
  'steady-churn': {
    leak: false,
    run() { background(1500); },
  },
  'cache-plateau': {
    leak: false,
    // Fills ~10 MB over the first 40 s (inside the warm-up window), then only serves hits.
    run(ctx) {
      const cache = new Map(); let i = 0;
      const t = retainAtRate(250 * KB, record, (o) => { if (cache.size < 16000) cache.set(i++, o); else clearInterval(t); });
      ctx.keep(cache);
    },
  },
  'cache-slow-warmup': {
    leak: false,
    // A cache that keeps filling past the warm-up window but ever more slowly (each new key is
    // rarer: hits on a Zipf-like key space), reaching ~8 MB.
    run() {
      const cache = new Map(); let tick = 0;
      setInterval(() => {
        tick++;
        const misses = Math.round(400 / Math.sqrt(tick));
        for (let k = 0; k < misses && cache.size < 14000; k++) cache.set(cache.size, makeRecord(cache.size));
      }, 250);
    },
  },
  'lru-at-capacity': {
    leak: false,
    run(ctx) {
      const lru = new Map(); let i = 0;
      setInterval(() => {
        for (let k = 0; k < 200; k++) {
          lru.set(i++, makeRecord(i));
          if (lru.size > 20000) lru.delete(lru.keys().next().value);
        }
      }, 50);
      ctx.keep(lru);
    },
  },
  'sawtooth-batch': {
    leak: false,
    // Every 15 s a batch job builds a ~25 MB structure over 5 s, then drops it.
    run() { return batchJob({ everyMs: 15000, buildMs: 5000, dropMs: 5000, perTick: 1000 }); },
  },
  'one-time-step': {
    leak: false,
    // At 40 s the service loads a ~20 MB table once and keeps it.
    run(ctx) { ctx.at(40, () => { const table = []; for (let k = 0; k < 35000; k++) table.push(makeRecord(k)); ctx.keep(table); }); },
  },
  'traffic-bursts': {
    leak: false,
    // Every 25 s a 6 s burst at 8x traffic, with requests held for 2 s (a slow backend).
    run() { bursts(); },
  },
  // ---- variants, to check that the tuning holds for the kinds, not the instances ------------------
  'leak-strings': {
    // Log lines kept in an array that nobody trims: strings only (no objects), 80 KB/s.
    leak: true, memory: 'old_space', rate: '80 KB/s strings',
    run(ctx) {
      const lines = [];
      let i = 0;
      ctx.at(ctx.leakStartSec, () => retainAtRate(80 * KB, () => {
        const line = `${new Date().toISOString()} GET /api/items/${i++} 200 ${Math.random().toString(36).repeat(4)}`;
        return { obj: line, size: 2 * line.length + 16 };
      }, (l) => lines.push(l)));
    },
  },
  'leak-buffers-under-churn': {
    // 120 KB/s of retained Buffers while the service churns through 2 MB/s of short-lived ones.
    leak: true, memory: 'external', rate: '120 KB/s + Buffer churn',
    run(ctx) {
      setInterval(() => { const tmp = []; for (let k = 0; k < 25; k++) tmp.push(Buffer.alloc(4 * KB, k)); if (tmp.length > 99) console.log('never'); }, 50);
      const kept = [];
      ctx.at(ctx.leakStartSec, () => retainAtRate(120 * KB, chunk(8 * KB), (b) => kept.push(b)));
    },
  },
  'leak-native-workers': {
    // Native memory: a worker thread started per job and never terminated. Each idle worker holds its
    // own isolate, ~6.5 MB of RSS the main heap and external memory do not show (measured); one every
    // 12 s is ~540 KB/s, 32 MB per window, in steps. `execArgv: []` keeps the agent out of the workers
    // so only the main thread's agent reports.
    leak: true, memory: 'native', rate: '1 idle worker / 12 s (~540 KB/s RSS)',
    run(ctx) {
      const { Worker } = require('node:worker_threads');
      const workers = [];
      ctx.at(ctx.leakStartSec, () => setInterval(() => {
        workers.push(new Worker('setInterval(() => {}, 1 << 30)', { eval: true, execArgv: [] }));
      }, 12_000));
    },
  },
  'cache-fill-then-stop': {
    leak: false,
    // A cache that fills at a steady 120 KB/s for 50 s (most of a window, past the warm-up) and then
    // only serves hits.
    run(ctx) {
      const cache = new Map(); let i = 0;
      const t = retainAtRate(120 * KB, record, (o) => { cache.set(i++, o); });
      setTimeout(() => clearInterval(t), 50_000);
      ctx.keep(cache);
    },
  },
  'batch-slow-sawtooth': {
    leak: false,
    // Every 40 s a report job builds a ~35 MB structure over 15 s, keeps it 5 s, then drops it.
    run() { return batchJob({ everyMs: 40000, buildMs: 15000, dropMs: 20000, perTick: 400 }); },
  },
  'bursts-long': {
    leak: false,
    // Every 40 s a 12 s burst, requests held for about 3 s: longer and rarer than traffic-bursts.
    run() { bursts({ everyMs: 40000, burstMs: 12000, perTick: 400, trimMs: 1000, keep: 0.33 }); },
  },
  // ---- hold-out variants: run live once, before any tuning on them ------------------------------
  'leak-timers': {
    // A poller started per request and never cleared: each interval's closure keeps its request alive.
    leak: true, memory: 'old_space', rate: '90 KB/s of timer closures',
    run(ctx) {
      ctx.at(ctx.leakStartSec, () => retainAtRate(90 * KB, () => {
        const req = makeRecord(Math.random());
        return { obj: req, size: 750 };
      }, (req) => { setInterval(() => { if (req.id < 0) console.log('never'); }, 60_000); }));
    },
  },
  'leak-lru-broken-eviction': {
    // An "LRU" whose limit (1e9, meant as bytes) is compared with the entry count, so it never evicts,
    // while most lookups hit: 40 KB/s of new keys on top of heavy hit traffic.
    leak: true, memory: 'old_space', rate: '40 KB/s behind cache hits',
    run(ctx) {
      const cache = new Map(); let i = 0;
      setInterval(() => { for (let k = 0; k < 200; k++) cache.get(Math.floor(Math.random() * Math.max(1, i))); }, 50);
      ctx.at(ctx.leakStartSec, () => retainAtRate(40 * KB, record, (o) => { cache.set(i++, o); if (cache.size > 1e9) cache.delete(cache.keys().next().value); }));
    },
  },
  'one-time-step-late': {
    leak: false,
    // At 90 s, after the first window is judged, the service loads a ~30 MB table once and keeps it.
    run(ctx) { ctx.at(90, () => { const table = []; for (let k = 0; k < 52000; k++) table.push(makeRecord(k)); ctx.keep(table); }); },
  },
  'cache-second-warmup': {
    leak: false,
    // A cache fills ~5 MB in the first 20 s; a second one (a feature switched on) fills ~6 MB from
    // 70 s to 90 s, then both only serve hits.
    run(ctx) {
      const a = new Map(); const b = new Map();
      const ta = retainAtRate(250 * KB, record, (o) => a.set(a.size, o));
      setTimeout(() => clearInterval(ta), 20_000);
      ctx.at(70, () => { const tb = retainAtRate(300 * KB, record, (o) => b.set(b.size, o)); setTimeout(() => clearInterval(tb), 20_000); });
      ctx.keep(a); ctx.keep(b);
    },
  },
  'batch-big-sawtooth': {
    leak: false,
    // Every 30 s an export job builds ~60 MB over 10 s, holds it 5 s, then drops it.
    run() { return batchJob({ everyMs: 30000, buildMs: 10000, dropMs: 15000, perTick: 1000 }); },
  },
  'lru-buffers-at-capacity': {
    leak: false,
    // An LRU of 64 KB Buffers (image thumbnails) at its 400-entry capacity: ~25 MB of external memory
    // replaced at 1.3 MB/s.
    run(ctx) {
      const lru = new Map(); let i = 0;
      setInterval(() => { lru.set(i++, Buffer.alloc(64 * KB, i)); if (lru.size > 400) lru.delete(lru.keys().next().value); }, 50);
      ctx.keep(lru);
    },
  },
  'churn-heavy': {
    leak: false,
    // Four times the corpus' heaviest steady traffic.
    run() { background(6000); },
  },
  'bursts-irregular': {
    leak: false,
    // Bursts at random moments (every 10–50 s), of random length (3–15 s) and size.
    run() {
      let held = [];
      const next = () => setTimeout(() => {
        const perTick = 200 + Math.floor(Math.random() * 600);
        const burst = setInterval(() => { for (let k = 0; k < perTick; k++) held.push(makeRecord(k)); }, 50);
        setTimeout(() => { clearInterval(burst); next(); }, 3000 + Math.random() * 12000);
      }, 10000 + Math.random() * 40000);
      next();
      setInterval(() => { held = held.slice(Math.floor(held.length * 0.7)); }, 1500);
    },
  },
};

// HTTP services, the example and the exit-after-verdict process (services.js).
Object.assign(scenarios, require('./services').services);

module.exports = { scenarios, background, MB, KB };
