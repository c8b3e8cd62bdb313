/**
 * The policy's handling of a leak episode, alert first:
 *
 *   verdict   log `leak.detected` (episode, evidence directory, the evidence planned) ─> emit 'leak'
 *             ─> telemetry ─> the verdict's capture round ─> `evidence.ready` ─> upload
 *   tick      the schedule says what is due (pair, late profile, retry) ─> one round ─> `evidence.ready`
 *   end       the episode is closed; nothing more is captured for it
 *
 * The alert never waits for the evidence: it is written in the same turn as the verdict, before
 * the first byte of evidence, so a process that exits or is killed during the capture keeps it.
 */
import type { EventEmitter } from 'node:events';
import * as path from 'node:path';
import { formatDuration } from '../config/duration';
import type { AgentConfig } from '../config/env';
import type { LeakVerdict } from '../detect/verdict';
import type { CaptureOrder, CaptureRound, SkippedEvidence } from '../evidence/capture-orders';
import { EPISODE_FILES, episodeDirFor } from '../evidence/episode';
import type { EvidenceCapture } from '../evidence/evidence-capture';
import type { EvidenceFile } from '../evidence/manifest-types';
import { SNAPSHOTS_OFF_REASON } from '../evidence/snapshot-gate';
import type { AgentLogger } from '../log/logger';
import type { Telemetry } from '../telemetry/telemetry';
import {
  applyOutcomes, newProgress, ordersAtVerdict, ordersDue, pendingFiles, planAtVerdict,
  type EpisodeProgress, type PlannedFile, type ScheduleRules,
} from './evidence-schedule';
import type { RecentHistory } from './recent-history';

/** At most this many episodes are followed for their pair; the oldest is closed first (bounded memory). */
const MAX_OPEN_EPISODES = 8;

export interface LeakEvidenceDeps {
  config: AgentConfig;
  logger: AgentLogger;
  events: EventEmitter;
  evidence: EvidenceCapture;
  telemetry: Telemetry;
  history: RecentHistory;
  /** Hands an episode's files to the upload stage (reads the manifest; idempotent). */
  ship(episodeId: string, episodeDir: string, episodeTime: number | undefined): void;
}

/** An evidence file as the alert and evidence.ready name it. */
export interface PlannedEvidence { kind: string; path: string; when: string }

export interface EvidenceReady {
  episodeId: string;
  episodeDir: string;
  manifest: string | null;
  files: Pick<EvidenceFile, 'kind' | 'path' | 'bytes' | 'sha256' | 'uri'>[];
  skipped: SkippedEvidence[];
  pending: PlannedEvidence[];
}

export class LeakEvidence {
  private readonly open = new Map<string, { verdict: LeakVerdict; progress: EpisodeProgress }>();
  private readonly rules: ScheduleRules;
  private inFlight = 0;

  constructor(private readonly deps: LeakEvidenceDeps) {
    const { config } = deps;
    this.rules = { snapshots: config.snapshots, profiles: config.evidence.profile !== 'off', pairGrowth: config.evidence.pairGrowth };
  }

  onLeak(verdict: LeakVerdict): void {
    const { config, evidence } = this.deps;
    const now = Date.now();
    const episodeDir = episodeDirFor(config.dir, verdict.episodeId);
    const inDir = (files: PlannedFile[]): PlannedEvidence[] => files.map((f) => ({ kind: f.kind, path: path.join(episodeDir, f.name), when: f.when }));
    const known = this.open.get(verdict.episodeId);
    let planned: PlannedEvidence[];
    let orders: CaptureOrder[] = [];
    const skipped: SkippedEvidence[] = [];
    if (known) {
      // The detector keeps an episode's id until episode-end: a repeated alert reuses its evidence.
      planned = [
        ...evidence.episodeFiles(verdict.episodeId).map((f) => ({ kind: f.kind, path: f.path, when: 'already captured' })),
        ...inDir(pendingFiles(this.rules, known.progress, evidence.profilerState())),
        { kind: 'manifest', path: path.join(episodeDir, EPISODE_FILES.manifest()), when: 'already captured' },
      ];
    } else {
      const profiler = evidence.profilerState();
      orders = [
        { kind: 'series', samples: this.deps.history.recent(verdict.detectedAt - verdict.windowMs), alerts: this.deps.history.alerts() },
        ...ordersAtVerdict(this.rules, profiler),
      ];
      planned = inDir(planAtVerdict(this.rules, orders, profiler, now));
      skipped.push(...this.skippedByConfiguration(episodeDir, profiler));
      this.open.set(verdict.episodeId, { verdict, progress: newProgress(now, this.deps.history.latestOldSpace()) });
      this.bound();
    }
    const manifest = path.join(episodeDir, EPISODE_FILES.manifest());
    const payload = { ...verdict, window: formatDuration(verdict.windowMs), episodeDir, manifest, evidence: planned };
    this.deps.logger.log('leak.detected', payload);
    this.deps.events.emit('leak', { ...payload });
    this.deps.telemetry.onVerdict(verdict, [], { episodeDir, planned });
    if (!known) {
      for (const s of skipped) if (s.kind === 'heapsnapshot') this.deps.logger.log('snapshot.skipped', { episodeId: verdict.episodeId, check: s.check, reason: s.reason });
      void this.round(verdict, orders, skipped, true);
    }
  }

  /** Each tick: at most one round of what is due for the open episodes, never while one runs. */
  onTick(): void {
    if (this.inFlight > 0 || this.open.size === 0) return;
    const now = Date.now();
    const oldSpace = this.deps.history.latestOldSpace();
    const profiler = this.deps.evidence.profilerState();
    for (const { verdict, progress } of this.open.values()) {
      const orders = ordersDue(this.rules, progress, now, oldSpace, profiler);
      if (orders.length === 0) continue;
      void this.round(verdict, orders, [], false);
      return;
    }
  }

  onEpisodeEnd(episodeId: string): void {
    this.open.delete(episodeId);
    this.deps.evidence.closeEpisode(episodeId);
  }

  /** A capture round is running: mitigation waits for it (or its deadline) before the process exits. */
  busy(): boolean {
    return this.inFlight > 0;
  }

  /** Open episodes and what each has, for status(). */
  status(): Record<string, unknown> {
    const profiler = this.deps.evidence.profilerState();
    return Object.fromEntries([...this.open].map(([id, { progress }]) => [id, {
      profiles: progress.profiles, snapshots: progress.snapshots,
      pending: pendingFiles(this.rules, progress, profiler).map((f) => f.name),
    }]));
  }

  private async round(verdict: LeakVerdict, orders: CaptureOrder[], planSkipped: SkippedEvidence[], first: boolean): Promise<void> {
    // Runs detached from the tick: a rejection here would be an unhandled rejection in the host.
    this.inFlight += 1;
    try {
      const oldSpace = this.deps.history.latestOldSpace();
      const round = await this.deps.evidence.capture(verdict, orders);
      const entry = this.open.get(verdict.episodeId);
      if (entry) {
        for (const refused of applyOutcomes(entry.progress, round.outcomes, Date.now(), oldSpace)) {
          const { order, skipped, figures } = refused;
          this.deps.logger.log('snapshot.skipped', {
            reason: skipped?.reason, check: skipped?.check, episodeId: verdict.episodeId,
            attempt: order.kind === 'snapshot' ? `heap-${order.n}` : order.kind, ...figures,
          });
        }
      }
      if (!first && round.written.length === 0) return;
      const skipped = [...planSkipped, ...round.outcomes.flatMap((o) => (o.skipped ? [o.skipped] : []))];
      const pending = entry ? pendingFiles(this.rules, entry.progress, this.deps.evidence.profilerState()) : [];
      this.ready(round, skipped, pending.map((f) => ({ kind: f.kind, path: path.join(round.episodeDir, f.name), when: f.when })));
      if (round.manifest) this.deps.ship(verdict.episodeId, round.episodeDir, first ? verdict.detectedAt : undefined);
    } catch (err) {
      this.deps.logger.log('agent.error', { where: 'leak.evidence', message: err instanceof Error ? err.message : String(err) });
    } finally {
      this.inFlight -= 1;
    }
  }

  private ready(round: CaptureRound, skipped: SkippedEvidence[], pending: PlannedEvidence[]): void {
    const ready: EvidenceReady = {
      episodeId: round.episodeId,
      episodeDir: round.episodeDir,
      manifest: round.manifest,
      files: round.files.map((f) => ({ kind: f.kind, path: f.path, bytes: f.bytes, sha256: f.sha256, ...(f.uri ? { uri: f.uri } : {}) })),
      skipped,
      pending,
    };
    this.deps.logger.log('evidence.ready', { ...ready });
    this.deps.events.emit('evidence-ready', { ...ready });
    this.deps.telemetry.onEvidenceReady(ready);
  }

  /** Evidence the configuration rules out, named so the on-call engineer knows why it is missing. */
  private skippedByConfiguration(episodeDir: string, profiler: string): SkippedEvidence[] {
    const out: SkippedEvidence[] = [];
    if (!this.rules.snapshots) {
      out.push({ kind: 'heapsnapshot', path: path.join(episodeDir, EPISODE_FILES.heapsnapshot(1)), check: 'off', reason: SNAPSHOTS_OFF_REASON });
    }
    const profile = path.join(episodeDir, EPISODE_FILES.heapprofile(1));
    if (!this.rules.profiles) out.push({ kind: 'heapprofile', path: profile, check: 'off', reason: 'the sampling heap profiler is off (LEAK_AGENT_PROFILE=off)' });
    else if (profiler === 'unavailable') out.push({ kind: 'heapprofile', path: profile, check: 'profiler', reason: 'the sampling heap profiler could not start (see agent.error where=profile.start)' });
    return out;
  }

  private bound(): void {
    while (this.open.size > MAX_OPEN_EPISODES) {
      const oldest = this.open.keys().next().value as string;
      this.onEpisodeEnd(oldest);
    }
  }
}
