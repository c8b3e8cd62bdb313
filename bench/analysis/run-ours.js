#!/usr/bin/env node
/**
 * One run of our analyzer, in its own process so its peak RSS is its own: streaming parse +
 * dominators/retained sizes + retainer paths + single-snapshot suspects (requires `npm run build`).
 * Prints one JSON line: { tool, seconds, cpuSeconds, maxRssMB, phases, top }.
 */
'use strict';
const path = require('node:path');
const dist = path.resolve(__dirname, '../../dist/analysis');

async function main() {
  const file = process.argv[2];
  const { loadSnapshot, analyzeHeap, suspectsFromSnapshot } = require(dist);
  const t0 = process.hrtime.bigint();
  const secs = (a, b) => Number(b - a) / 1e9;
  const snap = await loadSnapshot(file);
  const t1 = process.hrtime.bigint();
  const analysis = analyzeHeap(snap);
  const t2 = process.hrtime.bigint();
  const suspects = suspectsFromSnapshot(analysis);
  const t3 = process.hrtime.bigint();
  const top = suspects[0] ? { name: suspects[0].name, count: suspects[0].countDelta, path: suspects[0].path.join(' → ') } : null;
  console.log(JSON.stringify({
    tool: 'leak-agent',
    seconds: secs(t0, t3),
    maxRssMB: process.resourceUsage().maxRSS / 1024,
    cpuSeconds: (process.cpuUsage().user + process.cpuUsage().system) / 1e6,
    phases: { parse: secs(t0, t1), graph: secs(t1, t2), suspects: secs(t2, t3) },
    nodes: snap.nodeCount,
    edges: snap.edgeCount,
    top,
  }));
}

main().catch((err) => {
  console.error(err.message);
  process.exit(1);
});
