/**
 * Shared by the native tests: the Node binaries to run them on (the system Node 20 and Node 22/24/26
 * from tools/node-toolchain, installed by `npm install`) and a child-process runner.
 */
import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';

export const ROOT = path.resolve(__dirname, '..');
export const FIXTURES = path.join(ROOT, 'test', 'fixtures', 'native');

export interface NodeBinary {
  label: string;
  bin: string;
}

export function toolchainNode(major: number): NodeBinary {
  const bin = path.join(ROOT, 'tools', 'node-toolchain', 'node_modules', `node${major}`, 'bin', 'node');
  if (!fs.existsSync(bin)) {
    // Not a skip: these versions are what users run; `npm install` (prepare) installs them.
    throw new Error(`Node ${major} is missing at ${bin}: run \`npm run build:native\` (installs tools/node-toolchain)`);
  }
  return { label: `Node ${major}`, bin };
}

export function nodeBinaries(): NodeBinary[] {
  return [{ label: `Node ${process.versions.node.split('.')[0]} (system)`, bin: process.execPath }, toolchainNode(22), toolchainNode(24), toolchainNode(26)];
}

/** Environment for children: nothing inherited that would change the agent's choices. */
export function childEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('LEAK_AGENT_') && !k.startsWith('NODE_')) env[k] = v;
  return { ...env, LEAK_AGENT_LOG: 'stderr', ...extra };
}

export function runNode(bin: string, args: string[], env: NodeJS.ProcessEnv, cwd = ROOT): SpawnSyncReturns<string> {
  return spawnSync(bin, args, { env, cwd, encoding: 'utf8', timeout: 60_000, maxBuffer: 64 * 1024 * 1024 });
}

/** Runs a fixture that prints one JSON line on stdout; fails with the child's stderr otherwise. */
export function runJson<T>(bin: string, args: string[], env: NodeJS.ProcessEnv, cwd = ROOT): T {
  const r = runNode(bin, args, env, cwd);
  if (r.status !== 0) throw new Error(`${bin} ${args.join(' ')} exited ${r.status} (${r.signal ?? ''}):\n${r.stderr}`);
  const line = r.stdout.trim().split('\n').pop() ?? '';
  return JSON.parse(line) as T;
}

/** The agent's JSON log lines from a child's stderr. */
export function logLines(stderr: string): Record<string, unknown>[] {
  return stderr
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}
