/**
 * What the policy tells the evidence stage to capture for an episode, and what came of it. The
 * policy decides what and when (src/policy/evidence-schedule.ts); the evidence stage only captures,
 * safely, and reports each order's outcome.
 */
import type { EpisodeSeries, EvidenceFile, EvidenceKind } from './manifest-types';

export type CaptureOrder =
  /** series.json: the post-GC history the verdict was made on. */
  | { kind: 'series'; samples: EpisodeSeries['samples']; alerts: EpisodeSeries['alerts'] }
  /** Start the sampling heap profiler; its profile is ordered later, once it has sampled some growth. */
  | { kind: 'start-profiler'; why: string }
  /** allocations-<n>.heapprofile and .pb.gz from the running profiler. */
  | { kind: 'profile'; n: number }
  /** heap-<n>.heapsnapshot through the gate; `logSkip` false for retries (logged only when the reason changes). */
  | { kind: 'snapshot'; n: number; reason: string; logSkip: boolean };

/** A file that was planned and not written, and why. `check` names the gate check or the failing step. */
export interface SkippedEvidence {
  kind: EvidenceKind;
  path: string;
  check: string;
  reason: string;
}

export interface CaptureOutcome {
  order: CaptureOrder;
  /** The order did what it was for (file written, profiler started). */
  done: boolean;
  skipped?: SkippedEvidence;
  /** The gate's figures behind a refused snapshot (for the retry's `snapshot.skipped` line). */
  figures?: Record<string, unknown>;
}

export interface CaptureRound {
  episodeId: string;
  episodeDir: string;
  /** manifest.json, or null when the episode directory could not be created. */
  manifest: string | null;
  /** Every complete file of the episode so far, as listed in its manifest. */
  files: EvidenceFile[];
  /** Files written by this round. */
  written: EvidenceFile[];
  outcomes: CaptureOutcome[];
}

/** The files an order produces, by kind. */
export function kindsOf(order: CaptureOrder): EvidenceKind[] {
  switch (order.kind) {
    case 'series': return ['series'];
    case 'profile': return ['heapprofile', 'pprof'];
    case 'snapshot': return ['heapsnapshot'];
    case 'start-profiler': return [];
  }
}
