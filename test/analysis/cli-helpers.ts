/** Runs the real `leak-agent` CLI (dist build) in a child process, with a hard timeout. */
import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';

export const ROOT = path.resolve(__dirname, '../..');
export const CLI = path.join(ROOT, 'dist/cli/main.js');

function newestMtime(dir: string): number {
  let newest = 0;
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, entry.name);
    newest = Math.max(newest, entry.isDirectory() ? newestMtime(p) : fs.statSync(p).mtimeMs);
  }
  return newest;
}

/** Builds dist/ when it is missing or older than src/ (CI builds it in `npm ci` via `prepare`). */
export function ensureBuilt(): void {
  const built = fs.existsSync(CLI) ? fs.statSync(CLI).mtimeMs : 0;
  if (built >= newestMtime(path.join(ROOT, 'src'))) return;
  const r = spawnSync('npm', ['run', 'build'], { cwd: ROOT, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`build failed: ${r.stderr}`);
}

export function runCli(args: string[], timeoutMs = 60_000): SpawnSyncReturns<string> {
  return spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', timeout: timeoutMs, maxBuffer: 64 << 20 });
}

/** Runs the leaky fixture program of the given kind; returns [baseline, after] snapshot paths. */
export function leakySnapshots(kind: 'map' | 'listeners' | 'timers', dir: string): [string, string] {
  const before = path.join(dir, `${kind}-1.heapsnapshot`);
  const after = path.join(dir, `${kind}-2.heapsnapshot`);
  const r = spawnSync(process.execPath, [path.join(__dirname, 'fixtures/leaky-program.js'), kind, before, after], { encoding: 'utf8', timeout: 60_000 });
  if (r.status !== 0) throw new Error(`fixture ${kind} failed: ${r.stderr}`);
  return [before, after];
}
