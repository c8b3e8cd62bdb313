/// <reference lib="dom" />
/**
 * The episode report from a real leaking process (snapshots, heap profile, post-GC series it
 * measured itself), rendered by the CLI and opened in headless Chromium: the charts must be drawn
 * and the page must run without errors.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { ensureBuilt, runCli } from './cli-helpers';

const CHROMIUM = '/usr/bin/chromium';
let dir: string;
let episode: string;
let hostileEpisode: string;

function writeEpisode(into: string, ...mode: string[]): void {
  const r = spawnSync(process.execPath, ['--expose-gc', path.join(__dirname, 'fixtures/episode-program.js'), into, ...mode], { encoding: 'utf8', timeout: 90_000 });
  if (r.status !== 0) throw new Error(`episode fixture failed: ${r.stderr}`);
}

beforeAll(() => {
  ensureBuilt();
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'la-report-'));
  episode = path.join(dir, 'episode');
  writeEpisode(episode);
  hostileEpisode = path.join(dir, 'hostile');
  writeEpisode(hostileEpisode, 'hostile');
});

/** A page of headless Chromium with a fresh profile, closed after `use`. */
async function withPage<T>(use: (page: Page) => Promise<T>): Promise<T> {
  const { chromium } = await import('playwright-core');
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'la-chromium-'));
  // playwright passes the profile directory as --user-data-dir.
  const browser = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    viewport: { width: 1100, height: 900 },
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
  });
  try {
    return await use(await browser.newPage());
  } finally {
    await browser.close();
    fs.rmSync(profile, { recursive: true, force: true });
  }
}

// Markup that runs script if a report inserts it as HTML; each names where it was planted.
const img = (tag: string): string => `<img src=x onerror=alert('${tag}')>`;
const scriptBreak = (tag: string): string => `</script><script>alert('${tag}')</script>`;
const attrBreak = (tag: string): string => `"><svg onload=alert('${tag}')>`;

afterAll(() => {
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

describe('leak-agent report', () => {
  it('writes one self-contained HTML page naming the leak', () => {
    const out = path.join(dir, 'report.html');
    const r = runCli(['report', episode, '-o', out]);
    expect(r.status, r.stderr).toBe(0);
    const html = fs.readFileSync(out, 'utf8');
    expect(fs.statSync(out).mode & 0o777, 'private like the evidence it is made from').toBe(0o600);
    expect(html).toContain('CacheEntry');
    expect(html).toContain('Map');
    expect(html).toContain('handleRequest'); // top allocation site from the heap profile
    // Self-contained: nothing fetched from the network.
    expect(html).not.toMatch(/<(script|link|img)[^>]+(src|href)=["']?https?:/i);
  });

  it('still renders when a snapshot is unreadable, with a note saying why', () => {
    const broken = path.join(dir, 'broken');
    fs.cpSync(episode, broken, { recursive: true });
    const manifest = JSON.parse(fs.readFileSync(path.join(broken, 'manifest.json'), 'utf8'));
    // The copied episode is found beside its manifest, not at the original absolute paths.
    for (const f of manifest.files) f.path = path.join('/nonexistent', path.basename(f.path));
    fs.writeFileSync(path.join(broken, 'manifest.json'), JSON.stringify(manifest));
    fs.truncateSync(path.join(broken, 'after.heapsnapshot'), 1000);
    const out = path.join(dir, 'broken.html');
    const r = runCli(['report', broken, '-o', out, '--quiet']);
    expect(r.status, r.stderr).toBe(0);
    const html = fs.readFileSync(out, 'utf8');
    expect(html).toMatch(/snapshot analysis failed: \S*after\.heapsnapshot: truncated snapshot/);
    expect(html).toContain('handleRequest');
  });

  it('rejects a directory without a manifest', () => {
    const r = runCli(['report', dir]);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/cannot read manifest .*manifest\.json: ENOENT/);
  });

  it('a hostile manifest, series and snapshot: every string shown as text, no injected script runs', async (ctx) => {
    // Every string the report takes from files carries markup; the snapshot's constructor name, an
    // edge name, its strings and the profile's script URL do too (fixture in hostile mode).
    const manifestPath = path.join(hostileEpisode, 'manifest.json');
    const m = JSON.parse(fs.readFileSync(manifestPath, 'utf8'));
    m.episodeId = scriptBreak('episodeId');
    m.createdAt = img('createdAt');
    m.service = { name: img('service'), version: attrBreak('version') };
    m.process = { pid: img('pid'), node: scriptBreak('node'), host: attrBreak('host'), argv0: img('argv0') };
    m.container = { limit: img('limit'), usage: 1, cgroup: img('cgroup'), oomKills: null };
    Object.assign(m.verdict, { memory: img('memory'), points: img('points'), limitSource: attrBreak('limitSource') });
    for (const f of m.files) f.uri = attrBreak('uri');
    m.files.push({ kind: img('kind'), path: scriptBreak('path'), bytes: 1, sha256: img('sha') });
    m.files.push({ kind: 'heapprofile', path: `/nonexistent/${img('note')}`, bytes: 1, sha256: 'x' });
    fs.writeFileSync(manifestPath, JSON.stringify(m));
    const seriesPath = path.join(hostileEpisode, 'series.json');
    const s = JSON.parse(fs.readFileSync(seriesPath, 'utf8'));
    s.alerts[0].kind = img('alert');
    s.samples[0].gc = attrBreak('gc');
    fs.writeFileSync(seriesPath, JSON.stringify(s));

    const out = path.join(dir, 'hostile.html');
    const r = runCli(['report', hostileEpisode, '-o', out, '--quiet']);
    expect(r.status, r.stderr).toBe(0);
    const html = fs.readFileSync(out, 'utf8');
    expect(html).not.toMatch(/<img|<svg onload|<\/script><script>alert/i);
    const csp = /<meta http-equiv="Content-Security-Policy" content="([^"]*)"/.exec(html)?.[1] ?? '';
    expect(csp).toMatch(/script-src 'sha256-[A-Za-z0-9+/=]+'/);
    expect(csp).not.toContain('unsafe-inline');

    if (!fs.existsSync(CHROMIUM)) {
      console.log(`skipped the browser part: ${CHROMIUM} is not installed (apt-get install -y --no-install-recommends chromium)`);
      ctx.skip();
      return;
    }
    await withPage(async (page) => {
      const dialogs: string[] = [];
      page.on('dialog', (d) => {
        dialogs.push(d.message());
        void d.dismiss();
      });
      const errors: string[] = [];
      page.on('pageerror', (e) => errors.push(e.message));
      page.on('console', (msg) => {
        if (msg.type() === 'error') errors.push(msg.text());
      });
      await page.goto('file://' + out);
      await page.waitForSelector('body[data-rendered="true"]', { timeout: 20_000 });
      await page.waitForTimeout(500); // an injected onerror/onload would have fired by now
      const seen = await page.evaluate(() => ({
        text: document.body.innerText,
        title: document.title,
        injected: document.querySelectorAll('img, iframe, svg:not(.chart):not(.bar)').length,
        handlers: Array.from(document.querySelectorAll('*')).filter((e) => Array.from(e.attributes).some((a) => a.name.startsWith('on'))).length,
        scripts: document.scripts.length,
      }));
      expect(dialogs).toEqual([]);
      expect(errors).toEqual([]);
      expect(seen.injected).toBe(0);
      expect(seen.handlers).toBe(0);
      expect(seen.scripts).toBe(2); // the embedded data and the report's own script
      // The hostile strings are there, as text.
      for (const planted of [img('class'), img('edge'), scriptBreak('url'), img('memory'), img('service'), attrBreak('host'), img('kind'), scriptBreak('path'), attrBreak('uri'), img('note')]) {
        expect(seen.text).toContain(planted);
      }
      expect(seen.title).toContain(scriptBreak('episodeId'));
    });
  });

  it('the CSP alone blocks markup that got onto the page, and still runs the page script', async (ctx) => {
    if (!fs.existsSync(CHROMIUM)) {
      console.log(`skipped: ${CHROMIUM} is not installed (apt-get install -y --no-install-recommends chromium)`);
      ctx.skip();
      return;
    }
    const out = path.join(dir, 'report.html');
    if (!fs.existsSync(out)) expect(runCli(['report', episode, '-o', out, '--quiet']).status).toBe(0);
    // As if escaping had missed a field: markup inserted straight into the page.
    const injected = path.join(dir, 'injected.html');
    const html = fs.readFileSync(out, 'utf8');
    expect(html).toContain('<h2>GC pauses</h2>');
    fs.writeFileSync(injected, html.replace('<h2>GC pauses</h2>', `<h2>GC pauses</h2>${img('handler')}<script>alert('inline')</script><div style="display:none" id="styled">x</div>`));
    await withPage(async (page) => {
      const dialogs: string[] = [];
      page.on('dialog', (d) => {
        dialogs.push(d.message());
        void d.dismiss();
      });
      const violations: string[] = [];
      page.on('console', (m) => {
        if (/Content Security Policy/.test(m.text())) violations.push(m.text());
      });
      await page.goto('file://' + injected);
      await page.waitForSelector('body[data-rendered="true"]', { timeout: 20_000 });
      await page.waitForTimeout(500);
      expect(dialogs).toEqual([]);
      expect(violations.some((v) => /inline script/.test(v))).toBe(true);
      expect(violations.some((v) => /inline event handler/.test(v))).toBe(true);
      // An inline style attribute is refused too: the element stays visible.
      expect(await page.isVisible('#styled')).toBe(true);
    });
  });

  it('opens in headless Chromium with its charts drawn and no page errors', async (ctx) => {
    if (!fs.existsSync(CHROMIUM)) {
      console.log(`skipped: ${CHROMIUM} is not installed (apt-get install -y --no-install-recommends chromium)`);
      ctx.skip();
      return;
    }
    const out = path.join(dir, 'report.html');
    if (!fs.existsSync(out)) expect(runCli(['report', episode, '-o', out, '--quiet']).status).toBe(0);
    await withPage(async (page) => {
      const errors: string[] = [];
      page.on('pageerror', (e) => errors.push(e.message));
      page.on('console', (m) => {
        if (m.type() === 'error') errors.push(m.text());
      });
      const requests: string[] = [];
      page.on('request', (req) => {
        if (!req.url().startsWith('file:')) requests.push(req.url());
      });
      await page.goto('file://' + out);
      await page.waitForSelector('body[data-rendered="true"]', { timeout: 20_000 });
      const drawn = await page.evaluate(() => ({
        series: document.querySelectorAll('#memory-chart path.series').length,
        oldSpacePoints: (document.querySelector('#memory-chart path.series-oldSpace')?.getAttribute('d') ?? '').split('L').length,
        trend: document.querySelectorAll('#memory-chart path.trend').length,
        alerts: document.querySelectorAll('#memory-chart line.alert').length,
        pauses: document.querySelectorAll('#gc-chart rect.pause').length,
        suspects: document.querySelectorAll('tr.suspect').length,
        sites: document.querySelectorAll('tr.site').length,
        chartBox: (document.getElementById('memory-chart') as unknown as SVGGraphicsElement).getBoundingClientRect().height,
      }));
      expect(errors).toEqual([]);
      expect(requests).toEqual([]);
      expect(drawn.series).toBe(3);
      expect(drawn.oldSpacePoints).toBe(40);
      expect(drawn.trend).toBe(1);
      expect(drawn.alerts).toBe(1);
      expect(drawn.pauses).toBe(40);
      expect(drawn.suspects).toBeGreaterThan(0);
      expect(drawn.sites).toBeGreaterThan(0);
      expect(drawn.chartBox).toBeGreaterThan(100);
      const shot = path.join(dir, 'report.png');
      await page.screenshot({ path: shot, fullPage: true });
      expect(fs.statSync(shot).size).toBeGreaterThan(20_000);
      if (process.env.LEAK_AGENT_KEEP_SCREENSHOT) fs.copyFileSync(shot, process.env.LEAK_AGENT_KEEP_SCREENSHOT);
    });
  });
});
