/**
 * What a user gets from `npm install leak-agent`: `npm pack` of this tree installed into an empty
 * project with default npm settings (npm 11 runs no install scripts it was not told to allow, so
 * nothing is compiled), then run on every Node major users run:
 * - `node -r leak-agent`, `node --import leak-agent` and `import` load the shipped prebuild;
 * - a leaking service gets its leak.detected;
 * - `npx leak-agent analyze` names the retained objects of a snapshot written by that Node;
 * and, with the optional peers installed by running the commands the agent itself prints when they
 * are missing, OTLP export to a real receiver and S3 upload to s3rver.
 */
import { execFile, execFileSync, spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HeadObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { cleanEnv, startAgentChild, type AgentChild, type Line } from './helpers/agent-child';
import { OtlpReceiver, waitFor } from './helpers/otlp-receiver';
import { nodeBinaries, type NodeBinary } from './native-helpers';

const ROOT = path.resolve(__dirname, '..');
const FIXTURES = path.join(ROOT, 'test', 'fixtures', 'package');
const NODES = nodeBinaries();
/** The optional peers are exercised once, on the newest Node. */
const PEERS_NODE = NODES[NODES.length - 1] as NodeBinary;
const BUCKET = 'evidence';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'leak-agent-consumer-'));
const npmEnv = { ...cleanEnv({}), npm_config_audit: 'false', npm_config_fund: 'false', npm_config_update_notifier: 'false' };
const children: AgentChild[] = [];
let s3rver: ChildProcess | undefined;
let receiver: OtlpReceiver | undefined;

afterAll(async () => {
  for (const c of children) c.kill();
  if (s3rver?.pid && s3rver.exitCode === null) process.kill(s3rver.pid, 'SIGTERM');
  await receiver?.stop();
  fs.rmSync(tmp, { recursive: true, force: true });
});

/**
 * Commands that can take tens of seconds run asynchronously: a synchronous one blocks the test
 * worker, and past vitest's fixed 60 s RPC timeout the run fails although every test passed.
 */
const run = promisify(execFile);

async function npm(args: string[], cwd: string): Promise<void> {
  // --prefer-offline: the machine's npm cache has every tarball; the registry is asked only for
  // metadata a range needs (a consumer's install resolves ranges, not our lockfile).
  await run('npm', [...args, '--prefer-offline'], { cwd, env: npmEnv, timeout: 300_000, maxBuffer: 64 << 20 });
}

/** An empty project with leak-agent installed from the tarball, and the service fixtures. */
async function consumerProject(name: string, tarball: string): Promise<string> {
  const dir = path.join(tmp, name);
  fs.mkdirSync(dir);
  fs.writeFileSync(path.join(dir, 'package.json'), '{"name":"consumer","version":"1.0.0","private":true}\n');
  await npm(['install', path.relative(dir, tarball)], dir);
  for (const f of fs.readdirSync(FIXTURES)) fs.copyFileSync(path.join(FIXTURES, f), path.join(dir, f));
  return dir;
}

function topLevelPackages(dir: string): string[] {
  const nm = path.join(dir, 'node_modules');
  return fs.readdirSync(nm)
    .flatMap((d) => (d.startsWith('@') ? fs.readdirSync(path.join(nm, d)).map((s) => `${d}/${s}`) : d.startsWith('.') ? [] : [d]))
    .sort();
}

function printSize(label: string, dir: string): void {
  const nm = path.join(dir, 'node_modules');
  const bytes = Number(execFileSync('du', ['-sb', nm], { encoding: 'utf8' }).split('\t')[0]);
  const kb = Number(execFileSync('du', ['-sk', nm], { encoding: 'utf8' }).split('\t')[0]);
  console.log(`[package-consumer] ${label}: node_modules ${(bytes / 1e6).toFixed(2)} MB apparent, ${((kb * 1024) / 1e6).toFixed(2)} MB on disk, ${topLevelPackages(dir).length} packages`);
}

function agentEnv(project: string, extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  return cleanEnv({ LEAK_AGENT_DIR: path.join(project, 'evidence'), ...extra });
}

/**
 * A leaking service (~2 MB/s) under `node -r leak-agent`, with a short window, a full GC every
 * second (--expose-gc) and no snapshots (the snapshot path is not what this test is about).
 */
function leakingService(node: NodeBinary, project: string, env: Record<string, string>): AgentChild {
  const child = startAgentChild(node.bin, ['--expose-gc', '--max-old-space-size=512', '-r', 'leak-agent', 'service.cjs'], project, agentEnv(project, {
    LEAK_KB_PER_TICK: '100', LEAK_AGENT_WINDOW: '10s', LEAK_AGENT_SNAPSHOTS: 'off', ...env,
  }));
  children.push(child);
  return child;
}

async function startS3rver(): Promise<string> {
  const port = 20_000 + Math.floor(Math.random() * 20_000);
  // Started directly (not through npx) so that its pid is the server's and we stop exactly it.
  const server = spawn(process.execPath, [path.join(ROOT, 'node_modules/s3rver/bin/s3rver.js'), '-d', path.join(tmp, 's3rver'), '-a', '127.0.0.1', '-p', String(port), '--configure-bucket', BUCKET], { stdio: ['ignore', 'pipe', 'pipe'] });
  s3rver = server;
  await new Promise<void>((resolve, reject) => {
    let out = '';
    server.stdout?.on('data', (d: Buffer) => { out += d.toString(); if (out.includes('listening')) resolve(); });
    server.once('exit', (code) => reject(new Error(`s3rver exited with ${code}: ${out}`)));
  });
  return `http://127.0.0.1:${port}`;
}

let tarball: string;
let bare: string;
/** Per Node: the leaking service's log, once it reported a leak and was stopped. */
const leakRuns = new Map<string, Promise<{ child: AgentChild; report: Line }>>();
let peers: Promise<{ project: string; installs: string[]; child: AgentChild; report: Line; endpoint: string }>;

beforeAll(async () => {
  const packed = await run('npm', ['pack', '--ignore-scripts', '--silent', '--pack-destination', tmp], { cwd: ROOT, env: npmEnv, encoding: 'utf8' });
  tarball = path.join(tmp, packed.stdout.trim().split('\n').pop() as string);
  bare = await consumerProject('bare', tarball);

  // One leak run at a time (each is CPU-bound, with a full GC a second): concurrent runs on a
  // small machine starve each other's timers and the verdict comes late or not before the OOM.
  let queue: Promise<unknown> = Promise.resolve();
  const oneAtATime = <T>(job: () => Promise<T>): Promise<T> => {
    const run = queue.then(job, job);
    queue = run.catch(() => undefined);
    return run;
  };
  const leakRun = async (node: NodeBinary, project: string, env: Record<string, string>) => {
    const child = leakingService(node, project, env);
    await child.until((l) => l.event === 'leak.detected', `leak.detected on ${node.label}`, 120_000);
    return child;
  };
  for (const node of NODES) {
    const run = oneAtATime(async () => {
      const child = await leakRun(node, bare, { LEAK_AGENT_DIR: path.join(bare, `evidence-${node.label.replace(/\W+/g, '-')}`) });
      return { child, report: await child.stop() };
    });
    leakRuns.set(node.label, run);
    run.catch(() => undefined); // awaited by the tests; no unhandled rejection meanwhile
  }

  peers = (async () => {
    // The optional peers, installed the way a user would: run the bare agent with the features
    // configured and run the install command of each missing-package line as printed.
    const project = await consumerProject('with-peers', tarball);
    const ask = startAgentChild(PEERS_NODE.bin, ['-r', 'leak-agent', 'service.cjs'], project, agentEnv(project, {
      OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:9', LEAK_AGENT_UPLOAD: `s3://${BUCKET}/service`,
    }));
    children.push(ask);
    const lines = await Promise.all(['telemetry', 'upload'].map((where) =>
      ask.until((l) => l.event === 'agent.error' && l.where === where && typeof l.install === 'string', `the ${where} install line`, 30_000)));
    await ask.stop();
    const installs = lines.map((l) => String(l.install));
    for (const command of installs) await run('sh', ['-c', `${command} --prefer-offline`], { cwd: project, env: npmEnv, timeout: 300_000, maxBuffer: 64 << 20 });

    const endpoint = await startS3rver();
    receiver = new OtlpReceiver();
    await receiver.start();
    const r = receiver;
    return oneAtATime(async () => {
      const child = await leakRun(PEERS_NODE, project, {
        OTEL_EXPORTER_OTLP_ENDPOINT: r.url, OTEL_METRIC_EXPORT_INTERVAL: '1000',
        LEAK_AGENT_UPLOAD: `s3://${BUCKET}/service`,
        AWS_ACCESS_KEY_ID: 'S3RVER', AWS_SECRET_ACCESS_KEY: 'S3RVER', AWS_REGION: 'us-east-1', AWS_ENDPOINT_URL_S3: endpoint,
        AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
      });
      await child.until((l) => l.event === 'upload.done' && l.kind === 'pprof', 'the pprof profile uploaded to S3', 60_000);
      await waitFor(() => r.logs.find((l) => l.attributes['event.name'] === 'leak.detected'), 'the leak.detected log record at the receiver', 30_000);
      return { project, installs, child, report: await child.stop(), endpoint };
    });
  })();
  peers.catch(() => undefined);
}, 120_000);

describe('a bare install (npm pack, empty project, default npm)', () => {
  it('brings leak-agent and its one dependency, with no OpenTelemetry or AWS SDK package and nothing compiled', () => {
    printSize('bare', bare);
    expect(topLevelPackages(bare)).toEqual(['leak-agent', 'pprof-format']);
    expect(fs.existsSync(path.join(bare, 'node_modules', 'leak-agent', 'build'))).toBe(false);
  });
});

describe.each(NODES.map((n) => [n.label, n] as const))('on %s', (label, node) => {
  const prebuilds = () => path.join(bare, 'node_modules', 'leak-agent', 'prebuilds');

  it.each([
    ['-r leak-agent', ['-r', 'leak-agent', 'service.cjs']],
    ['--import leak-agent', ['--import', 'leak-agent', 'service.mjs']],
    ['import', ['service.mjs']],
  ])('%s loads the shipped prebuild', async (_how, args) => {
    const child = startAgentChild(node.bin, args, bare, agentEnv(bare));
    children.push(child);
    const ready = await child.until((l) => l.ready === true, 'the service to start', 60_000);
    expect(ready.status).toMatchObject({ running: true, sampler: 'native' });
    const started = await child.until((l) => l.event === 'agent.started', 'agent.started', 5_000);
    expect(String(started.samplerReason)).toContain(prebuilds());
    expect((await child.stop()).stopped).toBe(true);
  }, 90_000);

  it('a leaking service gets leak.detected', async () => {
    const { child } = await (leakRuns.get(label) as NonNullable<ReturnType<typeof leakRuns.get>>);
    const leak = child.log.find((l) => l.event === 'leak.detected') as Line;
    expect(leak).toMatchObject({ memory: 'old_space' });
    expect(child.log.find((l) => l.event === 'agent.started')).toMatchObject({ sampler: 'native' });
  }, 600_000);

  it('npx leak-agent analyze names the objects a snapshot of this Node retains', async () => {
    const snapshot = path.join(tmp, `${label.replace(/\W+/g, '-')}.heapsnapshot`);
    await run(node.bin, ['snapshot.cjs', snapshot], { cwd: bare, env: cleanEnv({ LEAK_AGENT_ENABLED: 'false' }), timeout: 60_000 });
    // The package's bin, found by npx in the project; its `#!/usr/bin/env node` runs this Node.
    const env = { ...npmEnv, PATH: `${path.dirname(node.bin)}${path.delimiter}${process.env.PATH}` };
    const { stdout: out } = await run('npx', ['--no-install', 'leak-agent', 'analyze', snapshot, '--json', '--quiet'], { cwd: bare, env, encoding: 'utf8', timeout: 120_000, maxBuffer: 64 << 20 });
    const doc = JSON.parse(out) as { suspects: { name: string; countDelta: number; path: string[] }[] };
    expect(doc.suspects[0]).toMatchObject({ name: 'LeakyThing', countDelta: 20_000 });
    expect(doc.suspects[0]?.path[0]).toBe('(GC roots)');
    fs.rmSync(snapshot, { force: true });
  }, 130_000);
});

describe(`with the optional peers installed (${PEERS_NODE.label})`, () => {
  it('the install commands the agent prints install them', async () => {
    const { project, installs } = await peers;
    printSize('with the OTLP and S3 peers', project);
    expect(installs).toHaveLength(2);
    const packages = topLevelPackages(project);
    for (const name of ['@opentelemetry/sdk-metrics', '@opentelemetry/exporter-metrics-otlp-proto', '@opentelemetry/sdk-logs', '@opentelemetry/exporter-logs-otlp-proto', '@aws-sdk/client-s3']) {
      expect(packages).toContain(name);
    }
  }, 600_000);

  it('metrics and the leak.detected record reach a real OTLP receiver', async () => {
    const { child } = await peers;
    const r = receiver as OtlpReceiver;
    const leak = r.logs.find((l) => l.attributes['event.name'] === 'leak.detected');
    expect(leak?.attributes['leak_agent.memory']).toBe('old_space');
    expect(r.named('v8js.memory.heap.used').length).toBeGreaterThan(0);
    expect(child.log.find((l) => l.event === 'telemetry.started')).toBeDefined();
    expect(child.log.filter((l) => l.event === 'agent.error')).toEqual([]);
  }, 300_000);

  it('the evidence is uploaded to S3 (s3rver) and is there', async () => {
    const { child, endpoint } = await peers;
    const done = child.log.find((l) => l.event === 'upload.done' && l.kind === 'pprof') as Line;
    const client = new S3Client({ region: 'us-east-1', endpoint, forcePathStyle: true, credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' } });
    try {
      const uri = String(done.uri);
      expect(uri.startsWith(`s3://${BUCKET}/service/`)).toBe(true);
      const head = await client.send(new HeadObjectCommand({ Bucket: BUCKET, Key: uri.slice(`s3://${BUCKET}/`.length) }));
      expect(head.ContentLength).toBe(done.compressedBytes);
    } finally {
      client.destroy();
    }
  }, 300_000);
});
