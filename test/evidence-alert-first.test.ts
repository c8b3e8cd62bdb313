/**
 * The alert comes before the evidence and never dies with it: a real agent in a real process, fed
 * one leak verdict through the real policy, logs `leak.detected` (episode, evidence directory, the
 * evidence the policy decided to capture) before it captures anything; a process that exits a second
 * later, or is killed in the middle of the snapshot, still has its alert. `evidence.ready` follows
 * with every file written (size and sha256 as on disk) and what was skipped and why, in the agent log
 * and as an OpenTelemetry log record. Every file is in the episode's manifest the moment it exists.
 */
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureBuilt, listFiles, runChild, type ChildLine } from './helpers/evidence-child';
import { OtlpReceiver } from './helpers/otlp-receiver';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'evidence-alert-first-'));
beforeAll(() => ensureBuilt());
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

interface ReadyFile { kind: string; path: string; bytes: number; sha256: string }
interface Planned { kind: string; path: string; when: string }

const sha256 = (file: string): string => createHash('sha256').update(fs.readFileSync(file)).digest('hex');
const manifestOf = (episodeDir: string): { files: ReadyFile[]; writing?: { kind: string; path: string }[] } =>
  JSON.parse(fs.readFileSync(path.join(episodeDir, 'manifest.json'), 'utf8'));

/** Every field the contract lists for `leak.detected`. */
function expectAlertFields(leak: ChildLine | undefined, dir: string): void {
  expect(leak).toBeDefined();
  expect(leak).toMatchObject({
    memory: 'old_space',
    growthBytesPerSec: 100_000, growthLowerBytesPerSec: 80_000, growthUpperBytesPerSec: 120_000,
    pValue: 0.001, window: '1m', windowMs: 60_000, limitSource: 'heap', timeToLimitSec: 1000,
  });
  expect(leak?.currentBytes).toBeTypeOf('number');
  expect(leak?.limitBytes).toBeTypeOf('number');
  expect(leak?.episodeDir).toBe(path.join(dir, 'episodes', String(leak?.episodeId)));
}

describe('the alert before the evidence', () => {
  it('a process that exits one second after the verdict has its leak.detected line', async () => {
    const dir = path.join(tmp, 'exit');
    // A 20 MB heap: the snapshot alone takes longer than the second the process has left.
    const run = await runChild({ env: { LEAK_AGENT_DIR: dir, CHILD_HEAP_MB: '20', CHILD_EXIT_AFTER_VERDICT_MS: '1000' } });
    expect(run.code).toBe(0);
    const [leak] = run.events('leak.detected');
    expectAlertFields(leak, dir);
    // The evidence it planned: the profile and the snapshot now, the series, the manifest.
    const planned = (leak?.evidence as Planned[]).map((e) => `${e.kind} ${path.basename(e.path)}`);
    expect(planned).toEqual(expect.arrayContaining([
      'heapprofile allocations-1.heapprofile', 'pprof allocations-1.pb.gz', 'heapsnapshot heap-1.heapsnapshot', 'series series.json', 'manifest manifest.json',
    ]));
    for (const e of leak?.evidence as Planned[]) expect(path.dirname(e.path)).toBe(leak?.episodeDir);
    // It was written before any evidence file.
    const order = run.lines.map((l) => l.event).filter((e) => e === 'leak.detected' || e === 'profile.written' || e === 'snapshot.written');
    expect(order[0]).toBe('leak.detected');
  });

  it('a process killed (SIGKILL) in the middle of the snapshot keeps its alert, and its manifest names the file being written', async () => {
    const dir = path.join(tmp, 'killed');
    let killed = false;
    const poll = setInterval(() => {
      if (killed) return;
      const tmpFile = listFiles(dir).find((f) => /\.heap-1\.heapsnapshot\..*\.tmp$/.test(f));
      if (tmpFile && child !== undefined) {
        killed = true;
        process.kill(child, 'SIGKILL');
      }
    }, 2);
    let child: number | undefined;
    const run = await runChild({
      env: { LEAK_AGENT_DIR: dir, CHILD_HEAP_MB: '20' },
      onLine: (_line, pid) => { child = pid; },
    }).finally(() => clearInterval(poll));
    expect(killed).toBe(true);
    expect(run.signal).toBe('SIGKILL');
    const [leak] = run.events('leak.detected');
    expectAlertFields(leak, dir);
    expect(run.events('evidence.ready')).toEqual([]);
    const manifest = manifestOf(leak?.episodeDir as string);
    expect(manifest.writing?.map((w) => path.basename(w.path))).toEqual(['heap-1.heapsnapshot']);
    // What was complete before the kill is listed with its size and hash.
    for (const f of manifest.files) expect(f).toMatchObject({ bytes: fs.statSync(f.path).size, sha256: sha256(f.path) });
  });
});

describe('evidence.ready', () => {
  const dir = path.join(tmp, 'ready');
  const receiver = new OtlpReceiver();
  let run: Awaited<ReturnType<typeof runChild>>;
  beforeAll(async () => {
    await receiver.start();
    run = await runChild({
      env: {
        LEAK_AGENT_DIR: dir, LEAK_AGENT_SNAPSHOT_COOLDOWN: '0', LEAK_AGENT_SNAPSHOT_PAIR: '+20%', LEAK_AGENT_PROFILE_INTERVAL: '16KiB',
        CHILD_HEAP_MB: '8', CHILD_PAIR_MB: '6',
        OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url, OTEL_EXPORTER_OTLP_PROTOCOL: 'http/protobuf',
      },
    });
  });
  afterAll(() => receiver.stop());

  it('follows each capture round with the files written, their sizes and sha256 as on disk', () => {
    expect(run.code).toBe(0);
    expect(run.events('agent.error')).toEqual([]);
    const ready = run.events('evidence.ready');
    expect(ready).toHaveLength(2);
    const [first, second] = ready as ChildLine[];
    const names = (l: ChildLine | undefined) => (l?.files as ReadyFile[]).map((f) => path.basename(f.path)).sort();
    expect(names(first)).toEqual(['allocations-1.heapprofile', 'allocations-1.pb.gz', 'heap-1.heapsnapshot', 'series.json']);
    // The pair's round: everything of the episode so far, nothing left to wait for.
    expect(names(second)).toEqual([
      'allocations-1.heapprofile', 'allocations-1.pb.gz', 'allocations-2.heapprofile', 'allocations-2.pb.gz',
      'heap-1.heapsnapshot', 'heap-2.heapsnapshot', 'series.json',
    ]);
    expect(first?.pending).toEqual(expect.arrayContaining([expect.objectContaining({ kind: 'heapsnapshot', path: expect.stringMatching(/heap-2\.heapsnapshot$/) })]));
    expect(second?.pending).toEqual([]);
    for (const line of ready) {
      expect(line.episodeId).toBe(run.step('leak')?.episodeId);
      expect(line.manifest).toBe(path.join(line.episodeDir as string, 'manifest.json'));
      for (const f of line.files as ReadyFile[]) expect(f).toMatchObject({ bytes: fs.statSync(f.path).size, sha256: sha256(f.path) });
      expect(line.skipped).toEqual([]);
    }
    // After the alert, never before it.
    const events = run.lines.map((l) => l.event);
    expect(events.indexOf('leak.detected')).toBeLessThan(events.indexOf('evidence.ready'));
    expect(run.step('evidence')?.ready).toMatchObject({ episodeId: first?.episodeId, files: first?.files });
  });

  it('the manifest agrees with evidence.ready', () => {
    const last = run.events('evidence.ready').at(-1) as ChildLine;
    const manifest = manifestOf(last.episodeDir as string);
    expect(manifest.files.map(({ kind, path: p, bytes, sha256: h }) => ({ kind, path: p, bytes, sha256: h }))).toEqual(last.files);
    expect(manifest.writing ?? []).toEqual([]);
  });

  it('reaches the OTLP receiver as an evidence.ready log record after the leak.detected record', () => {
    const records = receiver.logs.filter((l) => String(l.attributes['event.name']).match(/^(leak\.detected|evidence\.ready)$/));
    expect(records.map((l) => l.attributes['event.name'])).toEqual(['leak.detected', 'evidence.ready', 'evidence.ready']);
    const [alert, ready] = records;
    const episodeDir = run.events('leak.detected')[0]?.episodeDir;
    expect(alert?.attributes).toMatchObject({ 'leak_agent.episode.id': run.step('leak')?.episodeId, 'leak_agent.evidence.dir': episodeDir });
    expect(alert?.attributes['leak_agent.evidence.planned_paths']).toEqual(
      (run.events('leak.detected')[0]?.evidence as Planned[]).map((e) => e.path));
    const files = run.events('evidence.ready')[0]?.files as ReadyFile[];
    expect(ready?.attributes).toMatchObject({
      'leak_agent.episode.id': run.step('leak')?.episodeId,
      'leak_agent.evidence.dir': episodeDir,
      'leak_agent.evidence.paths': files.map((f) => f.path),
      'leak_agent.evidence.bytes': files.map((f) => f.bytes),
      'leak_agent.evidence.sha256': files.map((f) => f.sha256),
    });
    expect(String(ready?.body)).toMatch(/4 files/);
  });
});

describe('what was skipped, and why', () => {
  it('LEAK_AGENT_SNAPSHOTS=off: the alert plans no snapshot, evidence.ready lists the snapshot as skipped with the reason', async () => {
    const dir = path.join(tmp, 'skipped');
    const run = await runChild({ env: { LEAK_AGENT_DIR: dir, LEAK_AGENT_SNAPSHOTS: 'off', CHILD_HEAP_MB: '4' } });
    expect(run.code).toBe(0);
    const [leak] = run.events('leak.detected');
    expect((leak?.evidence as Planned[]).map((e) => e.kind)).not.toContain('heapsnapshot');
    const [ready] = run.events('evidence.ready');
    expect(ready?.skipped).toEqual([{ kind: 'heapsnapshot', path: path.join(leak?.episodeDir as string, 'heap-1.heapsnapshot'), check: 'off', reason: expect.stringMatching(/LEAK_AGENT_SNAPSHOTS=off/) }]);
    expect((ready?.files as ReadyFile[]).map((f) => f.kind).sort()).toEqual(['heapprofile', 'pprof', 'series']);
  });
});

describe('the manifest the moment a file exists', () => {
  it('the second snapshot of the pair is in the manifest, with its size and sha256, when snapshot.written is logged', async () => {
    const dir = path.join(tmp, 'pair-manifest');
    // The parent kills the process the moment it reads snapshot.written for heap-2, as an operator
    // (or the demo) stopping the service after the pair would.
    let written: ChildLine | undefined;
    const run = await runChild({
      env: { LEAK_AGENT_DIR: dir, LEAK_AGENT_SNAPSHOT_COOLDOWN: '0', LEAK_AGENT_SNAPSHOT_PAIR: '+20%', CHILD_HEAP_MB: '16', CHILD_PAIR_MB: '12' },
      onLine: (line, pid) => {
        if (line.event === 'snapshot.written' && String(line.path).endsWith('heap-2.heapsnapshot') && !written) {
          written = line;
          process.kill(pid, 'SIGKILL');
        }
      },
    });
    expect(written).toBeDefined();
    expect(run.signal).toBe('SIGKILL');
    const manifest = manifestOf(path.dirname(written?.path as string));
    const heap2 = manifest.files.find((f) => f.path === written?.path);
    expect(heap2, `manifest lists ${manifest.files.map((f) => path.basename(f.path)).join(', ')}`).toBeDefined();
    expect(heap2).toMatchObject({ kind: 'heapsnapshot', bytes: fs.statSync(written?.path as string).size, sha256: sha256(written?.path as string) });
  });
});
