'use strict';
/**
 * Judges one recorded scenario series (written by child.js) two ways:
 *   - replayed through the pure detector from dist/ (same code the agent runs), and
 *   - by the memwatch rule: "the heap grew after five consecutive full GCs" (memwatch/memwatch-next
 *     'leak' event: five successive post-full-GC heap sizes, each larger than the one before).
 */
const fs = require('node:fs');
const path = require('node:path');
// SCENARIO_DIST: another build's dist/ (e.g. an older detector), to replay the same recordings through both.
const dist = process.env.SCENARIO_DIST || path.join(__dirname, '..', '..', 'dist');
const { Detector } = require(path.join(dist, 'detect', 'detector'));
const { heapUsedAfter } = require(path.join(dist, 'sampler', 'types'));

function readRecording(file) {
  const lines = fs.readFileSync(file, 'utf8').trim().split('\n').filter(Boolean).map((l) => JSON.parse(l));
  const start = lines.find((l) => l.type === 'start');
  const ticks = lines.filter((l) => l.type === 'tick');
  return { start, ticks, lines };
}

/**
 * The leaking series' growth as recorded, as { kbs, fromMinima }, from the leak's start to the end of the run: the
 * least-squares slope of heap used after full GCs (old_space) or of external memory after every GC
 * (external), or of RSS (native). At a large heap limit V8 may run only one or two full GCs in a run;
 * then the slope of heap used's lowest reading per 10 s (garbage included) stands in. Null with fewer
 * than three points.
 */
function observedGrowth(ticks, memory, fromMs) {
  let pts = [];
  for (const tick of ticks) {
    if (memory === 'native') { if (tick.memory.time >= fromMs) pts.push([tick.memory.time, tick.memory.rss]); continue; }
    for (const r of tick.records) {
      if (r.startTime < fromMs) continue;
      if (memory === 'external') pts.push([r.startTime, r.external]);
      else if (r.kind === 'mark-sweep-compact') pts.push([r.startTime, heapUsedAfter(r)]);
    }
  }
  let fromMinima = false;
  if (pts.length < 3 && memory === 'old_space') {
    fromMinima = true;
    const minima = new Map();
    for (const tick of ticks) {
      if (tick.memory.time < fromMs) continue;
      const b = Math.floor((tick.memory.time - fromMs) / 10_000);
      minima.set(b, Math.min(minima.get(b) ?? Infinity, tick.memory.heapUsed));
    }
    pts = [...minima].map(([b, y]) => [fromMs + b * 10_000, y]);
  }
  if (pts.length < 3) return null;
  const n = pts.length;
  const mx = pts.reduce((a, p) => a + p[0], 0) / n;
  const my = pts.reduce((a, p) => a + p[1], 0) / n;
  let sxy = 0;
  let sxx = 0;
  for (const [x, y] of pts) { sxy += (x - mx) * (y - my); sxx += (x - mx) ** 2; }
  return sxx > 0 ? { kbs: (sxy / sxx) * 1000 / 1024, fromMinima } : null;
}

/** memwatch: alert when post-full-GC heap used grew 5 times in a row; the count restarts after an alert. */
function memwatchRule(ticks) {
  const alerts = [];
  let prev;
  let grew = 0;
  for (const tick of ticks) {
    for (const r of tick.records) {
      if (r.kind !== 'mark-sweep-compact') continue;
      const used = heapUsedAfter(r);
      if (prev !== undefined && used > prev) grew += 1;
      else grew = 0;
      prev = used;
      if (grew >= 5) {
        alerts.push(r.startTime);
        grew = 0;
      }
    }
  }
  return alerts;
}

function replayDetector(ticks, windowMs, sensitivity = 'normal') {
  const detector = new Detector({ windowMs, sensitivity });
  const verdicts = [];
  for (const tick of ticks) {
    const out = detector.observe({ records: tick.records, memory: tick.memory, container: undefined, hostMemoryBytes: 8 * 2 ** 30 });
    // observe() returns { verdicts, decisions } (older builds: the verdicts alone).
    for (const v of Array.isArray(out) ? out : out.verdicts) verdicts.push(v);
  }
  return { verdicts, states: detector.states() };
}

module.exports = { readRecording, memwatchRule, replayDetector, observedGrowth };

if (require.main === module) {
  const [file, windowArg] = process.argv.slice(2);
  const { start, ticks } = readRecording(file);
  const windowMs = Number(windowArg ?? 60) * 1000;
  const { verdicts, states } = replayDetector(ticks, windowMs);
  for (const v of verdicts) console.log(((v.detectedAt ?? v.at ?? v.endedAt) - start.t) / 1000, v.kind, v.memory, v.reason ?? '', v.sizeBytes ?? '', v.growthBytesPerSec ? Math.round(v.growthBytesPerSec) : '');
  console.log('memwatch', memwatchRule(ticks).map((t) => ((t - start.t) / 1000).toFixed(0)).join(','));
  for (const s of Object.values(states)) console.log(s.memory, s.state, s.reason, s.points, s.fullGcPoints, Math.round(s.slopeBytesPerSec ?? 0), s.pValue?.toExponential(2), Math.round(s.growthPerWindowBytes ?? 0), Math.round(s.minEffectBytes ?? 0));
}
