/**
 * Runs test/fixtures/evidence-child.js (a real agent in a real process, fed one synthetic leak
 * verdict) and collects what it prints: the agent's JSON log lines (`event`) and the fixture's
 * steps (`step`), both on stdout. Builds dist/ first when the sources are newer.
 */
import { execFileSync, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';

export const ROOT = path.resolve(__dirname, '..', '..');
export const FIXTURE = path.join(ROOT, 'test', 'fixtures', 'evidence-child.js');

function newest(dir: string): number {
  let t = 0;
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    t = Math.max(t, e.isDirectory() ? newest(p) : fs.statSync(p).mtimeMs);
  }
  return t;
}

/** Compiles dist/ when missing or older than src/ (CI builds it in `npm ci`); one test file at a time. */
export function ensureBuilt(): void {
  const marker = path.join(ROOT, 'dist', 'evidence', 'evidence-capture.js');
  const fresh = (): boolean => fs.existsSync(marker) && fs.statSync(marker).mtimeMs >= newest(path.join(ROOT, 'src'));
  if (fresh()) return;
  const lock = path.join(ROOT, 'dist.build-lock');
  for (let i = 0; ; i++) {
    try {
      fs.mkdirSync(lock);
      break;
    } catch {
      if (i > 600) throw new Error(`${lock} held for over a minute`);
      execFileSync('sleep', ['0.1']);
    }
  }
  try {
    if (!fresh()) execFileSync('npm', ['run', 'build'], { cwd: ROOT, stdio: 'pipe' });
  } finally {
    fs.rmdirSync(lock);
  }
}

export interface ChildLine {
  event?: string;
  step?: string;
  [key: string]: unknown;
}

export interface ChildRun {
  code: number | null;
  signal: NodeJS.Signals | null;
  lines: ChildLine[];
  stderr: string;
  events(name: string): ChildLine[];
  step(name: string): ChildLine | undefined;
}

export interface RunOptions {
  env: Record<string, string>;
  /** Wrap the command, e.g. to enter a cgroup first: `['sh', '-c', '… exec "$0" "$@"']`. */
  wrap?: string[];
  /** Called with each line as it arrives (to send signals, race the file system, …). */
  onLine?: (line: ChildLine, pid: number) => void;
  /** Script to run instead of the evidence fixture. */
  script?: string;
  args?: string[];
}

export function runChild(opts: RunOptions): Promise<ChildRun> {
  const command = [...(opts.wrap ?? []), process.execPath, '--expose-gc', opts.script ?? FIXTURE, ...(opts.args ?? [])];
  const child = spawn(command[0] as string, command.slice(1), {
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', LEAK_AGENT_LOG: 'stdout', LEAK_AGENT_NATIVE: 'off', ...opts.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const lines: ChildLine[] = [];
  let buffered = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
    buffered += chunk;
    let nl: number;
    while ((nl = buffered.indexOf('\n')) >= 0) {
      const text = buffered.slice(0, nl);
      buffered = buffered.slice(nl + 1);
      if (!text.trim()) continue;
      let line: ChildLine;
      try {
        line = JSON.parse(text) as ChildLine;
      } catch {
        line = { step: 'unparsed', text };
      }
      lines.push(line);
      opts.onLine?.(line, child.pid as number);
    }
  });
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  return new Promise((resolve) => {
    child.on('close', (code, signal) => {
      resolve({
        code,
        signal,
        lines,
        stderr,
        events: (name) => lines.filter((l) => l.event === name),
        step: (name) => lines.find((l) => l.step === name),
      });
    });
  });
}

/** Every file under `dir`, relative paths, sorted. */
export function listFiles(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string): void => {
    let entries: fs.Dirent[];
    try {
      entries = fs.readdirSync(d, { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of entries) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) walk(p);
      else out.push(path.relative(dir, p));
    }
  };
  walk(dir);
  return out.sort();
}

/** Counts snapshot nodes per constructor name (object nodes), parsing the whole file (test-sized snapshots only). */
export function constructorCounts(snapshotPath: string): Map<string, number> {
  const snap = JSON.parse(fs.readFileSync(snapshotPath, 'utf8')) as {
    snapshot: { meta: { node_fields: string[]; node_types: [string[]] } };
    nodes: number[];
    strings: string[];
  };
  const fields = snap.snapshot.meta.node_fields;
  const width = fields.length;
  const typeAt = fields.indexOf('type');
  const nameAt = fields.indexOf('name');
  const objectType = snap.snapshot.meta.node_types[0].indexOf('object');
  const counts = new Map<string, number>();
  for (let i = 0; i < snap.nodes.length; i += width) {
    if (snap.nodes[i + typeAt] !== objectType) continue;
    const name = snap.strings[snap.nodes[i + nameAt] as number] as string;
    counts.set(name, (counts.get(name) ?? 0) + 1);
  }
  return counts;
}
