#!/usr/bin/env node
'use strict';
/**
 * The smallest leak the detector reports, as a rate, from its thresholds (dist/): the minimum effect's
 * floor (absolute floor, and growth that reaches the limit within the horizon) at each window and limit,
 * and for the short scales of the default window, the smallest rate each reports and about when (a
 * full scale of data, then the persistence: half a scale). A floor: on a noisy heap the noise
 * yardsticks ask for more (5x the slow noise at normal).
 * Assumes 50 MiB in use and, in the container, 60 MiB of the rest of the process.
 *
 *   npm run build && node bench/smallest-leak.js [--sensitivity normal]
 */
const path = require('node:path');
const dist = path.join(__dirname, '..', 'dist', 'detect');
const { effectFloor } = require(path.join(dist, 'effect-floor'));
const { scaleFor } = require(path.join(dist, 'scale'));
const { resolveThresholds, shortScalesOf, shortScaleThresholds } = require(path.join(dist, 'thresholds'));

const args = process.argv.slice(2);
const sensitivity = args.includes('--sensitivity') ? args[args.indexOf('--sensitivity') + 1] : 'normal';
const MiB = 1024 * 1024;
const th = resolveThresholds(sensitivity);
const inUse = 50 * MiB;
const conditions = [
  ['heap limit 256 MB', { bytes: 256 * MiB, source: 'heap' }],
  ['heap limit 2 GB', { bytes: 2048 * MiB, source: 'heap' }],
  ['heap limit 4 GB', { bytes: 4096 * MiB, source: 'heap' }],
  ['512 MB container', { bytes: 512 * MiB - 60 * MiB, source: 'container' }],
];
/** Smallest rate (bytes/s) a scale counts: its floor over its length. */
const rate = (windowMs, t, limit) => effectFloor(scaleFor(windowMs, t), 'old_space', limit, inUse) / (windowMs / 1000);
const mbh = (bps) => `${(bps * 3600 / 1e6).toFixed(1)} MB/h`;
const kbs = (bps) => `${(bps / 1000).toFixed(bps < 10_000 ? 1 : 0)} KB/s`;

console.log(`sensitivity ${sensitivity}: horizon ${th.horizonSec / 86400} days, absolute floor ${th.minGrowthBytes.old_space / MiB} MiB per window (old_space); ${process.version}, ${new Date().toISOString().slice(0, 10)}`);
console.log('\nSmallest reported heap leak (the window):');
console.log('| window | ' + conditions.map(([n]) => n).join(' | ') + ' |');
console.log('|---|' + conditions.map(() => '---|').join(''));
for (const windowMs of [60_000, 30 * 60_000]) {
  console.log(`| ${windowMs / 60_000} min | ` + conditions.map(([, l]) => `${mbh(rate(windowMs, th, l))} (${kbs(rate(windowMs, th, l))})`).join(' | ') + ' |');
}
console.log(`\nShort scales of the default 30 min window (horizon ${th.shortHorizonScales} scales, alpha x ${th.shortAlphaFactor}): smallest rate each reports, reported after about 1.5 scales:`);
console.log('| scale | reported after | ' + conditions.map(([n]) => n).join(' | ') + ' |');
console.log('|---|---|' + conditions.map(() => '---|').join(''));
for (const ms of shortScalesOf(30 * 60_000, th)) {
  const t = shortScaleThresholds(th, ms);
  console.log(`| ${ms / 1000} s | ~${Math.round((1.5 * ms) / 1000)} s | ` + conditions.map(([, l]) => kbs(rate(ms, t, l))).join(' | ') + ' |');
}
