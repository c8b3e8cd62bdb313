#!/usr/bin/env node
'use strict';
/**
 * Long-horizon simulation of the pure detector on synthetic, autocorrelated post-GC series.
 *
 * Goal: under 1 false leak alarm per 30 simulated days with default settings (30 min
 * window, normal sensitivity) on autocorrelated noise, and the delay to detect slow leaks.
 *
 * Model of a process (virtual time, one drain every 15 s):
 *   live set    = base + AR(1) noise (phi per minute, stationary sd sigma)  [+ leak rate · (t − start)]
 *   old-gen     = live + promoted garbage; garbage grows at 20 KB/s and is removed by a full GC when
 *                 it reaches 6 MB (V8's allocation-limit cycle, ~5 min) — the sawtooth real heaps show
 *   external    = 30 MB + AR(1) (phi 0.9/min, sd 1 MB); native = 40 MB + AR(1) (phi 0.95/min, sd 2 MB)
 *   heap limit 2 GiB (--heap-mb), no container; the host has 16 GiB.
 * The memwatch rule (heap grew after 5 consecutive full GCs) is run on the same series.
 *
 *   npm run build && node bench/longrun.js            # measured 241 s on this machine (niced, under load)
 *   node bench/longrun.js --days 5                    # shorter
 *   node bench/longrun.js --horizon-days 3.5          # another horizon than the sensitivity's
 *   node bench/longrun.js --days 3 --no-leaks         # false alarms only
 */
const path = require('node:path');
const { Detector } = require(path.join(__dirname, '..', 'dist', 'detect', 'detector'));

const args = process.argv.slice(2);
const opt = (name, fallback) => { const i = args.indexOf(`--${name}`); return i >= 0 ? args[i + 1] : fallback; };
const DAYS = Number(opt('days', 30));
const WINDOW_MS = Number(opt('window-min', 30)) * 60_000;
const SENSITIVITY = opt('sensitivity', 'normal');
// --horizon-days D: judge with another horizon than the sensitivity's (to show what the choice does).
const THRESHOLDS = opt('horizon-days', undefined) === undefined ? undefined : { horizonSec: Number(opt('horizon-days')) * 86_400 };
const HEAP_LIMIT = Number(opt('heap-mb', 2048)) * 1024 * 1024;
const MB = 1024 * 1024;
const DT = 15_000;

function rng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
const gauss = (r) => Math.sqrt(-2 * Math.log(r() || 1e-12)) * Math.cos(2 * Math.PI * r());

/** AR(1) sampled every DT with the given per-minute phi and stationary sd. */
function ar1(r, phiPerMin, sd) {
  const phi = Math.pow(phiPerMin, DT / 60_000);
  const innov = sd * Math.sqrt(1 - phi * phi);
  let x = sd * gauss(r);
  return () => (x = phi * x + innov * gauss(r));
}

function simulate({ seed, phi, sigma, hours, leakRate = 0, leakStartH = Infinity }) {
  const r = rng(seed);
  const heapNoise = ar1(r, phi, sigma);
  const extNoise = ar1(r, 0.9, 1 * MB);
  const natNoise = ar1(r, 0.95, 2 * MB);
  const detector = new Detector({ windowMs: WINDOW_MS, sensitivity: SENSITIVITY, thresholds: THRESHOLDS });
  const t0 = Date.UTC(2026, 0, 1);
  const end = t0 + hours * 3600_000;
  const leakStart = t0 + leakStartH * 3600_000;
  let garbage = 0;
  let prevFull;
  let grew = 0;
  const out = { leaks: [], firstLeak: null, memwatch: 0, spikes: 0 };
  for (let t = t0; t < end; t += DT) {
    const leak = t >= leakStart ? leakRate * (t - leakStart) / 1000 : 0;
    const live = 200 * MB + heapNoise() + leak;
    garbage += 20 * 1024 * (DT / 1000) * (0.5 + r());
    const full = garbage >= 6 * MB;
    const garbageBefore = garbage;
    if (full) garbage = 0;
    const old = live + garbage;
    const ext = 30 * MB + extNoise();
    const nat = 40 * MB + natNoise();
    const record = {
      kind: full ? 'mark-sweep-compact' : 'scavenge', startTime: t - 5, duration: 3,
      after: { new_space: { used: 1 * MB, committed: 16 * MB }, old_space: { used: old, committed: old + 8 * MB } }, external: ext,
    };
    if (full) record.before = { new_space: { used: 8 * MB, committed: 16 * MB }, old_space: { used: live + garbageBefore, committed: old + 8 * MB } };
    if (full) {
      if (prevFull !== undefined && live > prevFull) grew += 1; else grew = 0;
      prevFull = live;
      if (grew >= 5) { out.memwatch += 1; grew = 0; }
    }
    const memory = { time: t, rss: old + 20 * MB + ext + nat, heapUsed: old + MB, heapTotal: old + 20 * MB, heapLimit: HEAP_LIMIT, external: ext, arrayBuffers: ext * 0.8 };
    for (const v of detector.observe({ records: [record], memory, container: undefined, hostMemoryBytes: 16 * 1024 * MB }).verdicts) {
      if (v.kind === 'leak') {
        out.leaks.push(v);
        if (out.firstLeak === null) out.firstLeak = v;
      } else if (v.kind === 'spike') out.spikes += 1;
    }
    if (leakRate > 0 && out.firstLeak) break;
  }
  return out;
}

module.exports = { simulate, rng, MB };
if (require.main === module) main();

function main() {
const started = Date.now();
const horizonDays = (THRESHOLDS?.horizonSec ?? new Detector({ windowMs: WINDOW_MS, sensitivity: SENSITIVITY }).thresholds.horizonSec) / 86_400;
console.log(`detector: window ${WINDOW_MS / 60_000} min, sensitivity ${SENSITIVITY}, horizon ${horizonDays} days, heap limit ${HEAP_LIMIT / MB} MiB; ${DAYS} simulated days per noise regime; node ${process.version}, ${new Date().toISOString().slice(0, 10)}`);
console.log('\nFalse alarms on autocorrelated noise (no leak):');
console.log('| heap noise: phi per minute | sd | days | agent false leak alarms | per 30 days | spikes | memwatch alarms | memwatch per day |');
console.log('|---|---|---|---|---|---|---|---|');
let totalFalse = 0;
let totalDays = 0;
const regimes = [
  { phi: 0.5, sigma: 1 * MB }, { phi: 0.9, sigma: 2 * MB }, { phi: 0.98, sigma: 2 * MB },
  { phi: 0.9, sigma: 8 * MB }, { phi: 0.98, sigma: 8 * MB },
];
const only = opt('regime', undefined); // --regime N: only the N-th regime (1-based), e.g. to run them in parallel
regimes.forEach((g, i) => {
  if (only !== undefined && Number(only) !== i + 1) return;
  const res = simulate({ seed: 1000 + i, phi: g.phi, sigma: g.sigma, hours: DAYS * 24 });
  totalFalse += res.leaks.length;
  totalDays += DAYS;
  console.log(`| ${g.phi} | ${g.sigma / MB} MB | ${DAYS} | ${res.leaks.length}${res.leaks.length ? ` (${[...new Set(res.leaks.map((l) => l.memory))].join(',')})` : ''} | ${(res.leaks.length * 30 / DAYS).toFixed(2)} | ${res.spikes} | ${res.memwatch} | ${(res.memwatch / DAYS).toFixed(1)} |`);
});
console.log(`\nall regimes: ${totalFalse} false leak alarms in ${totalDays} simulated days = ${(totalFalse * 30 / totalDays).toFixed(2)} per 30 days`);

if (args.includes('--no-leaks')) return;
console.log('\nSlow leaks (heap noise phi 0.9/min, sd 2 MB; leak starts at 2 h; 5 seeds each):');
console.log('| leak rate | growth per window | detected | delay from start (median, min–max) | in windows |');
console.log('|---|---|---|---|---|');
for (const rate of [8 * 1024, 16 * 1024, 50 * 1024, 200 * 1024]) {
  const delays = [];
  for (let s = 0; s < 5; s++) {
    const res = simulate({ seed: 5000 + s + rate, phi: 0.9, sigma: 2 * MB, hours: 14, leakRate: rate, leakStartH: 2 });
    if (res.firstLeak) delays.push((res.firstLeak.detectedAt - (Date.UTC(2026, 0, 1) + 2 * 3600_000)) / 60_000);
  }
  delays.sort((a, b) => a - b);
  const med = delays.length ? delays[Math.floor((delays.length - 1) / 2)] : null;
  console.log(`| ${rate / 1024} KB/s | ${(rate * WINDOW_MS / 1000 / MB).toFixed(1)} MB | ${delays.length}/5 | ${med === null ? '—' : `${med.toFixed(0)} min (${delays[0].toFixed(0)}–${delays[delays.length - 1].toFixed(0)})`} | ${med === null ? '—' : (med * 60_000 / WINDOW_MS).toFixed(2)} |`);
}
console.log(`\nwall time ${((Date.now() - started) / 1000).toFixed(1)} s`);
}
