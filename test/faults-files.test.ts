/**
 * Fault suite for the agent's files, in real processes (root, as the agent often runs): a symbolic
 * link in the evidence tree, an evidence directory another user owns, a symlinked LEAK_AGENT_DIR,
 * an unwritable one (the host runs as an unprivileged user), and the log file's path, parents and
 * mode. In each case the host's output and exit code are its own, the agent says what is wrong in
 * one clear line, and nothing outside the agent's own tree is written or chmod'ed.
 */
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { createLogger as CreateLogger } from '../src/log/logger';
import { buildPrivate } from './upload/helpers';

const HOST = path.join(__dirname, 'fixtures', 'files-host.js');
let build: string;
/** The logger of the build under test (FILES_TEST_BUILD can point these tests at another build). */
let createLogger: typeof CreateLogger;
const made: string[] = [];
const isRoot = typeof process.geteuid === 'function' && process.geteuid() === 0;

beforeAll(async () => {
  build = process.env.FILES_TEST_BUILD ?? (await buildPrivate());
  createLogger = (require(path.join(build, 'log', 'logger.js')) as { createLogger: typeof CreateLogger }).createLogger;
});

afterAll(() => {
  for (const d of made.splice(0)) fs.rmSync(d, { recursive: true, force: true });
  if (!process.env.FILES_TEST_BUILD && build) fs.rmSync(build, { recursive: true, force: true });
});

function tmp(tag: string): string {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), `la-files-${tag}-`));
  made.push(d);
  return d;
}

type Line = Record<string, unknown> & { event: string };

async function runHost(env: Record<string, string>, opts: { uid?: number; gid?: number } = {}): Promise<{ code: number | null; stdout: string; log: Line[]; other: string[] }> {
  const child = spawn(process.execPath, [HOST], {
    env: { PATH: process.env.PATH ?? '', FILES_TEST_BUILD: path.join(build, 'index.js'), LEAK_AGENT_NATIVE: 'off', LEAK_AGENT_SNAPSHOT_COOLDOWN: '0', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
    ...opts,
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const timer = setTimeout(() => child.kill('SIGKILL'), 50_000);
  const code = await new Promise<number | null>((resolve) => child.on('close', (c) => resolve(c)));
  clearTimeout(timer);
  const log: Line[] = [];
  const other: string[] = [];
  for (const l of stderr.split('\n').filter(Boolean)) {
    try {
      log.push(JSON.parse(l) as Line);
    } catch {
      other.push(l);
    }
  }
  return { code, stdout, log, other };
}

const modeOf = (p: string): string => (fs.lstatSync(p).mode & 0o7777).toString(8);

/** The host's own output, unchanged by the agent. */
function expectHostUntouched(r: { code: number | null; stdout: string; other: string[] }): void {
  expect(r.code).toBe(7);
  expect(r.stdout).toMatch(/^host: started\n\{"step":"snapshot".*\}\nhost: done\n$/);
  expect(r.other).toEqual([]);
}

describe.runIf(isRoot)('the evidence tree', () => {
  it('a symbolic link inside it is refused: its target is neither written nor chmod\'ed', async () => {
    const dir = tmp('link');
    const outside = tmp('outside');
    fs.chmodSync(outside, 0o755);
    fs.symlinkSync(outside, path.join(dir, 'on-demand'));
    const r = await runHost({ LEAK_AGENT_DIR: dir });
    expectHostUntouched(r);
    expect(modeOf(outside)).toBe('755');
    expect(fs.readdirSync(outside)).toEqual([]);
    const skipped = r.log.filter((l) => l.event === 'snapshot.skipped');
    expect(skipped).toHaveLength(1);
    expect(String(skipped[0]?.reason)).toMatch(/on-demand is a symbolic link .*does not follow links/);
    expect(r.log.some((l) => l.event === 'snapshot.written')).toBe(false);
  });

  it('a $TMPDIR/leak-agent owned by another user is refused at start with one line, left as it was', async () => {
    const tmpdir = tmp('shared');
    fs.chmodSync(tmpdir, 0o1777);
    const theirs = path.join(tmpdir, 'leak-agent');
    fs.mkdirSync(theirs);
    fs.chmodSync(theirs, 0o777);
    fs.chownSync(theirs, 4321, 4321);
    const r = await runHost({ TMPDIR: tmpdir });
    expectHostUntouched(r);
    expect(modeOf(theirs)).toBe('777');
    expect(fs.statSync(theirs).uid).toBe(4321);
    expect(fs.readdirSync(theirs)).toEqual([]);
    const refusals = r.log.filter((l) => l.event === 'agent.error' && l.where === 'evidence');
    expect(refusals).toHaveLength(1);
    expect(String(refusals[0]?.message)).toMatch(new RegExp(`LEAK_AGENT_DIR ${theirs} is owned by uid 4321, but the agent runs as uid 0`));
    expect(r.log.find((l) => l.event === 'snapshot.skipped')?.reason).toMatch(/owned by uid 4321/);
  });

  it('LEAK_AGENT_DIR that is itself a symbolic link is refused; the agent asks for the real directory', async () => {
    const real = tmp('real');
    fs.chmodSync(real, 0o755);
    const link = path.join(tmp('holder'), 'evidence');
    fs.symlinkSync(real, link);
    const r = await runHost({ LEAK_AGENT_DIR: link });
    expectHostUntouched(r);
    expect(fs.readdirSync(real)).toEqual([]);
    expect(modeOf(real)).toBe('755');
    const refusal = r.log.find((l) => l.event === 'agent.error' && l.where === 'evidence');
    expect(String(refusal?.message)).toMatch(/is a symbolic link .*set LEAK_AGENT_DIR to the real directory/);
  });

  it('a directory of this user that others can write is refused, not chmod\'ed', async () => {
    const dir = tmp('loose');
    fs.mkdirSync(path.join(dir, 'on-demand'));
    fs.chmodSync(path.join(dir, 'on-demand'), 0o777);
    const r = await runHost({ LEAK_AGENT_DIR: dir });
    expectHostUntouched(r);
    expect(modeOf(path.join(dir, 'on-demand'))).toBe('777');
    expect(fs.readdirSync(path.join(dir, 'on-demand'))).toEqual([]);
    expect(String(r.log.find((l) => l.event === 'snapshot.skipped')?.reason)).toMatch(/writable by other users \(mode 0777\)/);
  });

  it('a tree the agent creates itself is 0700 all the way down, whatever the umask; the snapshot is 0600', async () => {
    const dir = path.join(tmp('fresh'), 'a', 'b');
    const old = process.umask(0);
    let r: Awaited<ReturnType<typeof runHost>>;
    try {
      r = await runHost({ LEAK_AGENT_DIR: dir });
    } finally {
      process.umask(old);
    }
    expectHostUntouched(r);
    for (const d of [path.dirname(dir), dir, path.join(dir, 'on-demand')]) expect(modeOf(d), d).toBe('700');
    const snap = fs.readdirSync(path.join(dir, 'on-demand')).filter((n) => n.endsWith('.heapsnapshot'));
    expect(snap).toHaveLength(1);
    expect(modeOf(path.join(dir, 'on-demand', snap[0] as string))).toBe('600');
  });

  it('an unwritable directory (an unprivileged host): one clear line, the host unchanged', async () => {
    const dir = tmp('ro');
    fs.chmodSync(build, 0o755); // the private build must be readable by the unprivileged host
    fs.chownSync(dir, 65534, 65534);
    fs.chmodSync(dir, 0o500);
    const r = await runHost({ LEAK_AGENT_DIR: dir, HOME: dir }, { uid: 65534, gid: 65534 });
    expectHostUntouched(r);
    expect(fs.readdirSync(dir)).toEqual([]);
    expect(String(r.log.find((l) => l.event === 'snapshot.skipped')?.reason)).toMatch(/EACCES/);
  });
});

describe('the log file', () => {
  const logLines = (file: string): string[] => fs.readFileSync(file, 'utf8').split('\n').filter(Boolean);

  it('creates missing parents 0755 and the file 0600, also under umask 000', () => {
    const file = path.join(tmp('log'), 'var', 'log', 'agent.log');
    const old = process.umask(0);
    try {
      const logger = createLogger({ kind: 'file', path: file });
      logger.log('test.line', { n: 1 });
      logger.close();
    } finally {
      process.umask(old);
    }
    expect(modeOf(path.dirname(file))).toBe('755');
    expect(modeOf(path.dirname(path.dirname(file)))).toBe('755');
    expect(modeOf(file)).toBe('600');
    expect(logLines(file)).toHaveLength(1);
  });

  it('an existing 0644 log keeps its mode and is appended to', () => {
    const file = path.join(tmp('log644'), 'agent.log');
    fs.writeFileSync(file, '{"event":"before"}\n');
    fs.chmodSync(file, 0o644);
    const logger = createLogger({ kind: 'file', path: file });
    logger.log('test.line');
    logger.close();
    expect(modeOf(file)).toBe('644');
    expect(logLines(file)).toHaveLength(2);
  });

  it('a symbolic link as the log path is refused: its target is untouched, one line on stderr, logging goes to stderr', async () => {
    const dir = tmp('loglink');
    const target = path.join(dir, 'elsewhere.txt');
    fs.writeFileSync(target, 'precious\n');
    const link = path.join(dir, 'agent.log');
    fs.symlinkSync(target, link);
    const program = `const { createLogger } = require(${JSON.stringify(path.join(build, 'log', 'logger.js'))});
      const logger = createLogger({ kind: 'file', path: ${JSON.stringify(link)} });
      logger.log('test.line'); logger.close();`;
    const child = spawn(process.execPath, ['-e', program], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    expect(await new Promise((resolve) => child.on('close', resolve))).toBe(0);
    expect(fs.readFileSync(target, 'utf8')).toBe('precious\n');
    const lines = stderr.split('\n').filter(Boolean);
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatch(/"event":"agent.error".*cannot open LEAK_AGENT_LOG file .*agent.log: it is a symbolic link/);
    expect(lines[1]).toMatch(/"event":"test.line"/);
  });
});
