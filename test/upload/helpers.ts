/** Shared by the upload tests: a private compiled build, child hosts, episode fixtures, log reading. */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { promisify } from 'node:util';

export const ROOT = path.resolve(__dirname, '../..');
export const HOST = path.join(__dirname, 'fixtures', 'upload-host.js');

/** Compiles src/ into a private folder so parallel test files never race on dist/. It sits under
 * node_modules/.cache so that the build resolves the project's dependencies (the AWS SDK). */
export async function buildPrivate(): Promise<string> {
  const cache = path.join(ROOT, 'node_modules', '.cache');
  fs.mkdirSync(cache, { recursive: true });
  const out = fs.mkdtempSync(path.join(cache, 'leak-agent-upload-build-'));
  await promisify(execFile)(process.execPath, [path.join(ROOT, 'node_modules/typescript/bin/tsc'), '-p', path.join(ROOT, 'tsconfig.json'), '--outDir', out, '--declaration', 'false', '--sourceMap', 'false'], { cwd: ROOT });
  return out;
}

const tmpDirs: string[] = [];

export function tmpDir(tag: string): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `leak-agent-upload-${tag}-`));
  tmpDirs.push(dir);
  return dir;
}

/** Removes the folders (and the private build) this test file made. */
export function cleanup(build?: string): void {
  for (const d of tmpDirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
  if (build) fs.rmSync(build, { recursive: true, force: true });
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
  });
}

export interface HostRun {
  child: ChildProcess;
  done: Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }>;
}

const running = new Set<ChildProcess>();

/** Kills (by pid) every host this test file started that is still running, e.g. after a timeout. */
export function killHosts(): void {
  for (const c of running) if (c.exitCode === null && c.signalCode === null && c.pid) process.kill(c.pid, 'SIGKILL');
  running.clear();
}

export function startHost(build: string, env: Record<string, string>, spec: object): HostRun {
  const child = spawn(process.execPath, [HOST], {
    cwd: ROOT,
    env: {
      PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/root', UPLOAD_TEST_BUILD: build,
      LEAK_AGENT_NATIVE: 'off', AWS_EC2_METADATA_DISABLED: 'true', AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
      HOSTNAME: 'pod-7f9c', OTEL_SERVICE_NAME: 'checkout', HOST_SPEC: JSON.stringify(spec), ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  running.add(child);
  child.on('exit', () => running.delete(child));
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
  const done = new Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }>((resolve) => {
    child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
  return { child, done };
}

export function hostResult(stdout: string): { eventLoopMaxMs: number; eventLoopP99Ms: number; status: Record<string, number> } {
  const line = stdout.split('\n').find((l) => l.includes('"host.result"'));
  if (!line) throw new Error(`host printed no result:\n${stdout}`);
  return JSON.parse(line);
}

export type LogLine = Record<string, unknown> & { event: string; time: string };

export function readLog(file: string): LogLine[] {
  if (!fs.existsSync(file)) return [];
  return fs.readFileSync(file, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as LogLine);
}

/** Incompressible bytes (exercise multipart sizes) or JSON-like text (compresses like a snapshot). */
export function writeFile(file: string, bytes: number, kind: 'random' | 'text'): Buffer {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  let data: Buffer;
  if (kind === 'random') data = randomBytes(bytes);
  else {
    const parts: string[] = [];
    let n = 0;
    for (let i = 0; n < bytes; i += 1) {
      const s = `{"id":${i},"name":"Leaky${i % 97}","self_size":${(i * 7919) % 4096},"edges":[${i % 13},${i % 31}]},\n`;
      parts.push(s);
      n += s.length;
    }
    data = Buffer.from(parts.join('')).subarray(0, bytes);
  }
  fs.writeFileSync(file, data);
  return data;
}

/** An episode folder as the evidence stage leaves it: files plus manifest.json. */
export function writeEpisode(dir: string, episodeId: string, files: { name: string; kind: string; bytes: number; content: 'random' | 'text' }[]): Map<string, Buffer> {
  const epDir = path.join(dir, 'episodes', episodeId);
  const contents = new Map<string, Buffer>();
  const list = files.map((f) => {
    const p = path.join(epDir, f.name);
    const data = writeFile(p, f.bytes, f.content);
    contents.set(f.name, data);
    return { kind: f.kind, path: p, bytes: data.length, sha256: createHash('sha256').update(data).digest('hex') };
  });
  const manifest = {
    schema: 'leak-agent/episode@1', episodeId, createdAt: '2026-11-25T10:00:00.000Z', updatedAt: '2026-11-25T10:00:00.000Z',
    service: { name: 'checkout', version: null }, process: { pid: 1, node: process.version, host: 'pod-7f9c', argv0: 'node' },
    container: null, verdict: { kind: 'leak', episodeId }, files: list,
  };
  fs.writeFileSync(path.join(epDir, 'manifest.json'), JSON.stringify(manifest, null, 2));
  return contents;
}

export function spoolEntries(dir: string): string[] {
  const spool = path.join(dir, 'spool');
  return fs.existsSync(spool) ? fs.readdirSync(spool).filter((n) => n.endsWith('.json')) : [];
}

/** The key the uploader gives a file of an episode raised at 2026-11-25T10:00:00Z by `pid`. */
export function expectedKey(pid: number, episodeId: string, name: string): string {
  return `checkout/pod-7f9c/20261125T100000Z-${pid}-${episodeId}/${name}.gz`;
}
