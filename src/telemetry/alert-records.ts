/**
 * Alerts as OpenTelemetry log records, so they land next to the service's other logs. Pure: a
 * verdict and its evidence in, the record out. Event names match the agent log (`leak.detected`,
 * `memory.spike`, `episode.ended`, `evidence.ready`); attribute keys are under `leak_agent.*`;
 * evidence locations are string arrays (`leak_agent.evidence.uris` once uploaded,
 * `leak_agent.evidence.paths` locally), with parallel arrays for kinds, sizes and hashes.
 *
 * `leak.detected` is sent before any evidence exists: it carries the episode's evidence directory
 * and the files the policy planned (`leak_agent.evidence.planned_paths` / `planned_kinds`);
 * `evidence.ready` follows with what was written and what was skipped.
 */
import type { AnyValueMap, LogRecord } from '@opentelemetry/api-logs';
import type { Verdict } from '../detect/verdict';
import type { EvidenceFile } from '../evidence/manifest-types';

/** What telemetry needs of an evidence file (the evidence stage's EvidenceFile fits). */
export type EvidenceRef = Partial<Pick<EvidenceFile, 'kind' | 'path' | 'uri'>>;

/** What the alert knows of its evidence before any is captured. */
export interface AlertPlan {
  episodeDir: string;
  planned: readonly { kind: string; path: string }[];
}

/** The `evidence.ready` log line's content. */
export interface EvidenceReadyRef {
  episodeId: string;
  episodeDir: string;
  files: readonly { kind: string; path: string; bytes: number; sha256: string; uri?: string }[];
  skipped: readonly { kind: string; path: string; check: string; reason: string }[];
  pending: readonly { kind: string; path: string }[];
}

/** api-logs SeverityNumber values, inlined so building a record does not load the package. */
const SEVERITY = { INFO: 9, WARN: 13 } as const;

const EVENT_NAME: Record<Verdict['kind'], string> = {
  'leak': 'leak.detected',
  'spike': 'memory.spike',
  'episode-end': 'episode.ended',
};

function mb(bytes: number): string {
  return `${(bytes / 1_048_576).toFixed(1)} MiB`;
}

function duration(sec: number): string {
  if (sec < 120) return `${Math.round(sec)} s`;
  if (sec < 7_200) return `${Math.round(sec / 60)} min`;
  return `${(sec / 3_600).toFixed(1)} h`;
}

export function alertRecord(verdict: Verdict, evidence: readonly EvidenceRef[] = [], plan?: AlertPlan): LogRecord {
  const eventName = EVENT_NAME[verdict.kind];
  const attributes: AnyValueMap = {
    'event.name': eventName,
    'leak_agent.episode.id': verdict.episodeId,
    'leak_agent.memory': verdict.memory,
  };
  let body: string;
  let severity: number = SEVERITY.WARN;
  switch (verdict.kind) {
    case 'leak': {
      Object.assign(attributes, {
        'leak_agent.growth.bytes_per_sec': verdict.growthBytesPerSec,
        'leak_agent.growth.lower_bytes_per_sec': verdict.growthLowerBytesPerSec,
        'leak_agent.growth.upper_bytes_per_sec': verdict.growthUpperBytesPerSec,
        'leak_agent.growth.confidence': verdict.confidence,
        'leak_agent.p_value': verdict.pValue,
        'leak_agent.window.ms': verdict.windowMs,
        'leak_agent.window.points': verdict.points,
        'leak_agent.memory.current_bytes': verdict.currentBytes,
        'leak_agent.memory.limit_bytes': verdict.limitBytes,
        'leak_agent.memory.limit_source': verdict.limitSource,
        'leak_agent.detected_at': new Date(verdict.detectedAt).toISOString(),
      });
      if (verdict.timeToLimitSec !== null) attributes['leak_agent.time_to_limit.sec'] = verdict.timeToLimitSec;
      if (verdict.timeToLimitLowerSec !== null) attributes['leak_agent.time_to_limit.lower_sec'] = verdict.timeToLimitLowerSec;
      if (verdict.timeToLimitUpperSec !== null) attributes['leak_agent.time_to_limit.upper_sec'] = verdict.timeToLimitUpperSec;
      const ttl = verdict.timeToLimitSec !== null ? `; ${verdict.limitSource} limit in about ${duration(verdict.timeToLimitSec)}` : '';
      body = `memory leak: ${verdict.memory} grows ${mb(verdict.growthBytesPerSec)}/s (p=${verdict.pValue.toPrecision(2)}), now ${mb(verdict.currentBytes)} of ${mb(verdict.limitBytes)}${ttl}`;
      break;
    }
    case 'spike':
      Object.assign(attributes, {
        'leak_agent.spike.size_bytes': verdict.sizeBytes,
        'leak_agent.spike.before_bytes': verdict.beforeBytes,
        'leak_agent.spike.after_bytes': verdict.afterBytes,
        'leak_agent.spike.at': new Date(verdict.at).toISOString(),
      });
      body = `memory spike: ${verdict.memory} jumped ${mb(verdict.sizeBytes)} (${mb(verdict.beforeBytes)} → ${mb(verdict.afterBytes)})`;
      break;
    case 'episode-end':
      severity = SEVERITY.INFO;
      attributes['leak_agent.episode.reason'] = verdict.reason;
      body = `memory episode ended: ${verdict.memory}: ${verdict.reason}`;
      break;
  }
  const uris = evidence.map((e) => e.uri).filter((u): u is string => typeof u === 'string');
  const paths = evidence.map((e) => e.path).filter((p): p is string => typeof p === 'string');
  if (uris.length > 0) attributes['leak_agent.evidence.uris'] = uris;
  if (paths.length > 0) attributes['leak_agent.evidence.paths'] = paths;
  if (plan) {
    attributes['leak_agent.evidence.dir'] = plan.episodeDir;
    attributes['leak_agent.evidence.planned_paths'] = plan.planned.map((p) => p.path);
    attributes['leak_agent.evidence.planned_kinds'] = plan.planned.map((p) => p.kind);
  }
  return {
    eventName,
    severityNumber: severity,
    severityText: severity === SEVERITY.WARN ? 'WARN' : 'INFO',
    body,
    attributes,
  };
}

export function evidenceReadyRecord(ready: EvidenceReadyRef): LogRecord {
  const attributes: AnyValueMap = {
    'event.name': 'evidence.ready',
    'leak_agent.episode.id': ready.episodeId,
    'leak_agent.evidence.dir': ready.episodeDir,
    'leak_agent.evidence.paths': ready.files.map((f) => f.path),
    'leak_agent.evidence.kinds': ready.files.map((f) => f.kind),
    'leak_agent.evidence.bytes': ready.files.map((f) => f.bytes),
    'leak_agent.evidence.sha256': ready.files.map((f) => f.sha256),
    'leak_agent.evidence.skipped': ready.skipped.map((s) => `${s.kind} ${s.path}: ${s.reason}`),
    'leak_agent.evidence.pending_paths': ready.pending.map((p) => p.path),
  };
  const uris = ready.files.map((f) => f.uri).filter((u): u is string => typeof u === 'string');
  if (uris.length > 0) attributes['leak_agent.evidence.uris'] = uris;
  const total = ready.files.reduce((sum, f) => sum + f.bytes, 0);
  const skipped = ready.skipped.length > 0 ? `; skipped: ${ready.skipped.map((s) => `${s.kind} (${s.reason})`).join('; ')}` : '';
  const pending = ready.pending.length > 0 ? `; still to come: ${ready.pending.length} file(s)` : '';
  return {
    eventName: 'evidence.ready',
    severityNumber: SEVERITY.INFO,
    severityText: 'INFO',
    body: `leak evidence ready for episode ${ready.episodeId}: ${ready.files.length} files (${mb(total)}) in ${ready.episodeDir}${skipped}${pending}`,
    attributes,
  };
}

/** What a `memory.pressure` / `memory.pressure.cleared` record carries (the log line's figures). */
export interface PressureRef {
  signal: string;
  active: boolean;
  value: number | null;
  threshold: number;
  status: string;
  figures: Record<string, number | null>;
}

export function pressureRecord(p: PressureRef): LogRecord {
  const eventName = p.active ? 'memory.pressure' : 'memory.pressure.cleared';
  const attributes: AnyValueMap = {
    'event.name': eventName,
    'leak_agent.pressure.signal': p.signal,
    'leak_agent.pressure.threshold': p.threshold,
    'leak_agent.health.status': p.status,
  };
  if (p.value !== null) attributes['leak_agent.pressure.value'] = p.value;
  for (const [k, v] of Object.entries(p.figures)) if (v !== null) attributes[`leak_agent.pressure.${k}`] = v;
  const severity = p.active ? SEVERITY.WARN : SEVERITY.INFO;
  return {
    eventName,
    severityNumber: severity,
    severityText: p.active ? 'WARN' : 'INFO',
    body: `memory pressure ${p.active ? 'crossed' : 'cleared'}: ${p.signal} ${p.value === null ? 'unknown' : p.value.toPrecision(3)} (threshold ${p.threshold}); health ${p.status}`,
    attributes,
  };
}
