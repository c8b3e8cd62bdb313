#!/usr/bin/env node
'use strict';
/**
 * What health() costs the caller: wall time per call through the package API (the agent running,
 * a drain done), and the heap it allocates per call; also the PressureMonitor's cost per reading,
 * which the agent pays once per drain. Prints figures; the goal (< 50 µs per health() call) is
 * judged by reading them, never asserted.
 *
 *   npm run build && node --expose-gc bench/health-cost.js [calls]
 */
const path = require('node:path');
const agent = require(path.join(__dirname, '..'));
const { PressureMonitor } = require(path.join(__dirname, '..', 'dist', 'pressure', 'pressure'));

const calls = Number(process.argv[2] ?? 1_000_000);

function perCall(fn, n) {
  for (let i = 0; i < 10_000; i++) fn(i); // warm up
  const start = process.hrtime.bigint();
  for (let i = 0; i < n; i++) fn(i);
  return Number(process.hrtime.bigint() - start) / n;
}

function bytesPerCall(fn, n) {
  if (!global.gc) return null;
  global.gc();
  const before = process.memoryUsage().heapUsed;
  for (let i = 0; i < n; i++) fn(i);
  const after = process.memoryUsage().heapUsed;
  return (after - before) / n;
}

setTimeout(async () => {
  let sink = 0;
  const health = () => { sink += agent.health().reasons.length; };
  const ns = perCall(health, calls);
  const bytes = bytesPerCall(health, 100_000);

  const m = new PressureMonitor();
  const MiB = 1_048_576;
  const reading = (i) => ({
    time: i * 1000, heapUsed: (100 + (i % 50)) * MiB, heapLimit: 1000 * MiB, containerUsage: 300 * MiB, containerLimit: 1000 * MiB,
    fullGcs: i % 7 === 0 ? 1 : 0, gcPauseMs: 2, growthBytesPerSec: null, timeToOomSec: null,
  });
  const observeNs = perCall((i) => { sink += m.observe(reading(i)).length; }, 200_000);

  console.log(JSON.stringify({
    node: process.version,
    status: agent.health().status,
    healthNsPerCall: Math.round(ns),
    healthBytesPerCall: bytes === null ? 'run with --expose-gc' : Math.round(bytes * 10) / 10,
    observeUsPerReading: Math.round(observeNs / 100) / 10,
    goal: 'health() < 50 µs per call',
    sink: sink > 0,
  }));
  await agent.stop();
}, 1_500);
