/**
 * Reads the agent's configuration from the environment once, at start.
 *
 * Rule from the contract: a bad value never crashes the host. Each bad value becomes one
 * `ConfigProblem` (variable, value, what was expected, what we do instead; problems.ts) that the
 * agent logs as a single clear line; the configuration then carries the safe default. Every reader
 * (this file, telemetry-env.ts, evidence-env.ts, upload-env.ts) takes the same `ProblemSink`.
 */
import * as os from 'node:os';
import * as path from 'node:path';
import { readTelemetryConfig, type TelemetryConfig } from './telemetry-env';
import { readEvidenceConfig, type EvidenceConfig } from './evidence-env';
import { readPressureConfig, type PressureConfig } from './pressure-env';
import { readUploadConfig, type UploadOptions } from './upload-env';
import { problemCollector, type ConfigProblem, type Env } from './problems';
import { EnvReader } from './read';
import { isSensitivity, type Sensitivity } from '../detect/thresholds';

export type { ConfigProblem } from './problems';

export type LogTarget = { kind: 'stderr' } | { kind: 'stdout' } | { kind: 'file'; path: string };

export interface AgentConfig {
  readonly enabled: boolean;
  /** Where evidence and the upload spool are written. */
  readonly dir: string;
  /** How much history the leak decision looks at, in milliseconds. */
  readonly windowMs: number;
  /** May the agent take heap snapshots at all. */
  readonly snapshots: boolean;
  /** Where evidence goes (`file:///…`, `s3://…`, `https://…`); undefined = keep in `dir`. */
  readonly upload: string | undefined;
  /** Parsed target, headers, spool bounds and retry settings (upload-env.ts). */
  readonly uploadOptions: UploadOptions;
  readonly log: LogTarget;
  /** `auto` tries the native addon first; `off` forces the JS fallback. */
  readonly native: 'auto' | 'off';
  /** Leak detector sensitivity (LEAK_AGENT_SENSITIVITY): `low`, `normal` (default) or `high`. */
  readonly sensitivity: Sensitivity;
  /** How often the ring buffer / fallback queue is drained, in milliseconds. */
  readonly drainIntervalMs: number;
  /** OpenTelemetry / Prometheus export settings (OTEL_* and LEAK_AGENT_PROMETHEUS); see telemetry-env.ts. */
  readonly telemetry: TelemetryConfig;
  /** Evidence capture (profile, snapshot gate, pairs, signal): see evidence-env.ts. */
  readonly evidence: EvidenceConfig;
  /** Memory-pressure thresholds and the health endpoint: see pressure-env.ts. */
  readonly pressure: PressureConfig;
  // --- near-OOM capture (native sampler branch) ---
  /** Arm V8's near-heap-limit callback to leave a .heapprofile behind before a heap OOM. */
  readonly nearOom: boolean;
  /** May the policy request a full GC to confirm an old-space trend (src/policy/confirmation-gc.ts). */
  readonly confirmGc: boolean;
}

/** Production default: long enough that a traffic cycle or a cache warm-up is not mistaken for a leak. */
export const DEFAULT_WINDOW_MS = 30 * 60_000;

/** A week: the longest history a leak decision may look at (the detector keeps its series bounded in points, not time). */
export const MAX_WINDOW_MS = 7 * 86_400_000;

const ON = ['on', 'true', '1', 'yes'];
const OFF = ['off', 'false', '0', 'no'];

/** A path the agent may write under: no NUL or control characters, no `..` segment (resolved against the working directory otherwise). */
function safePath(r: EnvReader, variable: string, expected: string, using: string): string | undefined {
  const v = r.text(variable, expected, using);
  if (v === undefined) return undefined;
  if (v.split(/[\\/]/).includes('..')) {
    r.problem(variable, `${expected} without .. segments`, using);
    return undefined;
  }
  return path.resolve(v);
}

export function readConfig(env: Env = process.env): { config: AgentConfig; problems: ConfigProblem[] } {
  const { problems, problem } = problemCollector(env);
  const r = new EnvReader(env, problem);

  const enabled = r.flag('LEAK_AGENT_ENABLED', ['true', '1', 'yes', 'on'], ['false', '0', 'no', 'off'], true);
  const snapshots = r.flag('LEAK_AGENT_SNAPSHOTS', ON, OFF, true);

  const defaultDir = path.join(os.tmpdir(), 'leak-agent');
  const dir = safePath(r, 'LEAK_AGENT_DIR', 'a directory path', defaultDir) ?? defaultDir;

  // Below 10 s there are too few full GCs for any trend statistic to mean anything.
  const windowMs = r.duration('LEAK_AGENT_WINDOW', { min: 10_000, max: MAX_WINDOW_MS, fallback: DEFAULT_WINDOW_MS });

  const { options: uploadOptions, upload } = readUploadConfig(env, problem);

  let log: LogTarget = { kind: 'stderr' };
  const rawLog = r.raw('LEAK_AGENT_LOG');
  if (rawLog === 'stdout') log = { kind: 'stdout' };
  else if (rawLog !== undefined && rawLog !== 'stderr') {
    const file = safePath(r, 'LEAK_AGENT_LOG', 'stderr, stdout or a file path', 'stderr');
    if (file !== undefined) log = { kind: 'file', path: file };
  }

  const native = r.choice('LEAK_AGENT_NATIVE', ['auto', 'off'] as const, 'auto', { on: 'auto', false: 'off', '0': 'off' });
  const telemetry = readTelemetryConfig(env, problem);
  const evidence = readEvidenceConfig(env, problem);
  const pressure = readPressureConfig(env, problem);

  let sensitivity: Sensitivity = 'normal';
  const rawSensitivity = r.raw('LEAK_AGENT_SENSITIVITY')?.toLowerCase();
  if (rawSensitivity !== undefined) {
    if (isSensitivity(rawSensitivity)) sensitivity = rawSensitivity;
    else problem('LEAK_AGENT_SENSITIVITY', 'low, normal or high', 'normal');
  }
  const nearOom = r.flag('LEAK_AGENT_NEAR_OOM', ON, OFF, true);
  const confirmGc = r.flag('LEAK_AGENT_CONFIRM_GC', ON, OFF, true);

  const config: AgentConfig = Object.freeze({
    enabled,
    dir,
    windowMs,
    snapshots,
    upload,
    uploadOptions,
    log: Object.freeze(log),
    native,
    sensitivity,
    drainIntervalMs: 1_000,
    telemetry,
    evidence,
    pressure,
    nearOom,
    confirmGc,
  });
  return { config, problems };
}
