/**
 * Evidence-capture settings (sampling heap profile, gated heap snapshots, snapshot pairs, the
 * snapshot signal), read from the environment with the same rule as env.ts: a bad value becomes one
 * problem line naming the variable, the value and what was expected, and the safe default is used.
 */
import { parseBytes } from './bytes';
import type { Env, ProblemSink } from './problems';
import { EnvReader } from './read';

export type ProfileMode = 'suspect' | 'start' | 'off';
export type PairGrowth = { kind: 'percent'; value: number } | { kind: 'bytes'; value: number };

export interface EvidenceConfig {
  /** When the sampling heap profiler starts: at the first `suspect` state (default), at agent start, or never. */
  readonly profile: ProfileMode;
  /** Average bytes between two samples of the sampling heap profiler. */
  readonly profileIntervalBytes: number;
  /** Minimum time between two snapshots, across restarts of the process (the ledger is on disk). */
  readonly snapshotCooldownMs: number;
  readonly snapshotsPerProcess: number;
  /** Over any 24 h, across restarts of the process. */
  readonly snapshotsPerDay: number;
  /** Total bytes of snapshot files kept under LEAK_AGENT_DIR; the oldest are deleted to make room. */
  readonly diskBudgetBytes: number;
  /** Old-space growth since the first snapshot of an episode that triggers the second; null = no pairs. */
  readonly pairGrowth: PairGrowth | null;
  /** Signal that takes a gated snapshot; null = none (default). */
  readonly signal: NodeJS.Signals | null;
}

/**
 * 512 KiB: the interval Datadog's and Pyroscope's Node heap profilers ship as their default.
 * Measured by `node bench/snapshot-cost.js --profiler-only --rounds 9` (CPU time of 3M small
 * allocations, profiler on ÷ off, alternating in one process, four runs): 0.89–1.07 at 512 KiB,
 * i.e. below the noise of this shared machine, against 1.28–1.33 at V8's own default of 32 KiB.
 *
 * The default start is still the first `suspect` state, not agent start: V8 has one sampling heap
 * profiler per isolate, which APM profilers (Datadog, Pyroscope) also drive; starting, reading and
 * stopping it only during a suspected leak keeps the agent out of their way the rest of the time.
 * `LEAK_AGENT_PROFILE=start` is the cheap option when the profile should cover the whole live set.
 */
export const DEFAULT_PROFILE_INTERVAL = 512 * 1024;

export const DEFAULT_EVIDENCE: EvidenceConfig = Object.freeze({
  profile: 'suspect',
  profileIntervalBytes: DEFAULT_PROFILE_INTERVAL,
  snapshotCooldownMs: 10 * 60_000,
  // A pair per episode and room for two on-demand snapshots.
  snapshotsPerProcess: 4,
  snapshotsPerDay: 6,
  diskBudgetBytes: 2 * 2 ** 30,
  pairGrowth: Object.freeze({ kind: 'percent', value: 25 }) as PairGrowth,
  signal: null,
});

/**
 * Signals a snapshot may be bound to. SIGUSR1 is refused: Node starts the inspector on it. The
 * terminating and fault signals are refused: catching them would change how the host dies.
 */
export const SNAPSHOT_SIGNALS: readonly NodeJS.Signals[] = ['SIGUSR2', 'SIGHUP', 'SIGWINCH', 'SIGURG', 'SIGPWR'];

const DAY_MS = 86_400_000;

export function readEvidenceConfig(env: Env, problem: ProblemSink): EvidenceConfig {
  const d = DEFAULT_EVIDENCE;
  const r = new EnvReader(env, problem);

  const profile = r.choice('LEAK_AGENT_PROFILE', ['suspect', 'start', 'off'] as const, d.profile);
  // Below 1 KiB the profiler samples nearly every allocation (a large slowdown); above 64 MiB it sees almost nothing.
  const profileIntervalBytes = r.bytes('LEAK_AGENT_PROFILE_INTERVAL', { min: 1024, max: 64 * 2 ** 20, fallback: d.profileIntervalBytes });
  const snapshotCooldownMs = r.duration('LEAK_AGENT_SNAPSHOT_COOLDOWN', { min: 0, max: 7 * DAY_MS, fallback: d.snapshotCooldownMs });
  const snapshotsPerProcess = r.count('LEAK_AGENT_SNAPSHOTS_PER_PROCESS', { min: 0, max: 1000, fallback: d.snapshotsPerProcess });
  const snapshotsPerDay = r.count('LEAK_AGENT_SNAPSHOTS_PER_DAY', { min: 0, max: 1000, fallback: d.snapshotsPerDay });
  const diskBudgetBytes = r.bytes('LEAK_AGENT_DISK_BUDGET', { min: 2 ** 20, max: 2 ** 40, fallback: d.diskBudgetBytes });

  let pairGrowth = d.pairGrowth;
  const rawPair = r.raw('LEAK_AGENT_SNAPSHOT_PAIR');
  if (rawPair !== undefined) {
    const text = rawPair.replace(/^\+/, '');
    const percent = /^(\d{1,6}(?:\.\d{1,6})?)\s*%$/.exec(text);
    const size = parseBytes(text);
    if (/^(off|false|no|0)$/i.test(text)) pairGrowth = null;
    else if (percent && Number(percent[1]) > 0 && Number(percent[1]) <= 1000) pairGrowth = { kind: 'percent', value: Number(percent[1]) };
    else if (!percent && size !== undefined && size >= 2 ** 20 && size <= 2 ** 40 && /[a-z]$/i.test(text)) pairGrowth = { kind: 'bytes', value: size };
    else problem('LEAK_AGENT_SNAPSHOT_PAIR', 'old-space growth before the second snapshot: a share from +1% to +1000%, a size from +1MiB to +1TiB such as +64MiB, or off', '+25%');
  }

  let signal = d.signal;
  const rawSignal = r.raw('LEAK_AGENT_SIGNAL');
  if (rawSignal !== undefined && !/^(off|none|false|no)$/i.test(rawSignal)) {
    const name = rawSignal.toUpperCase().replace(/^(?!SIG)/, 'SIG') as NodeJS.Signals;
    if (name === 'SIGUSR1') {
      problem('LEAK_AGENT_SIGNAL', `one of ${SNAPSHOT_SIGNALS.join(', ')} (SIGUSR1 is Node's signal to start the inspector)`, 'off');
    } else if (!SNAPSHOT_SIGNALS.includes(name)) {
      problem('LEAK_AGENT_SIGNAL', `off or one of ${SNAPSHOT_SIGNALS.join(', ')}`, 'off');
    } else signal = name;
  }

  return Object.freeze({
    profile,
    profileIntervalBytes,
    snapshotCooldownMs,
    snapshotsPerProcess,
    snapshotsPerDay,
    diskBudgetBytes,
    pairGrowth: pairGrowth && Object.freeze({ ...pairGrowth }),
    signal,
  });
}
