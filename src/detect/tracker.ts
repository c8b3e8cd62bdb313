/**
 * What the detector remembers of one series between evaluations: the bucket minima, the full GCs,
 * the noise estimates of both views, the pending step, the streaks and the open episodes. The
 * evaluation stages read it and return the next values; the judge writes them back (scale-judge.ts).
 */
import { BucketMinima } from './decimate';
import type { FullGc } from './garbage';
import type { LimitSource, MemorySeries, SeriesState } from './verdict';

/** What the detector currently thinks of one series (status() and telemetry). */
export interface SeriesStatus {
  memory: MemorySeries;
  state: SeriesState;
  /** Why the series is in this state, in words. */
  reason: string;
  /** Non-empty buckets in the window, and how many of them contain a full GC. */
  points: number;
  fullGcPoints: number;
  currentBytes: number | null;
  limitBytes: number | null;
  limitSource: LimitSource | null;
  slopeBytesPerSec: number | null;
  slopeLowerBytesPerSec: number | null;
  slopeUpperBytesPerSec: number | null;
  pValue: number | null;
  /** Growth over one window at the fitted slope, and the minimum effect it is compared with. */
  growthPerWindowBytes: number | null;
  minEffectBytes: number | null;
  /** Consecutive evaluations the leak condition has held. */
  streak: number;
  /**
   * old_space only: the trend holds but no full GC has confirmed it yet. The policy may ask V8 for a
   * full GC (a confirmation GC) instead of waiting for one: a quiet process runs few of them.
   */
  needsFullGc: boolean;
  /** The trend is judged on the burst floor instead of the bucket minima (see stage-view.ts). */
  bursty: boolean;
  /** The minima's noise yardstick over the burst floor's (bursty from burstNoiseRatio on). */
  burstRatio: number | null;
  episodeId: string | null;
  spikeEpisodeId: string | null;
  evaluatedAt: number | null;
}

/** Bounded lists of a view's noise estimates, one entry per evaluation (bounded: historyBuckets). */
export interface NoiseMemory {
  /** Raw slow-noise estimates of the last evaluations. */
  readonly estimates: readonly number[];
  /** Window-lag noise estimates from evaluations without a trend. */
  readonly quiet: readonly number[];
}

export interface LeakEpisode { id: string; startedAt: number; baseline: number }
export interface SpikeEpisode { id: string; at: number; before: number; size: number }

/** A step seen at `at` (ms) on `seen` evaluations in a row (0: none pending). */
export interface PendingStep { at: number; seen: number }

export class SeriesTracker {
  readonly buckets: BucketMinima;
  firstSeen: number | undefined;
  streak = 0;
  stopStreak = 0;
  leak: LeakEpisode | undefined;
  spike: SpikeEpisode | undefined;
  lastSpikeAt = -Infinity;
  /** Judge on the burst floor until this time (a window after the series last looked bursty). */
  burstyUntil = -Infinity;
  pendingStep: PendingStep = { at: -Infinity, seen: 0 };
  /** Noise estimates of the bucket-minima view and of the burst-floor view (see stage-view.ts). */
  minimaNoise: NoiseMemory = { estimates: [], quiet: [] };
  floorNoise: NoiseMemory = { estimates: [], quiet: [] };
  /** old_space only: the last full GCs (bounded), for the garbage correction. */
  readonly fullGcs: FullGc[] = [];
  readonly status: SeriesStatus;

  constructor(readonly memory: MemorySeries, bucketMs: number, maxBuckets: number, private readonly maxFullGcs: number) {
    this.buckets = new BucketMinima(bucketMs, maxBuckets);
    this.status = {
      memory, state: 'warming-up', reason: 'no data yet', points: 0, fullGcPoints: 0, currentBytes: null, limitBytes: null,
      limitSource: null, slopeBytesPerSec: null, slopeLowerBytesPerSec: null, slopeUpperBytesPerSec: null, pValue: null,
      growthPerWindowBytes: null, minEffectBytes: null, streak: 0, needsFullGc: false, bursty: false, burstRatio: null, episodeId: null, spikeEpisodeId: null, evaluatedAt: null,
    };
  }

  add(t: number, value: number, full: boolean): void {
    if (this.firstSeen === undefined) this.firstSeen = t;
    this.buckets.add(t, value, full);
  }

  addFullGc(gc: FullGc): void {
    this.fullGcs.push(gc);
    if (this.fullGcs.length > this.maxFullGcs) this.fullGcs.shift();
  }

  /** No trend, no episode: evaluations in this condition may teach the noise memory what quiet looks like. */
  get quiet(): boolean {
    return this.streak === 0 && !this.leak && !this.spike;
  }
}
