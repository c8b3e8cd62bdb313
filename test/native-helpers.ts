/**
 * Shared by the native tests: the Node binaries to run them on (the system Node 20 and Node 22/24/26
 * from tools/node-toolchain, installed by `npm install`) and a child-process runner.
 */
import { spawn, spawnSync, type SpawnSyncReturns } from 'node:child_process';
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

/** Debian's arm64 sysroot (libc6-arm64-cross): where qemu-aarch64 finds the dynamic loader and libstdc++. */
export const ARM64_SYSROOT = '/usr/aarch64-linux-gnu';

export interface EmulatedNode {
  label: string;
  /** Command and leading arguments: qemu-aarch64 -L <sysroot> <arm64 node>. */
  run: string[];
  abi: string;
}

/**
 * Node 20, 22, 24 and 26 for linux-arm64 run under qemu-user, or why they cannot run here. They
 * and the linux-arm64 prebuilds come from `node scripts/build-native.js --arm64` (not from a
 * clone's `npm install`: it needs Debian's g++-aarch64-linux-gnu and qemu-user).
 */
export function arm64Nodes(): { nodes: EmulatedNode[]; missing: string | null } {
  const onPath = (cmd: string) => (process.env.PATH ?? '').split(path.delimiter).some((d) => d && fs.existsSync(path.join(d, cmd)));
  if (!onPath('qemu-aarch64')) return { nodes: [], missing: 'qemu-aarch64 is not installed (Debian: apt-get install qemu-user)' };
  if (!fs.existsSync(path.join(ARM64_SYSROOT, 'lib', 'ld-linux-aarch64.so.1'))) return { nodes: [], missing: `no arm64 sysroot at ${ARM64_SYSROOT} (Debian: apt-get install libc6-arm64-cross)` };
  const nodes: EmulatedNode[] = [];
  for (const [major, abi] of [[20, '115'], [22, '127'], [24, '137'], [26, '147']] as const) {
    const bin = path.join(ROOT, 'tools', 'node-toolchain', 'arm64', 'node_modules', `node${major}`, 'bin', 'node');
    if (!fs.existsSync(bin)) return { nodes: [], missing: `${bin} is missing: run \`node scripts/build-native.js --arm64\`` };
    const prebuild = path.join(ROOT, 'prebuilds', 'linux-arm64', `leak-agent.abi${abi}.node`);
    if (!fs.existsSync(prebuild)) return { nodes: [], missing: `${prebuild} is missing: run \`node scripts/build-native.js --arm64\`` };
    nodes.push({ label: `Node ${major} linux-arm64 (qemu)`, run: ['qemu-aarch64', '-L', ARM64_SYSROOT, bin], abi });
  }
  return { nodes, missing: null };
}

export interface StreamedRun {
  lines: Record<string, unknown>[];
  stderr: string;
  code: number | null;
  signal: NodeJS.Signals | null;
  /** Milliseconds from spawn to the line that stopped the run, or null. */
  stoppedAfterMs: number | null;
}

/**
 * Runs a child and watches its agent log (stderr) as it comes; when `stopAt` matches a line the
 * child is sent SIGTERM by its own pid, and at `timeoutMs` SIGKILL. Resolves once it has exited.
 */
export function runUntil(cmd: string[], env: NodeJS.ProcessEnv, stopAt: (line: Record<string, unknown>) => boolean, timeoutMs: number): Promise<StreamedRun> {
  return new Promise((resolve) => {
    const started = Date.now();
    const child = spawn(cmd[0] as string, cmd.slice(1), { env, cwd: ROOT, stdio: ['ignore', 'ignore', 'pipe'] });
    const lines: Record<string, unknown>[] = [];
    let raw = '';
    let buf = '';
    let stoppedAfterMs: number | null = null;
    const killer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.stderr.on('data', (d: Buffer) => {
      raw += d.toString();
      buf += d.toString();
      let nl: number;
      while ((nl = buf.indexOf('\n')) >= 0) {
        const text = buf.slice(0, nl);
        buf = buf.slice(nl + 1);
        if (!text.startsWith('{')) continue;
        let line: Record<string, unknown>;
        try { line = JSON.parse(text) as Record<string, unknown>; } catch { continue; }
        lines.push(line);
        if (stoppedAfterMs === null && stopAt(line)) {
          stoppedAfterMs = Date.now() - started;
          child.kill('SIGTERM');
        }
      }
    });
    child.on('close', (code, signal) => {
      clearTimeout(killer);
      resolve({ lines, stderr: raw, code, signal, stoppedAfterMs });
    });
  });
}
