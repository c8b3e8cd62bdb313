/**
 * The episode report as one self-contained HTML page: data embedded as JSON, charts drawn as SVG
 * by a small inline script (no network, no external library), tables rendered server-side so the
 * page reads even with scripts disabled. Pure: data in, string out.
 *
 * Everything on the page except its own markup comes from files someone else may have written
 * (manifest, series, snapshot strings, profile URLs): text goes through `esc`, numbers through the
 * formatters below (a non-number prints "—"), data for the script is embedded as JSON the parser
 * cannot leave, and the Content-Security-Policy runs only the page's own script and style, by hash.
 */
import { createHash } from 'node:crypto';
import type { AllocationSite, AnalysisReport, Suspect } from '../analysis';
import type { EpisodeManifest, EpisodeSeries } from '../evidence/manifest-types';

export interface ReportData {
  manifest: EpisodeManifest;
  series: EpisodeSeries | null;
  analysis: AnalysisReport | null;
  sites: AllocationSite[];
  notes: string[];
  generatedAt: string;
}

function esc(s: unknown): string {
  return String(s).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

function isNum(n: unknown): n is number {
  return typeof n === 'number' && Number.isFinite(n);
}

function bytes(n: unknown): string {
  if (!isNum(n)) return '—';
  const a = Math.abs(n);
  if (a < 1024) return `${n} B`;
  if (a < 1048576) return `${(n / 1024).toFixed(1)} KB`;
  if (a < 1073741824) return `${(n / 1048576).toFixed(1)} MB`;
  return `${(n / 1073741824).toFixed(2)} GB`;
}

function duration(sec: unknown): string {
  if (!isNum(sec)) return '—';
  if (sec < 120) return `${sec.toFixed(0)} s`;
  if (sec < 7200) return `${(sec / 60).toFixed(0)} min`;
  if (sec < 172800) return `${(sec / 3600).toFixed(1)} h`;
  return `${(sec / 86400).toFixed(1)} days`;
}

function fixed(n: unknown, digits: number, scale = 1): string {
  return isNum(n) ? (n * scale).toFixed(digits) : '—';
}

function exponential(n: unknown): string {
  return isNum(n) ? n.toExponential(2) : '—';
}

function count(n: unknown): string {
  return isNum(n) ? n.toLocaleString('en-US') : '—';
}

function time(ms: unknown): string {
  return isNum(ms) && Math.abs(ms) <= 8.64e15 ? new Date(ms).toISOString() : '—';
}

function verdictHtml(m: EpisodeManifest): string {
  const v = m.verdict;
  if (v.kind === 'leak') {
    return `<p class="verdict leak"><b>Leak in ${esc(v.memory)}</b>: growing ${bytes(v.growthBytesPerSec)}/s
      (${bytes(v.growthLowerBytesPerSec)}/s – ${bytes(v.growthUpperBytesPerSec)}/s at ${fixed(v.confidence, 0, 100)}%),
      p = ${exponential(v.pValue)} over ${duration(isNum(v.windowMs) ? v.windowMs / 1000 : null)} (${count(v.points)} points).
      Now ${bytes(v.currentBytes)} of ${bytes(v.limitBytes)} (${esc(v.limitSource)} limit);
      limit reached in ${duration(v.timeToLimitSec)} (${duration(v.timeToLimitLowerSec)} – ${duration(v.timeToLimitUpperSec)}).</p>`;
  }
  if (v.kind === 'spike') {
    return `<p class="verdict spike"><b>Spike in ${esc(v.memory)}</b>: +${bytes(v.sizeBytes)} at ${time(v.at)}
      (${bytes(v.beforeBytes)} → ${bytes(v.afterBytes)}).</p>`;
  }
  return `<p class="verdict end"><b>Episode ended</b> (${esc(v.memory)}) at ${time(v.endedAt)}: ${esc(v.reason)}</p>`;
}

/** One table row per group; the same columns for suspects, unconfirmed growth and churn. */
function groupRows(list: Suspect[], cls: string, numbered: boolean): string {
  const signed = (n: number, text: string): string => `${n >= 0 ? '+' : ''}${text}`;
  const count = (n: number | undefined): string => (typeof n === 'number' ? n.toLocaleString('en-US') : '—');
  return list
    .map(
      (s, i) => `<tr class="${cls}">
        <td>${numbered ? i + 1 : ''}</td><td><b>${esc(s.name)}</b><div class="muted">${esc(s.type)}</div></td>
        <td class="num">${signed(s.countDelta, s.countDelta.toLocaleString('en-US'))}</td>
        <td class="num">${signed(s.sizeDelta, bytes(s.sizeDelta))}</td>
        <td class="num">${count(s.newObjects)} / ${count(s.freedObjects)}</td>
        <td class="num">${bytes(s.retainedSize)}</td>
        <td><div>${esc(s.explanation)}</div><div class="path">${s.path.map((p) => `<span>${esc(p)}</span>`).join('<i>→</i>')}</div></td>
      </tr>`,
    )
    .join('');
}

function suspectsHtml(a: AnalysisReport | null): string {
  if (!a) return '<p class="muted">No snapshot analysis.</p>';
  const head = '<thead><tr><th>#</th><th>Group</th><th>Net count Δ</th><th>Net size Δ</th><th>New / gone</th><th>Retained</th><th>Why and who holds it</th></tr></thead>';
  const section = (title: string, list: Suspect[], cls: string): string =>
    list.length === 0 ? '' : `<h3>${title}</h3><table>${head}<tbody>${groupRows(list, cls, false)}</tbody></table>`;
  const intro = `<p class="muted">${a.mode === 'diff' ? `Diff of ${esc(a.snapshot)} against ${a.baselines.map(esc).join(', ')}` : `Single snapshot ${esc(a.snapshot)}`}:
      ${a.nodeCount.toLocaleString('en-US')} nodes, ${bytes(a.totalSize)} heap. ${esc(a.basis)}</p>`;
  const suspects = a.suspects.length === 0 ? '<p>No leak suspects found.</p>' : `<table>${head}<tbody>${groupRows(a.suspects, 'suspect', true)}</tbody></table>`;
  return intro + suspects +
    section('Grew, but not in every interval (not confirmed)', a.unconfirmed, 'unconfirmed') +
    section('Churn: new objects, no growth (not suspects)', a.churn, 'churn');
}

function sitesHtml(sites: AllocationSite[]): string {
  if (sites.length === 0) return '<p class="muted">No heap profile.</p>';
  return `<table><thead><tr><th>Allocation site</th><th>Live bytes</th><th>Share</th></tr></thead><tbody>${sites
    .map(
      (s) => `<tr class="site"><td><code>${esc(s.site)}</code>${s.callers.length ? `<div class="muted">called from ${s.callers.map(esc).join(' ← ')}</div>` : ''}</td>
        <td class="num">${bytes(s.bytes)}</td><td><svg class="bar" width="120" height="10"><rect width="${(120 * s.share).toFixed(1)}" height="10"></rect></svg> ${(100 * s.share).toFixed(1)}%</td></tr>`,
    )
    .join('')}</tbody></table>`;
}

function filesHtml(m: EpisodeManifest): string {
  return `<table><thead><tr><th>Kind</th><th>File</th><th>Size</th><th>Uploaded to</th></tr></thead><tbody>${m.files
    .map((f) => `<tr><td>${esc(f.kind)}</td><td><code>${esc(f.path)}</code></td><td class="num">${bytes(f.bytes)}</td><td>${f.uri ? `<code>${esc(f.uri)}</code>` : '—'}</td></tr>`)
    .join('')}</tbody></table>`;
}

/** JSON safe to embed inside a <script> element: no "<" (so no "</script>"), no line separators. */
function embed(x: unknown): string {
  return JSON.stringify(x).replace(/</g, '\\u003c').replace(/\u2028/g, '\\u2028').replace(/\u2029/g, '\\u2029');
}

// Runs in the browser: draws the memory chart (post-GC series, trend line, alert marks) and the
// GC pause chart as SVG, then marks the body as rendered (the headless test waits for that).
const CLIENT_SCRIPT = `
(function () {
  var data = JSON.parse(document.getElementById('report-data').textContent);
  var NS = 'http://www.w3.org/2000/svg';
  function el(name, attrs, parent) {
    var e = document.createElementNS(NS, name);
    for (var k in attrs) e.setAttribute(k, attrs[k]);
    if (parent) parent.appendChild(e);
    return e;
  }
  function fmtBytes(n) {
    var a = Math.abs(n);
    if (a < 1024) return n + ' B';
    if (a < 1048576) return (n / 1024).toFixed(0) + ' KB';
    if (a < 1073741824) return (n / 1048576).toFixed(0) + ' MB';
    return (n / 1073741824).toFixed(1) + ' GB';
  }
  var spanMs = 0;
  function fmtTime(t) { var iso = new Date(t).toISOString(); return spanMs < 60000 ? iso.slice(11, 22) : iso.slice(11, 19); }
  function frame(svg, W, H, pad, x0, x1, y0, y1, yfmt) {
    var sx = function (t) { return pad.l + (x1 === x0 ? 0 : (t - x0) / (x1 - x0)) * (W - pad.l - pad.r); };
    var sy = function (v) { return H - pad.b - (y1 === y0 ? 0 : (v - y0) / (y1 - y0)) * (H - pad.t - pad.b); };
    for (var i = 0; i <= 4; i++) {
      var v = y0 + (y1 - y0) * i / 4, y = sy(v);
      el('line', { x1: pad.l, x2: W - pad.r, y1: y, y2: y, class: 'grid' }, svg);
      el('text', { x: pad.l - 6, y: y + 4, 'text-anchor': 'end', class: 'tick' }, svg).textContent = yfmt(v);
    }
    for (var j = 0; j <= 4; j++) {
      var t = x0 + (x1 - x0) * j / 4;
      el('text', { x: sx(t), y: H - pad.b + 16, 'text-anchor': 'middle', class: 'tick' }, svg).textContent = fmtTime(t);
    }
    return { sx: sx, sy: sy };
  }
  function line(svg, pts, cls) {
    if (pts.length === 0) return;
    var d = pts.map(function (p, i) { return (i ? 'L' : 'M') + p[0].toFixed(1) + ' ' + p[1].toFixed(1); }).join(' ');
    el('path', { d: d, class: cls }, svg);
  }
  var s = data.series;
  var W = 900, H = 300, pad = { l: 70, r: 20, t: 16, b: 28 };
  var mem = document.getElementById('memory-chart');
  var gc = document.getElementById('gc-chart');
  if (s && s.samples && s.samples.length > 0) {
    var xs = s.samples.map(function (p) { return p.t; });
    var x0 = Math.min.apply(null, xs), x1 = Math.max.apply(null, xs);
    spanMs = x1 - x0;
    // RSS is usually several times the heap and would flatten the line that matters; it stays in the data.
    var keys = ['oldSpace', 'heapUsed', 'external'];
    var ymax = 0;
    s.samples.forEach(function (p) { keys.forEach(function (k) { if (p[k] > ymax) ymax = p[k]; }); });
    var f = frame(mem, W, H, pad, x0, x1, 0, ymax * 1.05 || 1, fmtBytes);
    keys.forEach(function (k) {
      line(mem, s.samples.map(function (p) { return [f.sx(p.t), f.sy(p[k])]; }), 'series series-' + k);
    });
    s.samples.forEach(function (p) { el('circle', { cx: f.sx(p.t), cy: f.sy(p.oldSpace), r: 2, class: 'dot' }, mem); });
    if (s.trend) {
      var tr = s.trend, at = function (t) { return tr.intercept + tr.slopePerMs * (t - tr.t0); };
      var ta = Math.max(x0, tr.t0);
      line(mem, [[f.sx(ta), f.sy(at(ta))], [f.sx(x1), f.sy(at(x1))]], 'trend');
    }
    (s.alerts || []).forEach(function (a) {
      var x = f.sx(Math.min(Math.max(a.t, x0), x1));
      el('line', { x1: x, x2: x, y1: pad.t, y2: H - pad.b, class: 'alert alert-' + a.kind }, mem);
      el('text', { x: x + 4, y: pad.t + 12, class: 'alert-label' }, mem).textContent = a.kind;
    });
    var pmax = 0;
    s.samples.forEach(function (p) { if (p.pauseMs > pmax) pmax = p.pauseMs; });
    var g = frame(gc, W, 180, pad, x0, x1, 0, pmax * 1.1 || 1, function (v) { return v.toFixed(1) + ' ms'; });
    var bw = Math.max(1, (W - pad.l - pad.r) / s.samples.length * 0.6);
    s.samples.forEach(function (p) {
      var y = g.sy(p.pauseMs);
      el('rect', { x: g.sx(p.t) - bw / 2, y: y, width: bw, height: Math.max(0, 180 - pad.b - y), class: 'pause pause-' + p.gc }, gc);
    });
  } else {
    [mem, gc].forEach(function (svg) { el('text', { x: 20, y: 30, class: 'tick' }, svg).textContent = 'no series recorded'; });
  }
  document.body.setAttribute('data-rendered', 'true');
})();
`;

const STYLE = `
body{font:14px/1.45 system-ui,sans-serif;margin:24px auto;max-width:1000px;color:#1d2330;padding:0 16px}
h1{font-size:22px;margin-bottom:4px}h2{font-size:17px;margin-top:28px;border-bottom:1px solid #dde;padding-bottom:4px}
.muted{color:#667;font-size:12px}.verdict{padding:10px 12px;border-radius:6px;background:#fff4e5;border:1px solid #f3c27a}
.verdict.leak{background:#fdecec;border-color:#e99}table{border-collapse:collapse;width:100%;margin-top:8px}
th,td{text-align:left;padding:6px 8px;border-bottom:1px solid #eef;vertical-align:top}.num{text-align:right;white-space:nowrap}
.path{margin-top:4px;font:12px ui-monospace,monospace;color:#334}.path span{background:#eef2fb;border-radius:3px;padding:1px 4px}
.path i{color:#99a;padding:0 3px;font-style:normal}svg.chart{width:100%;height:auto;background:#fbfbfe;border:1px solid #eef}
.grid{stroke:#e6e8f0}.tick{font-size:11px;fill:#778}.series{fill:none;stroke-width:1.5}.series-oldSpace{stroke:#2f6fdf;stroke-width:2.5}
.series-heapUsed{stroke:#8fb0ee}.series-external{stroke:#a7c957}.series-rss{stroke:#c9a0dc}.dot{fill:#2f6fdf}
.trend{stroke:#d62828;stroke-width:2;stroke-dasharray:6 4;fill:none}.alert{stroke:#d62828;stroke-width:1.5}.alert-label{font-size:11px;fill:#d62828}
.pause{fill:#f4a261}.pause-mark-sweep-compact{fill:#e76f51}.bar rect{fill:#2f6fdf}.legend span{margin-right:14px}
.legend b{display:inline-block;width:12px;height:3px;margin-right:4px;vertical-align:middle}code{font-size:12px}
.key-oldSpace{background:#2f6fdf}.key-heapUsed{background:#8fb0ee}.key-external{background:#a7c957}.key-trend{background:#d62828}
`;

/** CSP source for an inline element's exact text. */
function sha256Source(text: string): string {
  return `'sha256-${createHash('sha256').update(text, 'utf8').digest('base64')}'`;
}

// No 'unsafe-inline': only this script and this style run, whatever the files put on the page.
const CSP = [
  "default-src 'none'",
  `script-src ${sha256Source(CLIENT_SCRIPT)}`,
  `style-src ${sha256Source(STYLE)}`,
  'img-src data:',
  "base-uri 'none'",
  "form-action 'none'",
].join('; ');

export function renderReportHtml(d: ReportData): string {
  const m = d.manifest;
  const chartData = { series: d.series };
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="${CSP}">
<title>leak-agent report — ${esc(m.service?.name ?? 'service')} — ${esc(m.episodeId)}</title>
<style>${STYLE}</style></head>
<body>
<h1>Leak episode ${esc(m.episodeId)}</h1>
<div class="muted">${esc(m.service?.name ?? '')} ${esc(m.service?.version ?? '')} · pid ${esc(m.process?.pid)} on ${esc(m.process?.host)} · Node ${esc(m.process?.node)}
 · created ${esc(m.createdAt)} · report generated ${esc(d.generatedAt)}${m.container ? ` · container limit ${bytes(m.container.limit)}, cgroup v${esc(m.container.cgroup)}` : ''}</div>
${verdictHtml(m)}
${d.notes.length ? `<ul class="notes">${d.notes.map((n) => `<li>${esc(n)}</li>`).join('')}</ul>` : ''}
<h2>Memory after each GC</h2>
<div class="legend muted"><span><b class="key-oldSpace"></b>old space</span><span><b class="key-heapUsed"></b>heap used</span><span><b class="key-external"></b>external</span><span><b class="key-trend"></b>trend / alerts</span></div>
<svg id="memory-chart" class="chart" viewBox="0 0 900 300" role="img" aria-label="post-GC memory"></svg>
<h2>GC pauses</h2>
<svg id="gc-chart" class="chart" viewBox="0 0 900 180" role="img" aria-label="GC pauses"></svg>
<h2>Leak suspects</h2>
${suspectsHtml(d.analysis)}
<h2>Top allocation sites (sampling heap profile)</h2>
${sitesHtml(d.sites)}
<h2>Evidence files</h2>
${filesHtml(m)}
<script type="application/json" id="report-data">${embed(chartData)}</script>
<script>${CLIENT_SCRIPT}</script>
</body></html>
`;
}
