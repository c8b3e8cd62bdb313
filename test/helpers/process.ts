/** Helpers for tests that run the agent in real child Node processes. */
import { spawn, spawnSync, type SpawnSyncReturns } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';

/** The package root: `node -r REPO` loads the built agent exactly as a user's `-r leak-agent` would. */
export const REPO = path.resolve(__dirname, '..', '..');

export type LogLine = { event: string; time: string } & Record<string, unknown>;

/** Parses an agent log file; every line must be JSON with `event` and `time`. */
export function readLogLines(file: string): LogLine[] {
  if (!fs.existsSync(file)) return [];
  return fs
    .readFileSync(file, 'utf8')
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l) as LogLine);
}

/** Parses JSON lines out of mixed output (e.g. stderr with the agent log on it). */
export function jsonLines(text: string): LogLine[] {
  const out: LogLine[] = [];
  for (const line of text.split('\n')) {
    if (!line.startsWith('{')) continue;
    try {
      const parsed = JSON.parse(line) as LogLine;
      if (typeof parsed.event === 'string') out.push(parsed);
    } catch { /* not a log line */ }
  }
  return out;
}

export interface NodeRun {
  args: string[];
  env?: Record<string, string | undefined>;
  cwd?: string;
  timeoutMs?: number;
  input?: string;
}

export function runNode(run: NodeRun): SpawnSyncReturns<string> {
  return spawnSync(process.execPath, run.args, {
    cwd: run.cwd ?? REPO,
    env: { ...process.env, ...run.env },
    encoding: 'utf8',
    timeout: run.timeoutMs ?? 60_000,
    input: run.input,
  });
}

/** Async variant for long-running children the test watches. */
export function runNodeAsync(run: NodeRun): Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, run.args, { cwd: run.cwd ?? REPO, env: { ...process.env, ...run.env } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), run.timeoutMs ?? 60_000);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
  });
}
