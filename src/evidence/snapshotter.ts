/**
 * Takes gated heap snapshots: gathers the facts (heap, container, machine, disk, ledger), asks the
 * gate, applies retention, writes, and logs `snapshot.written` or `snapshot.skipped` with the
 * exact reason and figures. Every snapshot the agent takes — leak, pair, on demand, signal — comes
 * through `take()`. Never throws.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { EvidenceConfig } from '../config/evidence-env';
import type { AgentLogger } from '../log/logger';
import { readContainerMemory, type ContainerMemory } from '../process/container';
import { readProcessMemory } from '../process/memory';
import type { EpisodeManifest } from './manifest-types';
import { ensurePrivateDir, removeQuietly, writeFileAtomic } from './private-files';
import { HEAP_BYTES_PER_NODE, calibratedBytesPerNode, estimateSnapshot } from './snapshot-cost';
import { decideSnapshot, type GateDecision } from './snapshot-gate';
import { SnapshotLedger } from './snapshot-ledger';
import { writeHeapSnapshotFile } from './snapshot-writer';

export interface SnapshotRequest {
  /** Why: `leak`, `leak-pair`, `on demand: …`, `signal SIGUSR2`. */
  reason: string;
  /** Final path of the file (inside LEAK_AGENT_DIR). */
  path: string;
  episodeId?: string;
  /** Snapshot files retention must not delete (the open episodes' own). */
  keep?: readonly string[];
  /** False when the caller logs refusals itself (the pair trigger logs only when the reason changes). */
  logSkip?: boolean;
  /** Called once the gate allowed the snapshot, before its first byte (the episode lists it as `writing`). */
  onStart?: () => void;
  /** Called the moment the file is in place, before `snapshot.written` (the episode records it). */
  onWritten?: (file: { path: string; bytes: number; sha256: string }) => void;
  /** Called when the write failed and left nothing. */
  onFailed?: () => void;
}

export type SnapshotResult =
  | { written: true; path: string; bytes: number; sha256: string; pauseMs: number; durationMs: number }
  | { written: false; reason: string; check: string; figures: Record<string, unknown> };

export interface SnapshotterOptions {
  dir: string;
  snapshotsEnabled: boolean;
  evidence: EvidenceConfig;
  logger: AgentLogger;
  /** Where the container figures come from (tests point it at a fixture tree). */
  readContainer?: () => ContainerMemory | undefined;
}

export class Snapshotter {
  private taken = 0;
  private readonly ledger: SnapshotLedger;
  /** Heap bytes per snapshot node for the estimate: the measured constant, lowered by this process's own snapshots. */
  private bytesPerNode = HEAP_BYTES_PER_NODE;

  constructor(private readonly opts: SnapshotterOptions) {
    this.ledger = new SnapshotLedger(opts.dir);
  }

  get takenThisProcess(): number {
    return this.taken;
  }

  take(req: SnapshotRequest): SnapshotResult {
    const started = Date.now();
    const fields = { reason: req.reason, episodeId: req.episodeId ?? null };
    const skip = (check: string, reason: string, figures: Record<string, unknown> = {}): SnapshotResult => {
      if (req.logSkip !== false) this.opts.logger.log('snapshot.skipped', { ...fields, check, reason, ...figures });
      return { written: false, reason, check, figures };
    };
    const dir = path.dirname(req.path);
    if (this.opts.snapshotsEnabled) {
      try {
        ensurePrivateDir(dir, this.opts.dir);
      } catch (err) {
        return skip('directory', `cannot create the evidence directory ${dir}: ${(err as Error).message}`);
      }
    }
    let decision: GateDecision;
    try {
      decision = this.decide(dir, req.keep ?? []);
    } catch (err) {
      return skip('facts', `cannot read the facts the gate needs: ${(err as Error).message}`);
    }
    if (!decision.ok) return skip(decision.check, decision.reason, decision.figures);

    for (const old of decision.deleteFirst) {
      removeQuietly(old);
      forgetInManifest(old);
      this.opts.logger.log('snapshot.deleted', { path: old, why: 'disk budget retention (oldest first)' });
    }
    try {
      const heapUsedBefore = process.memoryUsage().heapUsed;
      req.onStart?.();
      const written = writeHeapSnapshotFile(req.path);
      this.taken += 1;
      req.onWritten?.({ path: written.path, bytes: written.bytes, sha256: written.sha256 });
      if (written.nodes !== null) this.bytesPerNode = calibratedBytesPerNode(this.bytesPerNode, heapUsedBefore, written.nodes);
      try {
        this.ledger.record(Date.now());
      } catch (err) {
        this.opts.logger.log('agent.error', { where: 'snapshot.ledger', message: (err as Error).message });
      }
      const durationMs = Date.now() - started;
      this.opts.logger.log('snapshot.written', {
        ...fields,
        path: written.path,
        bytes: written.bytes,
        durationMs,
        pauseMs: Math.round(written.pauseMs),
        hashMs: Math.round(written.hashMs),
        sha256: written.sha256,
        nodes: written.nodes,
        estimatedNodes: decision.figures.estimatedNodes,
        estimatedFileBytes: decision.figures.estimatedFileBytes,
        heapBytesPerNode: +this.bytesPerNode.toFixed(1),
      });
      return { written: true, path: written.path, bytes: written.bytes, sha256: written.sha256, pauseMs: written.pauseMs, durationMs };
    } catch (err) {
      const e = err as NodeJS.ErrnoException;
      req.onFailed?.();
      return skip('write', `writing the snapshot failed${e.code ? ` (${e.code})` : ''}: ${e.message}; no partial file was left`);
    }
  }

  private decide(dir: string, keep: readonly string[]): GateDecision {
    const mem = readProcessMemory();
    const container = (this.opts.readContainer ?? readContainerMemory)();
    const ev = this.opts.evidence;
    let diskFree = 0;
    if (this.opts.snapshotsEnabled) {
      const st = fs.statfsSync(dir);
      diskFree = st.bavail * st.bsize;
    }
    return decideSnapshot({
      snapshotsEnabled: this.opts.snapshotsEnabled,
      now: Date.now(),
      estimate: estimateSnapshot(mem.heapUsed, this.bytesPerNode),
      heapUsed: mem.heapUsed,
      heapLimit: mem.heapLimit,
      container: container ? { limit: container.limit, usage: container.usage } : undefined,
      systemAvailable: os.freemem(),
      diskFree,
      existing: this.ledger.inventory().map((e) => ({ path: e.path, bytes: e.bytes, keep: keep.includes(e.path) })),
      limits: {
        perProcess: ev.snapshotsPerProcess,
        perDay: ev.snapshotsPerDay,
        cooldownMs: ev.snapshotCooldownMs,
        diskBudgetBytes: ev.diskBudgetBytes,
      },
      takenThisProcess: this.taken,
      history: this.opts.snapshotsEnabled ? this.ledger.read() : [],
    });
  }
}

/**
 * Retention deleted a snapshot of a closed episode: its manifest (if it sits beside it) must stop
 * listing the file, or the CLI and the uploader would look for it. A manifest that cannot be read
 * or rewritten is left as it was: the file is gone either way.
 */
function forgetInManifest(deleted: string): void {
  const manifestPath = path.join(path.dirname(deleted), 'manifest.json');
  try {
    const manifest = JSON.parse(fs.readFileSync(manifestPath, 'utf8')) as EpisodeManifest;
    if (!Array.isArray(manifest.files) || !manifest.files.some((f) => f.path === deleted)) return;
    manifest.files = manifest.files.filter((f) => f.path !== deleted);
    manifest.deleted = [...(manifest.deleted ?? []), { path: deleted, at: new Date().toISOString(), why: 'disk budget retention' }];
    manifest.updatedAt = new Date().toISOString();
    writeFileAtomic(manifestPath, JSON.stringify(manifest, null, 2) + '\n');
  } catch {
    /* no manifest here (on-demand snapshot) or unreadable */
  }
}
