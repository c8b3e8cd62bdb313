/**
 * The evidence stage as the policy sees it. The policy decides when (suspect state, leak verdict,
 * each tick, episode end, on demand); this stage decides only how, safely:
 *
 *   suspect / agent start   start the sampling heap profiler (LEAK_AGENT_PROFILE)
 *   leak verdict            allocations-1.heapprofile + .pb.gz, heap-1.heapsnapshot (gated),
 *                           series.json, manifest.json in episodes/<episodeId>/
 *   ticks                   heap-2.heapsnapshot once old-space grew by LEAK_AGENT_SNAPSHOT_PAIR
 *                           since heap-1, allocations-2.* once it grew that much since the alert;
 *                           retries a first snapshot the gate refused; writes the first profile
 *                           late when the profiler only started at the alert
 *   on demand / signal      on-demand/heap-<time>.heapsnapshot (gated)
 *
 * Captures run one at a time. Nothing here throws into the caller: failures are logged.
 */
import * as path from 'node:path';
import { threadId } from 'node:worker_threads';
import type { AgentConfig } from '../config/env';
import type { LeakVerdict, MemorySeries, SeriesState } from '../detect/verdict';
import type { AgentLogger } from '../log/logger';
import { readContainerMemory, type ContainerMemory } from '../process/container';
import { Episode } from './episode';
import type { HeapProfilerBackend } from './heap-profile-types';
import { HeapProfilerSession } from './heap-profiler-session';
import type { EpisodeSeries } from './manifest-types';
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
  /** Told when an open episode gained files after its alert (pair snapshot, later profile), so the policy can ship them. */
  onEpisodeFiles?: (episodeId: string, episodeDir: string) => void;
}

export interface SnapshotOutcomeLike {
  written: boolean;
  path?: string;
  reason?: string;
}

/** A snapshot of an open episode that the gate refused is retried at most this often (and its refusal logged only when the reason changes). */
export const RETRY_EVERY_MS = 30_000;
/** At most this many episodes are tracked for their pair; older ones are dropped (bounded memory). */
const MAX_OPEN_EPISODES = 8;
/**
 * When the profiler only started at the alert (no `suspect` state came first), its first profile is
 * written once it has sampled this long, or sooner if old-space grew by the pair threshold.
 */
export const LATE_PROFILE_AFTER_MS = 60_000;

interface OpenEpisode {
  episode: Episode;
  openedAt: number;
  /** Snapshots and profiles written for this episode (0, 1 or 2 each). */
  snapshots: number;
  profiles: number;
  /** Old-space after the latest full GC at the alert, and when the first snapshot was written. */
  leakOldSpace: number | undefined;
  snapshotOldSpace: number | undefined;
  lastAttempt: number;
  lastSkipCheck: string;
}

export class EvidenceCapture {
  private readonly profiler: HeapProfilerSession | undefined;
  private readonly snapshotter: Snapshotter;
  private readonly open = new Map<string, OpenEpisode>();
  private signal: SnapshotSignal | undefined;
  private service: ServiceInfo | undefined;
  private chain: Promise<unknown> = Promise.resolve();
  private busy = false;

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

  start(): void {
    if (this.opts.config.evidence.profile === 'start') void this.profiler?.start('agent start (LEAK_AGENT_PROFILE=start)');
    const sig = this.opts.config.evidence.signal;
    if (sig) {
      this.signal = new SnapshotSignal(sig, this.opts.logger, () => void this.snapshot(`signal ${sig}`));
      this.signal.install();
    }
  }

  /** The detector's state for one series; the first `suspect` starts the profiler. */
  onSeriesState(memory: MemorySeries, state: SeriesState): void {
    if ((state === 'suspect' || state === 'leak') && this.opts.config.evidence.profile === 'suspect') {
      void this.profiler?.start(`${memory} ${state}`);
    }
  }

  /** Captures the evidence of a leak verdict; resolves to the paths written (never rejects). */
  captureLeak(verdict: LeakVerdict, history: { samples: EpisodeSeries['samples']; alerts: EpisodeSeries['alerts'] }, oldSpace: number | undefined): Promise<string[]> {
    return this.serially(async () => {
      // The detector keeps an episode's id until episode-end: a repeated alert reuses its evidence.
      const known = this.open.get(verdict.episodeId);
      if (known) return [...known.episode.files().map((f) => f.path), known.episode.pathFor('manifest.json')];
      let episode: Episode;
      try {
        this.service ??= readServiceInfo();
        episode = new Episode(this.opts.config.dir, verdict, this.service, (this.opts.readContainer ?? readContainerMemory)());
      } catch (err) {
        this.error('episode', err);
        return [];
      }
      const state: OpenEpisode = {
        episode, openedAt: Date.now(), snapshots: 0, profiles: 0, leakOldSpace: oldSpace, snapshotOldSpace: undefined, lastAttempt: 0, lastSkipCheck: '',
      };
      await this.writeProfile(state);
      await this.trySnapshot(state, oldSpace, true);
      try {
        await episode.writeFile('series', 'series.json', JSON.stringify(buildSeries(verdict, history.samples, history.alerts)) + '\n');
      } catch (err) {
        this.error('series', err);
      }
      this.open.delete(episode.id);
      this.open.set(episode.id, state);
      while (this.open.size > MAX_OPEN_EPISODES) this.open.delete(this.open.keys().next().value as string);
      let manifest: string | undefined;
      try {
        manifest = episode.writeManifest();
      } catch (err) {
        this.error('manifest', err);
      }
      const paths = episode.files().map((f) => f.path);
      return manifest ? [...paths, manifest] : paths;
    }, []);
  }

  /**
   * Called on every tick with old-space after the latest full GC: takes the second snapshot of a
   * pair once old-space grew enough since the first, and retries a first snapshot the gate refused.
   */
  onTick(oldSpace: number | undefined): void {
    if (this.open.size === 0 || this.busy) return;
    const now = Date.now();
    for (const state of this.open.values()) {
      const profileDue = this.profiler !== undefined && this.profiler.running && (
        state.profiles === 0
          ? now - state.openedAt >= LATE_PROFILE_AFTER_MS || this.grewEnough(state.leakOldSpace, oldSpace)
          : state.profiles === 1 && this.grewEnough(state.leakOldSpace, oldSpace));
      const snapshotDue = this.opts.config.snapshots && now - state.lastAttempt >= RETRY_EVERY_MS && (
        state.snapshots === 0 || (state.snapshots === 1 && this.grewEnough(state.snapshotOldSpace, oldSpace)));
      if (!profileDue && !snapshotDue) continue;
      void this.serially(async () => {
        if (profileDue) await this.writeProfile(state);
        if (snapshotDue) await this.trySnapshot(state, oldSpace, false);
        try {
          state.episode.writeManifest();
          this.opts.onEpisodeFiles?.(state.episode.id, path.dirname(state.episode.pathFor('manifest.json')));
        } catch (err) {
          this.error('manifest', err);
        }
      }, undefined);
      return; // one capture per tick
    }
  }

  onEpisodeEnd(episodeId: string): void {
    this.open.delete(episodeId);
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

  /** Snapshot files of the open episodes: retention must not break a pair that is still being made. */
  private openSnapshots(): string[] {
    const paths: string[] = [];
    for (const state of this.open.values()) {
      for (const f of state.episode.files()) if (f.kind === 'heapsnapshot') paths.push(f.path);
    }
    return paths;
  }

  /** Has old-space grown by LEAK_AGENT_SNAPSHOT_PAIR since `base`? */
  private grewEnough(base: number | undefined, oldSpace: number | undefined): boolean {
    const pair = this.opts.config.evidence.pairGrowth;
    if (!pair || oldSpace === undefined || base === undefined) return false;
    const grown = oldSpace - base;
    return pair.kind === 'bytes' ? grown >= pair.value : grown >= (base * pair.value) / 100;
  }

  private async trySnapshot(state: OpenEpisode, oldSpace: number | undefined, first: boolean): Promise<void> {
    const n = state.snapshots + 1;
    const result = this.snapshotter.take({
      reason: n === 1 ? 'leak' : 'leak pair (further growth)',
      path: state.episode.pathFor(`heap-${n}.heapsnapshot`),
      episodeId: state.episode.id,
      keep: this.openSnapshots(),
      // The first attempt of an episode always logs; retries log only a new reason.
      logSkip: first,
    });
    if (result.written) {
      state.snapshots = n;
      state.lastSkipCheck = '';
      if (n === 1) state.snapshotOldSpace = oldSpace;
      try {
        await state.episode.addFile('heapsnapshot', result.path);
      } catch (err) {
        this.error('manifest', err);
      }
    } else if (!first && result.check !== state.lastSkipCheck) {
      this.opts.logger.log('snapshot.skipped', { reason: result.reason, check: result.check, episodeId: state.episode.id, attempt: `heap-${n}`, ...result.figures });
    }
    if (!result.written) {
      state.lastSkipCheck = result.check;
      state.lastAttempt = Date.now();
    }
  }

  /** Writes allocations-<n>.heapprofile and .pb.gz for the episode's next profile. */
  private async writeProfile(state: OpenEpisode): Promise<void> {
    if (!this.profiler) return;
    try {
      if (!this.profiler.running) {
        // Not running yet (the detector went straight to a verdict): start now; a later tick writes
        // the profile once it has covered some growth (LATE_PROFILE_AFTER_MS or the pair threshold).
        await this.profiler.start('leak verdict');
        return;
      }
      const t0 = Date.now();
      const captured = await this.profiler.capture();
      if (!captured) return;
      const n = state.profiles + 1;
      const json = await state.episode.writeFile('heapprofile', `allocations-${n}.heapprofile`, captured.heapprofile);
      const pprof = await state.episode.writeFile('pprof', `allocations-${n}.pb.gz`, captured.pprof);
      state.profiles = n;
      this.opts.logger.log('profile.written', {
        episodeId: state.episode.id,
        path: json.path,
        bytes: json.bytes,
        pprofPath: pprof.path,
        pprofBytes: pprof.bytes,
        samples: captured.samples,
        durationMs: Date.now() - t0,
      });
    } catch (err) {
      this.error('profile.write', err);
    }
  }

  /** Runs captures one after another; a failure resolves to `fallback` after one agent.error line. */
  private serially<T>(work: () => Promise<T>, fallback: T): Promise<T> {
    const run = async (): Promise<T> => {
      this.busy = true;
      try {
        return await work();
      } catch (err) {
        this.error('evidence', err);
        return fallback;
      } finally {
        this.busy = false;
      }
    };
    const next = this.chain.then(run, run);
    this.chain = next;
    return next;
  }

  private error(where: string, err: unknown): void {
    this.opts.logger.log('agent.error', { where, message: err instanceof Error ? err.message : String(err) });
  }
}
