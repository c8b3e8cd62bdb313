#!/usr/bin/env node
/**
 * One memlab run, in its own process so its peak RSS is its own: parse + dominators/retained
 * sizes + largest objects (memlab's `object-size` analysis, the closest to our single-snapshot
 * suspects). Prints one JSON line: { tool, seconds, cpuSeconds, maxRssMB }.
 */
'use strict';
const os = require('node:os');
const fs = require('node:fs');
const path = require('node:path');

async function main() {
  const file = process.argv[2];
  const workDir = fs.mkdtempSync(path.join(os.tmpdir(), 'memlab-bench-'));
  const started = process.hrtime.bigint();
  const { ObjectSizeAnalysis } = require('@memlab/heap-analysis');
  const analysis = new ObjectSizeAnalysis();
  // memlab prints its table to the terminal; keep it off our stdout (the JSON line).
  const write = process.stdout.write.bind(process.stdout);
  process.stdout.write = (chunk, ...rest) => process.stderr.write(chunk, ...rest);
  await analysis.analyzeSnapshotFromFile(file, { workDir });
  process.stdout.write = write;
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  fs.rmSync(workDir, { recursive: true, force: true });
  console.log(JSON.stringify({ tool: 'memlab', seconds, maxRssMB: process.resourceUsage().maxRSS / 1024, cpuSeconds: (process.cpuUsage().user + process.cpuUsage().system) / 1e6 }));
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
