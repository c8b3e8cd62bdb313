/**
 * The snapshot gate: may a heap snapshot be taken now? Pure — every fact is passed in, so each
 * refusal can be tested with plain numbers and logged with the exact figures that caused it.
 *
 * Checks, in order (the first failing one is the reason):
 *   off            LEAK_AGENT_SNAPSHOTS=off
 *   per-process    snapshots already taken by this process
 *   per-day        snapshots taken in the last 24 h under LEAK_AGENT_DIR (survives restarts)
 *   cooldown       time since the last snapshot under LEAK_AGENT_DIR
 *   heap-limit     the heap is nearly full: the near-OOM path owns that moment, and a snapshot's
 *                  forced full GC plus the allocations around it could be what tips it over
 *   container-memory / system-memory   the estimated extra RSS, with a margin, must fit in what
 *                  the memory cgroup (limit − usage) and the machine (MemAvailable) have left
 *   disk-budget    the file does not fit in the budget for snapshot files, even after retention
 *                  deletes every older snapshot it may (not those of an open episode: a pair
 *                  with its first half deleted is worth less than no second snapshot)
 *   disk-space     free space where it is written (plus what retention will delete) must hold the
 *                  file with a margin and leave a reserve for everything else on that disk
 */
import type { SnapshotEstimate } from './snapshot-cost';

/** The extra-RSS constant is already the largest seen; this covers heaps with smaller objects than the bench's. */
export const MEMORY_MARGIN = 1.25;
/** Refuse above this share of the heap limit. */
export const HEAP_USE_CEILING = 0.9;
/** Snapshot files vary a few percent with the object mix (74–77 B/node measured); keep a generous margin. */
export const DISK_MARGIN = 1.25;
/** Never leave less than this free on the disk we write to: the host may log or write there too. */
export const DISK_RESERVE_BYTES = 64 * 2 ** 20;
const DAY_MS = 86_400_000;

export interface GateFacts {
  snapshotsEnabled: boolean;
  now: number;
  estimate: SnapshotEstimate;
  heapUsed: number;
  heapLimit: number;
  /** The memory cgroup's limit and usage; limit null (or no cgroup) means no container limit. */
  container: { limit: number | null; usage: number } | undefined;
  /** The machine's available memory (MemAvailable). */
  systemAvailable: number;
  /** Bytes available to us on the file system of the target directory. */
  diskFree: number;
  /** Existing snapshot files under LEAK_AGENT_DIR, oldest first; `keep` marks those retention must not delete (an open episode's). */
  existing: { path: string; bytes: number; keep?: boolean }[];
  limits: { perProcess: number; perDay: number; cooldownMs: number; diskBudgetBytes: number };
  takenThisProcess: number;
  /** Epoch ms of snapshots written under LEAK_AGENT_DIR (the ledger). */
  history: number[];
}

export interface GateFigures {
  [key: string]: number | string | null;
}

export type GateDecision =
  | { ok: true; /** Oldest files to delete first so the budget holds. */ deleteFirst: string[]; figures: GateFigures }
  | { ok: false; check: string; reason: string; figures: GateFigures };

/** The gate's refusal when snapshots are switched off; the policy names it too when it plans none. */
export const SNAPSHOTS_OFF_REASON = 'heap snapshots are off (LEAK_AGENT_SNAPSHOTS=off)';

const mib = (n: number): string => `${(n / 2 ** 20).toFixed(1)} MiB`;

export function decideSnapshot(f: GateFacts): GateDecision {
  const est = f.estimate;
  const base: GateFigures = {
    estimatedNodes: est.nodes,
    estimatedExtraRss: est.extraRssBytes,
    estimatedFileBytes: est.fileBytes,
    estimatedPauseMs: est.pauseMs,
    heapUsed: f.heapUsed,
    heapLimit: f.heapLimit,
  };
  const refuse = (check: string, reason: string, figures: GateFigures = {}): GateDecision => ({
    ok: false, check, reason, figures: { ...base, ...figures },
  });

  if (!f.snapshotsEnabled) return refuse('off', SNAPSHOTS_OFF_REASON);
  if (f.takenThisProcess >= f.limits.perProcess) {
    return refuse('per-process', `this process already took ${f.takenThisProcess} snapshot(s), the maximum per process (LEAK_AGENT_SNAPSHOTS_PER_PROCESS=${f.limits.perProcess})`,
      { takenThisProcess: f.takenThisProcess, perProcess: f.limits.perProcess });
  }
  const lastDay = f.history.filter((t) => t > f.now - DAY_MS && t <= f.now);
  if (lastDay.length >= f.limits.perDay) {
    return refuse('per-day', `${lastDay.length} snapshot(s) were taken in the last 24 h, the maximum per day (LEAK_AGENT_SNAPSHOTS_PER_DAY=${f.limits.perDay})`,
      { lastDay: lastDay.length, perDay: f.limits.perDay });
  }
  const last = lastDay.length > 0 ? Math.max(...lastDay) : undefined;
  if (last !== undefined && f.now - last < f.limits.cooldownMs) {
    const waitMs = f.limits.cooldownMs - (f.now - last);
    return refuse('cooldown', `the last snapshot was ${Math.round((f.now - last) / 1000)} s ago; the cooldown is ${Math.round(f.limits.cooldownMs / 1000)} s (LEAK_AGENT_SNAPSHOT_COOLDOWN)`,
      { lastSnapshotAt: new Date(last).toISOString(), retryInMs: waitMs });
  }
  if (f.heapUsed > f.heapLimit * HEAP_USE_CEILING) {
    return refuse('heap-limit', `heap used ${mib(f.heapUsed)} is above ${HEAP_USE_CEILING * 100}% of the heap limit ${mib(f.heapLimit)}`);
  }
  const needMemory = Math.ceil(est.extraRssBytes * MEMORY_MARGIN);
  if (f.container && f.container.limit !== null) {
    const headroom = f.container.limit - f.container.usage;
    if (headroom < needMemory) {
      return refuse('container-memory', `container headroom ${mib(headroom)} (limit ${mib(f.container.limit)} − usage ${mib(f.container.usage)}) cannot hold the snapshot's estimated extra RSS ${mib(est.extraRssBytes)} × ${MEMORY_MARGIN} = ${mib(needMemory)}`,
        { containerLimit: f.container.limit, containerUsage: f.container.usage, headroom, needMemory });
    }
  }
  if (f.systemAvailable < needMemory) {
    return refuse('system-memory', `the machine has ${mib(f.systemAvailable)} available, less than the snapshot's estimated extra RSS ${mib(est.extraRssBytes)} × ${MEMORY_MARGIN} = ${mib(needMemory)}`,
      { systemAvailable: f.systemAvailable, needMemory });
  }
  const needDisk = Math.ceil(est.fileBytes * DISK_MARGIN);
  if (needDisk > f.limits.diskBudgetBytes) {
    return refuse('disk-budget', `the estimated file ${mib(est.fileBytes)} × ${DISK_MARGIN} = ${mib(needDisk)} is larger than the disk budget ${mib(f.limits.diskBudgetBytes)} (LEAK_AGENT_DISK_BUDGET)`,
      { needDisk, diskBudgetBytes: f.limits.diskBudgetBytes });
  }
  // Retention: delete the oldest snapshot files (never an open episode's) until the new one fits in the budget.
  let kept = f.existing.reduce((sum, e) => sum + e.bytes, 0);
  const deleteFirst: string[] = [];
  for (const e of f.existing) {
    if (kept + needDisk <= f.limits.diskBudgetBytes) break;
    if (e.keep) continue;
    deleteFirst.push(e.path);
    kept -= e.bytes;
  }
  if (kept + needDisk > f.limits.diskBudgetBytes) {
    return refuse('disk-budget', `the estimated file ${mib(est.fileBytes)} × ${DISK_MARGIN} = ${mib(needDisk)} does not fit in the disk budget ${mib(f.limits.diskBudgetBytes)} (LEAK_AGENT_DISK_BUDGET) beside the ${mib(kept)} of snapshots of open episodes`,
      { needDisk, diskBudgetBytes: f.limits.diskBudgetBytes, keptBytes: kept });
  }
  const freed = f.existing.filter((e) => deleteFirst.includes(e.path)).reduce((s, e) => s + e.bytes, 0);
  if (f.diskFree + freed < needDisk + DISK_RESERVE_BYTES) {
    return refuse('disk-space', `free disk ${mib(f.diskFree)}${freed > 0 ? ` (+ ${mib(freed)} retention would delete)` : ''} cannot hold the estimated file ${mib(est.fileBytes)} × ${DISK_MARGIN} and keep ${mib(DISK_RESERVE_BYTES)} free`,
      { diskFree: f.diskFree, reclaimable: freed, needDisk, reserve: DISK_RESERVE_BYTES });
  }
  return { ok: true, deleteFirst, figures: { ...base, needMemory, needDisk, diskFree: f.diskFree, deleting: deleteFirst.length } };
}
