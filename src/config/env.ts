/**
 * Reads the agent's configuration from the environment once, at start.
 *
 * Rule from the contract: a bad value never crashes the host. Each bad value becomes one
 * `ConfigProblem` (variable, value, what was expected, what we do instead) that the agent logs
 * as a single clear line; the configuration then carries the safe default.
 */
import * as os from 'node:os';
import * as path from 'node:path';
import { formatDuration, parseDuration } from './duration';
import { readTelemetryConfig, type TelemetryConfig } from './telemetry-env';
import { readEvidenceConfig, type EvidenceConfig } from './evidence-env';
import { readUploadOptions, type UploadOptions } from '../upload/options';
import { isSensitivity, type Sensitivity } from '../detect/thresholds';

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
  /** Parsed target, headers, spool bounds and retry settings (see src/upload/options.ts). */
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
  // --- near-OOM capture (native sampler branch) ---
  /** Arm V8's near-heap-limit callback to leave a .heapprofile behind before a heap OOM. */
  readonly nearOom: boolean;
  /** May the policy request a full GC to confirm an old-space trend (src/policy/confirmation-gc.ts). */
  readonly confirmGc: boolean;
}

export interface ConfigProblem {
  variable: string;
  value: string;
  expected: string;
  using: string;
}

/** Production default: long enough that a traffic cycle or a cache warm-up is not mistaken for a leak. */
export const DEFAULT_WINDOW_MS = 30 * 60_000;

type Env = Record<string, string | undefined>;

export function readConfig(env: Env = process.env): { config: AgentConfig; problems: ConfigProblem[] } {
  const problems: ConfigProblem[] = [];
  const problem = (variable: string, expected: string, using: string): void => {
    problems.push({ variable, value: String(env[variable]), expected, using });
  };

  const flag = (variable: string, truthy: string[], falsy: string[], fallback: boolean): boolean => {
    const raw = env[variable];
    if (raw === undefined || raw.trim() === '') return fallback;
    const v = raw.trim().toLowerCase();
    if (truthy.includes(v)) return true;
    if (falsy.includes(v)) return false;
    problem(variable, `one of ${[...truthy, ...falsy].join(', ')}`, String(fallback ? truthy[0] : falsy[0]));
    return fallback;
  };

  const enabled = flag('LEAK_AGENT_ENABLED', ['true', '1', 'yes', 'on'], ['false', '0', 'no', 'off'], true);
  const snapshots = flag('LEAK_AGENT_SNAPSHOTS', ['on', 'true', '1', 'yes'], ['off', 'false', '0', 'no'], true);

  const defaultDir = path.join(os.tmpdir(), 'leak-agent');
  let dir = defaultDir;
  const rawDir = env.LEAK_AGENT_DIR;
  if (rawDir !== undefined && rawDir.trim() !== '') {
    if (rawDir.includes('\0')) problem('LEAK_AGENT_DIR', 'a directory path', defaultDir);
    else dir = path.resolve(rawDir.trim());
  }

  let windowMs = DEFAULT_WINDOW_MS;
  const rawWindow = env.LEAK_AGENT_WINDOW;
  if (rawWindow !== undefined && rawWindow.trim() !== '') {
    const parsed = parseDuration(rawWindow);
    // Below 10 s there are too few full GCs for any trend statistic to mean anything.
    if (parsed === undefined || parsed < 10_000) {
      problem('LEAK_AGENT_WINDOW', 'a duration of at least 10s such as 90s, 30m or 6h', formatDuration(DEFAULT_WINDOW_MS));
    } else windowMs = parsed;
  }

  // --- upload: precise validation of LEAK_AGENT_UPLOAD and LEAK_AGENT_UPLOAD_* ---
  const uploadRead = readUploadOptions(env);
  problems.push(...uploadRead.problems);
  const upload = uploadRead.upload;
  // --- end upload ---

  let log: LogTarget = { kind: 'stderr' };
  const rawLog = env.LEAK_AGENT_LOG;
  if (rawLog !== undefined && rawLog.trim() !== '') {
    const v = rawLog.trim();
    if (v === 'stderr') log = { kind: 'stderr' };
    else if (v === 'stdout') log = { kind: 'stdout' };
    else if (v.includes('\0')) problem('LEAK_AGENT_LOG', 'stderr, stdout or a file path', 'stderr');
    else log = { kind: 'file', path: path.resolve(v) };
  }

  let native: 'auto' | 'off' = 'auto';
  const rawNative = env.LEAK_AGENT_NATIVE;
  if (rawNative !== undefined && rawNative.trim() !== '') {
    const v = rawNative.trim().toLowerCase();
    if (v === 'auto' || v === 'on') native = 'auto';
    else if (v === 'off' || v === 'false' || v === '0') native = 'off';
    else problem('LEAK_AGENT_NATIVE', 'auto or off', 'auto');
  }

  // telemetry: standard OTEL_* variables and LEAK_AGENT_PROMETHEUS, validated in their own module.
  const telemetry = readTelemetryConfig(env, problem);
  // --- evidence capture: its variables live in evidence-env.ts ---
  const evidence = readEvidenceConfig(env, problem);
  // --- leak detector sensitivity (see docs/detection.md) ---
  let sensitivity: Sensitivity = 'normal';
  const rawSensitivity = env.LEAK_AGENT_SENSITIVITY;
  if (rawSensitivity !== undefined && rawSensitivity.trim() !== '') {
    const v = rawSensitivity.trim().toLowerCase();
    if (isSensitivity(v)) sensitivity = v;
    else problem('LEAK_AGENT_SENSITIVITY', 'low, normal or high', 'normal');
  }
  // --- near-OOM capture (native sampler branch) ---
  const nearOom = flag('LEAK_AGENT_NEAR_OOM', ['on', 'true', '1', 'yes'], ['off', 'false', '0', 'no'], true);
  const confirmGc = flag('LEAK_AGENT_CONFIRM_GC', ['on', 'true', '1', 'yes'], ['off', 'false', '0', 'no'], true);

  const config: AgentConfig = Object.freeze({
    enabled,
    dir,
    windowMs,
    snapshots,
    upload,
    uploadOptions: uploadRead.options,
    log: Object.freeze(log),
    native,
    sensitivity,
    drainIntervalMs: 1_000,
    telemetry,
    evidence,
    nearOom,
    confirmGc,
  });
  return { config, problems };
}
