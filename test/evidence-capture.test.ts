/**
 * The capture path in real processes: a real agent with a synthetic leak verdict logs the alert
 * with the evidence it plans, then writes the
 * sampling heap profile (.heapprofile + pprof), a gated heap snapshot whose nodes contain the
 * leaking constructor, the pair's second snapshot, series.json and a manifest whose sha256 match;
 * files are 0600 in 0700 directories; on demand and signal snapshots go through the same gate.
 */
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as zlib from 'node:zlib';
import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { constructorCounts, ensureBuilt, listFiles, ROOT, runChild, type ChildRun } from './helpers/evidence-child';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'evidence-capture-'));
const goAvailable = (() => {
  try {
    execFileSync('go', ['version'], { stdio: 'ignore' });
    return true;
  } catch {
    console.log('[evidence-capture] skipping the `go tool pprof` check: no Go toolchain (apt-get install golang-go)');
    return false;
  }
})();
beforeAll(() => ensureBuilt());

/** The paths of the files an evidence.ready line lists. */
const files = (ready: { files?: unknown } | undefined): string[] => ((ready?.files ?? []) as { path: string }[]).map((f) => f.path);
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

describe('leak verdict → evidence', () => {
  const dir = path.join(tmp, 'leak');
  let run: ChildRun;
  beforeAll(async () => {
    run = await runChild({
      env: {
        LEAK_AGENT_DIR: dir,
        LEAK_AGENT_SNAPSHOT_COOLDOWN: '0',
        // A small interval so a few MB of leak leave many samples to look at.
        LEAK_AGENT_PROFILE_INTERVAL: '16KiB',
        LEAK_AGENT_SNAPSHOT_PAIR: '+20%',
        CHILD_HEAP_MB: '8',
        CHILD_PAIR_MB: '6',
        CHILD_REPEAT: '1',
        CHILD_ON_DEMAND: 'from the test',
        OTEL_SERVICE_NAME: 'checkout-api',
      },
    });
  });

  it('runs to the end without an agent error', () => {
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(run.step('done')).toBeDefined();
    expect(run.events('agent.error')).toEqual([]);
  });

  it('starts the profiler at the suspect state, logs leak.detected with the evidence it plans, then evidence.ready with the files', () => {
    const started = run.events('profile.started');
    expect(started).toHaveLength(1);
    expect(started[0]).toMatchObject({ why: 'old_space suspect', backend: 'inspector', intervalBytes: 16384 });
    const [leak] = run.events('leak.detected');
    const planned = leak?.evidence as { kind: string; path: string; when: string }[];
    const episodeDir = path.join(dir, 'episodes', String(run.step('leak')?.episodeId));
    expect(leak?.episodeDir).toBe(episodeDir);
    expect(planned.map((p) => `${path.relative(episodeDir, p.path)} ${p.when.startsWith('now') ? 'now' : 'later'}`).sort()).toEqual([
      'allocations-1.heapprofile now', 'allocations-1.pb.gz now', 'allocations-2.heapprofile later', 'allocations-2.pb.gz later',
      'heap-1.heapsnapshot now', 'heap-2.heapsnapshot later', 'manifest.json now', 'series.json now',
    ]);
    const [ready] = run.events('evidence.ready');
    expect(files(ready).map((p) => path.relative(episodeDir, p)).sort()).toEqual([
      'allocations-1.heapprofile', 'allocations-1.pb.gz', 'heap-1.heapsnapshot', 'series.json',
    ]);
    for (const p of files(ready)) expect(fs.existsSync(p)).toBe(true);
  });

  it('writes a .heapprofile whose samples point at the leaking code', () => {
    const file = files(run.events('evidence.ready')[0]).find((p) => p.endsWith('.heapprofile')) as string;
    const profile = JSON.parse(fs.readFileSync(file, 'utf8'));
    expect(profile.head.callFrame.functionName).toBe('(root)');
    expect(profile.samples.length).toBeGreaterThan(20);
    const bytesByFunction = new Map<string, number>();
    const walk = (n: { callFrame: { functionName: string }; selfSize: number; children: unknown[] }): void => {
      bytesByFunction.set(n.callFrame.functionName, (bytesByFunction.get(n.callFrame.functionName) ?? 0) + n.selfSize);
      for (const c of n.children) walk(c as typeof n);
    };
    walk(profile.head);
    const leakBytes = (bytesByFunction.get('leakMb') ?? 0) + (bytesByFunction.get('LeakyThing') ?? 0);
    const total = [...bytesByFunction.values()].reduce((a, b) => a + b, 0);
    // At least half of the live sampled bytes were allocated by the leak (4 MB after the profiler started).
    expect(leakBytes / total).toBeGreaterThan(0.5);
  });

  it('writes pprof that decodes, with space/bytes samples whose stacks name the leak', async () => {
    const pf = await import('pprof-format');
    const file = files(run.events('evidence.ready')[0]).find((p) => p.endsWith('.pb.gz')) as string;
    const profile = pf.Profile.decode(zlib.gunzipSync(fs.readFileSync(file)));
    const str = (i: number | bigint): string => profile.stringTable.strings[Number(i)] as string;
    expect(profile.sampleType.map((t) => `${str(t.type)}/${str(t.unit)}`)).toEqual(['samples/count', 'space/bytes']);
    expect(str(profile.defaultSampleType)).toBe('space');
    expect(Number(profile.period)).toBe(16384);
    const fnName = new Map(profile.function.map((f) => [Number(f.id), str(f.name)]));
    const locFn = new Map(profile.location.map((l) => [Number(l.id), Number(l.line[0]?.functionId)]));
    let leakSpace = 0;
    let total = 0;
    for (const s of profile.sample) {
      const names = s.locationId.map((id) => fnName.get(locFn.get(Number(id)) as number));
      total += Number(s.value[1]);
      if (names.includes('leakMb')) leakSpace += Number(s.value[1]);
    }
    expect(total).toBeGreaterThan(0);
    expect(leakSpace / total).toBeGreaterThan(0.5);
  });

  it.skipIf(!goAvailable)('the pprof file loads in `go tool pprof`, which ranks the leak first', () => {
    const file = files(run.events('evidence.ready')[0]).find((p) => p.endsWith('.pb.gz')) as string;
    const out = execFileSync('go', ['tool', 'pprof', '-top', '-sample_index=space', file], {
      encoding: 'utf8', env: { ...process.env, HOME: tmp, PPROF_TMPDIR: tmp }, stdio: ['ignore', 'pipe', 'pipe'],
    });
    expect(out).toMatch(/Type: space/);
    // First row after the header: the function holding the most live sampled bytes.
    const rows = out.split('\n').filter((l) => /^\s+[\d.]+[kMG]?B\s/.test(l));
    expect(rows[0]).toMatch(/leakMb|LeakyThing/);
  });

  it('writes a heap snapshot that parses and contains the leaking constructor', () => {
    const written = run.events('snapshot.written').find((l) => l.reason === 'leak');
    expect(written).toBeDefined();
    expect(written).toMatchObject({ bytes: fs.statSync(written?.path as string).size });
    expect(written?.pauseMs).toBeTypeOf('number');
    expect(written?.durationMs).toBeTypeOf('number');
    // The node count logged is the file's own, and calibrates the next estimate.
    const header = fs.readFileSync(written?.path as string, 'latin1').slice(0, 4096);
    expect(written?.nodes).toBe(Number(/"node_count":(\d+)/.exec(header)?.[1]));
    expect(written?.heapBytesPerNode as number).toBeLessThanOrEqual(40);
    const counts = constructorCounts(written?.path as string);
    expect(counts.get('LeakyThing') ?? 0).toBeGreaterThan(10_000);
  });

  it('takes the second snapshot of the pair after further growth, with more of the leak in it', () => {
    const pair = run.events('snapshot.written').find((l) => l.reason === 'leak pair (further growth)');
    expect(pair?.path).toMatch(/heap-2\.heapsnapshot$/);
    const first = run.events('snapshot.written').find((l) => l.reason === 'leak');
    const before = constructorCounts(first?.path as string).get('LeakyThing') as number;
    const after = constructorCounts(pair?.path as string).get('LeakyThing') as number;
    expect(after).toBeGreaterThan(before * 1.3);
    expect(run.events('profile.written').map((l) => path.basename(l.path as string))).toEqual(['allocations-1.heapprofile', 'allocations-2.heapprofile']);
  });

  it('keeps a manifest whose files exist with matching sha256, plus the verdict, process, container and service', () => {
    const episodeDir = path.join(dir, 'episodes', String(run.step('leak')?.episodeId));
    const manifest = JSON.parse(fs.readFileSync(path.join(episodeDir, 'manifest.json'), 'utf8'));
    expect(manifest).toMatchObject({
      schema: 'leak-agent/episode@1',
      episodeId: run.step('leak')?.episodeId,
      service: { name: 'checkout-api', version: '0.1.0' },
      process: { node: process.version },
      verdict: { kind: 'leak', memory: 'old_space' },
    });
    expect(manifest.files.map((f: { path: string }) => path.basename(f.path)).sort()).toEqual([
      'allocations-1.heapprofile', 'allocations-1.pb.gz', 'allocations-2.heapprofile', 'allocations-2.pb.gz',
      'heap-1.heapsnapshot', 'heap-2.heapsnapshot', 'series.json',
    ]);
    for (const f of manifest.files) {
      const data = fs.readFileSync(f.path);
      expect(f.bytes).toBe(data.length);
      expect(f.sha256).toBe(createHash('sha256').update(data).digest('hex'));
    }
    const series = JSON.parse(fs.readFileSync(path.join(episodeDir, 'series.json'), 'utf8'));
    expect(series.schema).toBe('leak-agent/series@1');
    expect(series.samples.length).toBeGreaterThanOrEqual(2);
    expect(series.samples.every((s: { gc: string }) => s.gc === 'mark-sweep-compact')).toBe(true);
    expect(series.trend.slopePerMs).toBe(100);
    expect(series.alerts).toEqual([{ t: manifest.verdict.detectedAt, kind: 'leak', episodeId: manifest.episodeId }]);
  });

  it('writes files 0600 in 0700 directories, and leaves no temporary file', () => {
    const files = listFiles(dir);
    expect(files.filter((f) => f.endsWith('.tmp'))).toEqual([]);
    for (const f of files) expect(fs.statSync(path.join(dir, f)).mode & 0o777).toBe(0o600);
    for (const d of [dir, path.join(dir, 'episodes'), path.join(dir, 'on-demand')]) expect(fs.statSync(d).mode & 0o777).toBe(0o700);
  });

  it('a repeated alert for the same episode reuses its evidence instead of capturing again', () => {
    const repeat = run.step('repeat')?.evidence as { path: string; when: string }[];
    expect(repeat.every((p) => p.when === 'already captured')).toBe(true);
    expect(repeat.map((p) => path.basename(p.path)).sort()).toEqual([
      'allocations-1.heapprofile', 'allocations-1.pb.gz', 'allocations-2.heapprofile', 'allocations-2.pb.gz',
      'heap-1.heapsnapshot', 'heap-2.heapsnapshot', 'manifest.json', 'series.json',
    ]);
    expect(run.events('leak.detected')).toHaveLength(2);
    // Two rounds of evidence (the alert's, the pair's), none for the repeated alert.
    expect(run.events('evidence.ready')).toHaveLength(2);
    expect(run.events('snapshot.written').filter((l) => l.episodeId !== null)).toHaveLength(2);
  });

  it('takes an on-demand snapshot through the same gate', () => {
    const outcome = run.step('on-demand')?.outcome as { written: boolean; path: string };
    expect(outcome.written).toBe(true);
    expect(path.dirname(outcome.path)).toBe(path.join(dir, 'on-demand'));
    expect(run.events('snapshot.written').find((l) => l.reason === 'on demand: from the test')?.path).toBe(outcome.path);
    // The ledger on disk counts all three, for the per-day limit and cooldown across restarts.
    expect(JSON.parse(fs.readFileSync(path.join(dir, 'snapshot-ledger.json'), 'utf8')).writes).toHaveLength(3);
  });
});

describe('the gate refuses by configuration', () => {
  it('LEAK_AGENT_SNAPSHOTS=off: no snapshot, a snapshot.skipped line, the profile still written', async () => {
    const dir = path.join(tmp, 'off');
    const run = await runChild({ env: { LEAK_AGENT_DIR: dir, LEAK_AGENT_SNAPSHOTS: 'off', CHILD_HEAP_MB: '4', CHILD_ON_DEMAND: 'x' } });
    expect(run.code).toBe(0);
    expect(run.events('snapshot.written')).toEqual([]);
    const skipped = run.events('snapshot.skipped');
    expect(skipped.map((l) => l.check)).toEqual(['off', 'off']);
    expect(skipped[0]?.reason).toMatch(/LEAK_AGENT_SNAPSHOTS=off/);
    expect(listFiles(dir).filter((f) => f.endsWith('.heapsnapshot'))).toEqual([]);
    expect(run.events('profile.written')).toHaveLength(1);
  });

  it('cooldown and the per-process maximum refuse with their figures', async () => {
    const dir = path.join(tmp, 'limits');
    const run = await runChild({
      env: { LEAK_AGENT_DIR: dir, LEAK_AGENT_SNAPSHOTS_PER_PROCESS: '1', CHILD_HEAP_MB: '4', CHILD_ON_DEMAND: 'second' },
    });
    expect(run.code).toBe(0);
    expect(run.events('snapshot.written')).toHaveLength(1);
    const [skipped] = run.events('snapshot.skipped');
    expect(skipped).toMatchObject({ check: 'per-process', takenThisProcess: 1, perProcess: 1 });
    // A new process under the same directory: the on-disk ledger enforces the 10-minute default cooldown.
    const again = await runChild({ env: { LEAK_AGENT_DIR: dir, CHILD_HEAP_MB: '4' } });
    const [cool] = again.events('snapshot.skipped');
    expect(cool).toMatchObject({ check: 'cooldown', reason: expect.stringMatching(/cooldown is 600 s/) });
    expect(cool?.retryInMs).toBeGreaterThan(0);
  });
});

describe('a verdict without a suspect state first', () => {
  it('starts the profiler at the alert and writes its first profile once old-space grew further', async () => {
    const dir = path.join(tmp, 'late-profile');
    const run = await runChild({
      env: {
        LEAK_AGENT_DIR: dir, LEAK_AGENT_SNAPSHOTS: 'off', LEAK_AGENT_PROFILE_INTERVAL: '16KiB', LEAK_AGENT_SNAPSHOT_PAIR: '+20%',
        CHILD_NO_SUSPECT: '1', CHILD_HEAP_MB: '8', CHILD_PAIR_MB: '6',
      },
    });
    expect(run.code).toBe(0);
    expect(run.events('profile.started')).toMatchObject([{ why: 'leak verdict' }]);
    const [leak] = run.events('leak.detected');
    // The alert plans the profile for later, once the profiler has sampled some growth.
    const planned = leak?.evidence as { path: string; when: string }[];
    expect(planned.filter((p) => /allocations-1/.test(p.path)).map((p) => p.when)).toEqual([
      expect.stringMatching(/^once the profiler has sampled 1m or old-space grew \+20% since the alert$/),
      expect.stringMatching(/^once the profiler/),
    ]);
    expect(files(run.events('evidence.ready')[0]).filter((p) => /allocations/.test(p))).toEqual([]);
    const [written] = run.events('profile.written');
    expect(path.basename(written?.path as string)).toBe('allocations-1.heapprofile');
    expect(written?.samples as number).toBeGreaterThan(20);
  });
});

describe('disk budget retention', () => {
  it('deletes the oldest snapshots to stay in budget, and drops them from the closed episode\'s manifest', async () => {
    const dir = path.join(tmp, 'retention');
    // Files are ~12 MB (heap used h ≈ 11 MB); the gate plans 2.5·h ≈ 28 MB for the next (80 file B per
    // 40 heap B, × 1.25). One kept + the next fits (≈ 40 MB), two kept do not (≈ 52 MB): 45 MB sits in
    // the middle, ±12% either way, so garbage left in the heap cannot flip the outcome.
    const budget = 45e6;
    const run = await runChild({
      env: {
        LEAK_AGENT_DIR: dir, LEAK_AGENT_DISK_BUDGET: '45MB', LEAK_AGENT_SNAPSHOT_COOLDOWN: '0', LEAK_AGENT_SNAPSHOT_PAIR: 'off',
        CHILD_HEAP_MB: '4', CHILD_END_EPISODE: '1', CHILD_ON_DEMAND: 'a,b,c',
      },
    });
    expect(run.code).toBe(0);
    const written = run.events('snapshot.written').map((l) => l.path as string);
    expect(written).toHaveLength(4);
    const deleted = run.events('snapshot.deleted').map((l) => l.path as string);
    // Oldest first: the (closed) episode's heap-1, then the first on-demand one.
    expect(deleted).toEqual([written[0], written[1]]);
    const kept = listFiles(dir).filter((f) => f.endsWith('.heapsnapshot')).map((f) => path.join(dir, f));
    expect(kept.sort()).toEqual([written[2], written[3]].sort());
    expect(kept.reduce((sum, f) => sum + fs.statSync(f).size, 0)).toBeLessThanOrEqual(budget);
    const manifest = JSON.parse(fs.readFileSync(path.join(path.dirname(written[0] as string), 'manifest.json'), 'utf8'));
    expect(manifest.files.map((f: { path: string }) => f.path)).not.toContain(written[0]);
    expect(manifest.deleted).toMatchObject([{ path: written[0], why: 'disk budget retention' }]);
  });

  it('never deletes a snapshot of an open episode: the pair stays whole', async () => {
    const dir = path.join(tmp, 'retention-open');
    const run = await runChild({
      env: {
        LEAK_AGENT_DIR: dir, LEAK_AGENT_DISK_BUDGET: '45MB', LEAK_AGENT_SNAPSHOT_COOLDOWN: '0', LEAK_AGENT_SNAPSHOT_PAIR: 'off',
        CHILD_HEAP_MB: '4', CHILD_ON_DEMAND: 'a,b',
      },
    });
    const written = run.events('snapshot.written').map((l) => l.path as string);
    expect(written).toHaveLength(3);
    expect(run.events('snapshot.deleted').map((l) => l.path)).toEqual([written[1]]);
    expect(fs.existsSync(written[0] as string)).toBe(true);
  });
});

describe('worker threads', () => {
  it('an agent loaded in a worker takes a gated snapshot of its own isolate, named apart from the main thread\'s', async () => {
    const script = path.join(tmp, 'worker.js');
    fs.writeFileSync(script, `const { Worker } = require('node:worker_threads');
const w = new Worker(\`const a = require(${JSON.stringify(path.join(ROOT, 'dist', 'index.js'))});
  a.snapshot('from a worker').then((o) => { console.log(JSON.stringify({ step: 'worker', outcome: o })); a.stop(); });\`, { eval: true });
w.on('exit', (code) => console.log(JSON.stringify({ step: 'exit', code })));\n`);
    const dir = path.join(tmp, 'worker');
    const run = await runChild({ script, env: { LEAK_AGENT_DIR: dir, LEAK_AGENT_SIGNAL: 'SIGUSR2' } });
    expect(run.code).toBe(0);
    expect(run.step('exit')?.code).toBe(0);
    const outcome = run.step('worker')?.outcome as { written: boolean; path: string };
    expect(outcome.written).toBe(true);
    expect(path.basename(outcome.path)).toMatch(/^heap-.*-\d+-1\.heapsnapshot$/);
    // Signals reach the main thread only: a worker's agent does not listen.
    expect(run.events('signal.listening')).toEqual([]);
  });
});

describe('snapshot signal', () => {
  it('LEAK_AGENT_SIGNAL=SIGUSR2 takes a gated snapshot when the signal arrives', async () => {
    const dir = path.join(tmp, 'signal');
    let sent = false;
    const run = await runChild({
      env: { LEAK_AGENT_DIR: dir, LEAK_AGENT_SIGNAL: 'SIGUSR2', LEAK_AGENT_SNAPSHOT_COOLDOWN: '0', CHILD_HEAP_MB: '4', CHILD_WAIT_SIGNAL: '1' },
      onLine: (line, pid) => {
        if (line.step === 'ready' && !sent) {
          sent = true;
          process.kill(pid, 'SIGUSR2');
        }
        if (line.event === 'snapshot.written' && line.reason === 'on demand: signal SIGUSR2') process.kill(pid, 'SIGTERM');
      },
    });
    expect(run.events('signal.listening')).toMatchObject([{ signal: 'SIGUSR2' }]);
    const written = run.events('snapshot.written').find((l) => l.reason === 'on demand: signal SIGUSR2');
    expect(written && fs.existsSync(written.path as string)).toBe(true);
  });

  it('does not take over a signal the application already listens to, and says so', async () => {
    const script = path.join(tmp, 'app-listens.js');
    fs.writeFileSync(script, `process.on('SIGUSR2', () => {}); require(${JSON.stringify(path.join(ROOT, 'dist', 'index.js'))}).stop();\n`);
    const run = await runChild({ script, env: { LEAK_AGENT_DIR: path.join(tmp, 'sig2'), LEAK_AGENT_SIGNAL: 'SIGUSR2' } });
    expect(run.code).toBe(0);
    expect(run.events('signal.listening')).toEqual([]);
    expect(run.events('agent.error').find((l) => l.where === 'signal')?.message).toMatch(/application already listens to SIGUSR2/);
  });

  it('steps back when the application starts listening after the agent', async () => {
    const script = path.join(tmp, 'app-listens-later.js');
    fs.writeFileSync(script, `const a = require(${JSON.stringify(path.join(ROOT, 'dist', 'index.js'))}); const keep = setTimeout(() => {}, 10000); process.on('SIGUSR2', () => { console.log(JSON.stringify({ step: 'app-got-it' })); a.stop(); clearTimeout(keep); }); setTimeout(() => process.kill(process.pid, 'SIGUSR2'), 50);\n`);
    const run = await runChild({ script, env: { LEAK_AGENT_DIR: path.join(tmp, 'sig3'), LEAK_AGENT_SIGNAL: 'SIGUSR2' } });
    expect(run.code).toBe(0);
    expect(run.step('app-got-it')).toBeDefined();
    expect(run.events('agent.error').find((l) => l.where === 'signal')?.message).toMatch(/application started listening to SIGUSR2/);
    expect(run.events('snapshot.written')).toEqual([]);
  });

  it('refuses SIGUSR1 at configuration with a clear line', async () => {
    const script = path.join(tmp, 'usr1.js');
    fs.writeFileSync(script, `require(${JSON.stringify(path.join(ROOT, 'dist', 'index.js'))}).stop();\n`);
    const run = await runChild({ script, env: { LEAK_AGENT_DIR: path.join(tmp, 'sig4'), LEAK_AGENT_SIGNAL: 'SIGUSR1' } });
    const line = run.events('agent.error').find((l) => l.variable === 'LEAK_AGENT_SIGNAL');
    expect(line?.message).toMatch(/SIGUSR1 is Node's signal to start the inspector/);
    expect(run.events('signal.listening')).toEqual([]);
  });
});
