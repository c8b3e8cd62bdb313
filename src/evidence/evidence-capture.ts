/**
 * The evidence stage as the policy sees it. The policy decides what and when (see
 * src/policy/evidence-schedule.ts) and hands over orders; this stage only captures, safely, one
 * capture at a time, and reports what came of each order:
 *
 *   series          series.json
 *   start-profiler  starts the sampling heap profiler (LEAK_AGENT_PROFILE)
 *   profile         allocations-<n>.heapprofile + .pb.gz
 *   snapshot        heap-<n>.heapsnapshot, through the snapshot gate
 *   on demand       on-demand/heap-<time>.heapsnapshot (API or signal), through the same gate
 *
 * Files go to episodes/<episodeId>/ with the episode's manifest.json, which lists each file the
 * moment it exists (see episode.ts). Nothing here throws into the caller: failures are logged.
 */
import * as path from 'node:path';
import { threadId } from 'node:worker_threads';
import type { AgentConfig } from '../config/env';
import type { LeakVerdict } from '../detect/verdict';
import type { AgentLogger } from '../log/logger';
import { readContainerMemory, type ContainerMemory } from '../process/container';
import type { CaptureOrder, CaptureOutcome, CaptureRound, SkippedEvidence } from './capture-orders';
import { EPISODE_FILES, Episode, episodeDirFor } from './episode';
import type { HeapProfilerBackend } from './heap-profile-types';
import { HeapProfilerSession } from './heap-profiler-session';
import type { EvidenceFile } from './manifest-types';
import { buildSeries } from './series-file';
import { readServiceInfo, type ServiceInfo } from './service-info';
import { SnapshotSignal } from './snapshot-signal';
import { Snapshotter } from './snapshotter';

export interface EvidenceCaptureOptions {
  config: AgentConfig;
  logger: AgentLogger;
  /** A sampling heap profiler other than the in-process inspector (e.g. the native binding). */
  profilerBackend?: HeapProfilerBackend;
  readContainer?: () => ContainerMemory | undefined;
}

export interface SnapshotOutcomeLike {
  written: boolean;
  path?: string;
  reason?: string;
}

/** How far the sampling heap profiler is, for the policy's scheduling. */
export type ProfilerState = 'running' | 'starting' | 'idle' | 'unavailable';

export class EvidenceCapture {
  private readonly profiler: HeapProfilerSession | undefined;
  private readonly snapshotter: Snapshotter;
  /** Episodes the policy keeps open (it bounds their number and closes them). */
  private readonly open = new Map<string, Episode>();
  private signal: SnapshotSignal | undefined;
  private service: ServiceInfo | undefined;
  private chain: Promise<unknown> = Promise.resolve();

  constructor(private readonly opts: EvidenceCaptureOptions) {
    const { config, logger } = opts;
    if (config.evidence.profile !== 'off') {
      this.profiler = new HeapProfilerSession(config.evidence.profileIntervalBytes, logger, opts.profilerBackend);
    }
    this.snapshotter = new Snapshotter({
      dir: config.dir,
      snapshotsEnabled: config.snapshots,
      evidence: config.evidence,
      logger,
      ...(opts.readContainer ? { readContainer: opts.readContainer } : {}),
    });
  }

  /** Installs the snapshot signal (LEAK_AGENT_SIGNAL), if configured. */
  start(): void {
    const sig = this.opts.config.evidence.signal;
    if (sig) {
      this.signal = new SnapshotSignal(sig, this.opts.logger, () => void this.snapshot(`signal ${sig}`));
      this.signal.install();
    }
  }

  /** Starts the sampling heap profiler once (later calls are no-ops); never rejects. */
  startProfiler(why: string): Promise<void> {
    return this.profiler?.start(why) ?? Promise.resolve();
  }

  profilerState(): ProfilerState {
    if (!this.profiler) return 'unavailable';
    const phase = this.profiler.phase;
    return phase === 'failed' || phase === 'stopped' ? 'unavailable' : phase;
  }

  /** The complete files of an open episode (empty when it is not open). */
  episodeFiles(episodeId: string): EvidenceFile[] {
    return this.open.get(episodeId)?.files() ?? [];
  }

  /**
   * Carries out one round of orders for an episode, opening it (directory, manifest) on its first
   * round. Resolves once every order has an outcome; never rejects.
   */
  capture(verdict: LeakVerdict, orders: readonly CaptureOrder[]): Promise<CaptureRound> {
    const episodeDir = episodeDirFor(this.opts.config.dir, verdict.episodeId);
    const failed = (check: string, reason: string): CaptureRound => ({
      episodeId: verdict.episodeId, episodeDir, manifest: null, files: [], written: [],
      outcomes: orders.map((order) => ({ order, done: false, ...skipOf(order, episodeDir, check, reason) })),
    });
    return this.serially(async () => {
      let episode = this.open.get(verdict.episodeId);
      if (!episode) {
        try {
          this.service ??= readServiceInfo();
          episode = new Episode(this.opts.config.dir, verdict, this.service, (this.opts.readContainer ?? readContainerMemory)());
        } catch (err) {
          this.error('episode', err);
          const round = failed('directory', `cannot create the evidence directory ${episodeDir}: ${(err as Error).message}`);
          // A snapshot that cannot even be attempted is still a snapshot not taken.
          for (const o of round.outcomes) {
            if (o.order.kind === 'snapshot' && o.order.logSkip && o.skipped) {
              this.opts.logger.log('snapshot.skipped', { reason: o.skipped.reason, check: o.skipped.check, episodeId: verdict.episodeId });
            }
          }
          return round;
        }
        this.open.set(verdict.episodeId, episode);
      }
      const outcomes: CaptureOutcome[] = [];
      const written: EvidenceFile[] = [];
      for (const order of orders) outcomes.push(await this.run(episode, verdict, order, written));
      return { episodeId: episode.id, episodeDir: episode.dir, manifest: episode.manifestPath, files: episode.files(), written, outcomes };
    }, failed('evidence', 'the capture failed (see agent.error)'));
  }

  /** The policy closed the episode: its snapshots are no longer protected from retention. */
  closeEpisode(episodeId: string): void {
    this.open.delete(episodeId);
  }

  /** Resolves once every capture asked for so far has finished. */
  idle(): Promise<void> {
    return this.chain.then(() => undefined, () => undefined);
  }

  /** A gated snapshot on demand (API or signal), written to `<dir>/on-demand/`. */
  snapshot(reason: string): Promise<SnapshotOutcomeLike> {
    return this.serially(async () => {
      const stamp = new Date().toISOString().replace(/[:.]/g, '-');
      // Agents in worker threads share the directory: the thread id keeps their names apart.
      const who = threadId === 0 ? `${process.pid}` : `${process.pid}-${threadId}`;
      const file = path.join(this.opts.config.dir, 'on-demand', `heap-${stamp}-${who}.heapsnapshot`);
      const result = this.snapshotter.take({ reason: `on demand: ${reason}`, path: file, keep: this.openSnapshots() });
      return result.written ? { written: true, path: result.path } : { written: false, reason: result.reason };
    }, { written: false, reason: 'the snapshot could not be taken (see agent.error)' });
  }

  /** Heap snapshots this process has taken (each one moves native memory; the policy discounts that). */
  snapshotsTaken(): number {
    return this.snapshotter.takenThisProcess;
  }

  /** Open episodes and the snapshots taken, for `status()`. */
  status(): Record<string, unknown> {
    return {
      profiler: this.profiler?.running ?? false,
      snapshotsTaken: this.snapshotter.takenThisProcess,
      openEpisodes: [...this.open.keys()],
    };
  }

  async stop(): Promise<void> {
    this.signal?.uninstall();
    this.open.clear();
    await this.profiler?.stop();
  }

  private async run(episode: Episode, verdict: LeakVerdict, order: CaptureOrder, written: EvidenceFile[]): Promise<CaptureOutcome> {
    const skip = (check: string, reason: string): CaptureOutcome => ({ order, done: false, ...skipOf(order, episode.dir, check, reason) });
    switch (order.kind) {
      case 'series':
        try {
          written.push(episode.writeFile('series', EPISODE_FILES.series(), JSON.stringify(buildSeries(verdict, order.samples, order.alerts)) + '\n'));
          return { order, done: true };
        } catch (err) {
          this.error('series', err);
          return skip('write', `writing series.json failed: ${(err as Error).message}`);
        }
      case 'start-profiler':
        await this.startProfiler(order.why);
        return this.profiler?.running ? { order, done: true } : { order, done: false };
      case 'profile':
        return this.writeProfile(episode, order.n, written, skip);
      case 'snapshot':
        return this.takeSnapshot(episode, order, written, skip);
    }
  }

  private takeSnapshot(
    episode: Episode,
    order: Extract<CaptureOrder, { kind: 'snapshot' }>,
    written: EvidenceFile[],
    skip: (check: string, reason: string) => CaptureOutcome,
  ): CaptureOutcome {
    const file = episode.pathFor(EPISODE_FILES.heapsnapshot(order.n));
    // The manifest is the record of what exists: a failure to rewrite it is logged, never a reason
    // to lose the snapshot or to misreport it.
    const record = (what: string, fn: () => void): void => {
      try {
        fn();
      } catch (err) {
        this.error('manifest', err, what);
      }
    };
    const result = this.snapshotter.take({
      reason: order.reason,
      path: file,
      episodeId: episode.id,
      keep: this.openSnapshots(),
      logSkip: order.logSkip,
      onStart: () => record('begin', () => episode.beginFile('heapsnapshot', file)),
      onWritten: (w) => record('complete', () => written.push(episode.completeFile('heapsnapshot', w.path, w.bytes, w.sha256))),
      onFailed: () => record('abandon', () => episode.abandonFile(file)),
    });
    return result.written ? { order, done: true } : { ...skip(result.check, result.reason), figures: result.figures };
  }

  /** Writes allocations-<n>.heapprofile and .pb.gz from the running profiler. */
  private async writeProfile(
    episode: Episode,
    n: number,
    written: EvidenceFile[],
    skip: (check: string, reason: string) => CaptureOutcome,
  ): Promise<CaptureOutcome> {
    if (!this.profiler) return skip('off', 'the sampling heap profiler is off (LEAK_AGENT_PROFILE=off)');
    try {
      const t0 = Date.now();
      const captured = await this.profiler.capture();
      if (!captured) return skip('profiler', 'the sampling heap profiler is not running (see profile.started / agent.error)');
      const json = episode.writeFile('heapprofile', EPISODE_FILES.heapprofile(n), captured.heapprofile);
      written.push(json);
      const pprof = episode.writeFile('pprof', EPISODE_FILES.pprof(n), captured.pprof);
      written.push(pprof);
      this.opts.logger.log('profile.written', {
        episodeId: episode.id,
        path: json.path,
        bytes: json.bytes,
        pprofPath: pprof.path,
        pprofBytes: pprof.bytes,
        samples: captured.samples,
        durationMs: Date.now() - t0,
      });
      return { order: { kind: 'profile', n }, done: true };
    } catch (err) {
      this.error('profile.write', err);
      return skip('write', `writing the heap profile failed: ${(err as Error).message}`);
    }
  }

  /** Snapshot files of the open episodes: retention must not break a pair that is still being made. */
  private openSnapshots(): string[] {
    const paths: string[] = [];
    for (const episode of this.open.values()) {
      for (const f of episode.files()) if (f.kind === 'heapsnapshot') paths.push(f.path);
    }
    return paths;
  }

  /** Runs captures one after another; a failure resolves to `fallback` after one agent.error line. */
  private serially<T>(work: () => Promise<T>, fallback: T): Promise<T> {
    const run = async (): Promise<T> => {
      try {
        return await work();
      } catch (err) {
        this.error('evidence', err);
        return fallback;
      }
    };
    const next = this.chain.then(run, run);
    this.chain = next;
    return next;
  }

  private error(where: string, err: unknown, step?: string): void {
    this.opts.logger.log('agent.error', { where, ...(step ? { step } : {}), message: err instanceof Error ? err.message : String(err) });
  }
}

/** The skipped files of an order that did not happen (a started profiler writes no file). */
function skipOf(order: CaptureOrder, episodeDir: string, check: string, reason: string): { skipped?: SkippedEvidence } {
  const name =
    order.kind === 'series' ? EPISODE_FILES.series()
    : order.kind === 'profile' ? EPISODE_FILES.heapprofile(order.n)
    : order.kind === 'snapshot' ? EPISODE_FILES.heapsnapshot(order.n)
    : undefined;
  if (name === undefined) return {};
  const kind = order.kind === 'series' ? 'series' : order.kind === 'profile' ? 'heapprofile' : 'heapsnapshot';
  return { skipped: { kind, path: path.join(episodeDir, name), check, reason } };
}
