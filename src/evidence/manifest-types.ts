/**
 * The episode manifest: one JSON file per leak episode (`<dir>/episodes/<episodeId>/manifest.json`)
 * listing its evidence. Written by the evidence stage; the upload stage fills in `uri` once a store
 * has confirmed a file; the CLI report reads it. Extend, do not rename.
 */
import type { Verdict } from '../detect/verdict';

export type EvidenceKind = 'heapsnapshot' | 'heapprofile' | 'pprof' | 'series' | 'near-oom-profile' | 'manifest';

export interface EvidenceFile {
  kind: EvidenceKind;
  /** Absolute local path where the agent wrote it. */
  path: string;
  bytes: number;
  sha256: string;
  /** Final location once uploaded (s3://…, https://…, file://…). */
  uri?: string;
}

export interface EpisodeManifest {
  schema: 'leak-agent/episode@1';
  episodeId: string;
  createdAt: string;
  updatedAt: string;
  service: { name: string; version: string | null };
  process: { pid: number; node: string; host: string; argv0: string };
  container: { limit: number | null; usage: number; cgroup: 1 | 2; oomKills: number | null } | null;
  verdict: Verdict;
  /** Complete files: each is listed here the moment it is in place under its final name. */
  files: EvidenceFile[];
  /**
   * Files being written right now (a heap snapshot takes seconds). An entry left here means the
   * process died while writing it: the file is absent, or present and complete but unhashed.
   */
  writing?: { kind: EvidenceKind; path: string; startedAt: string }[];
  /** Files the agent itself removed later (disk budget retention), so a reader knows why they are missing. */
  deleted?: { path: string; at: string; why: string }[];
}

/**
 * `series.json` beside the manifest: the recent post-GC history the verdict was made on, for the
 * report's chart. Times are epoch ms; bytes are bytes.
 */
export interface EpisodeSeries {
  schema: 'leak-agent/series@1';
  samples: { t: number; oldSpace: number; heapUsed: number; external: number; rss: number; gc: string; pauseMs: number }[];
  /** The fitted trend line of the leak verdict: value(t) = intercept + slopePerMs * (t - t0). */
  trend: { t0: number; intercept: number; slopePerMs: number } | null;
  alerts: { t: number; kind: string; episodeId: string }[];
}
