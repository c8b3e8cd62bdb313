/**
 * Memory-pressure thresholds and the health endpoint (src/pressure). Every value has a default
 * that matches common runbooks (heap under 80% of its limit, container under 90%); a bad value is
 * one problem line and the default.
 *
 *   LEAK_AGENT_PRESSURE_HEAP            heap use that degrades, percent (80%)
 *   LEAK_AGENT_PRESSURE_CONTAINER       container use that degrades, percent (90%)
 *   LEAK_AGENT_PRESSURE_GROWTH          growth that degrades, whole MB per hour (100)
 *   LEAK_AGENT_PRESSURE_FULL_GC_RATE    full GCs per minute that degrade (12)
 *   LEAK_AGENT_PRESSURE_GC_TIME         share of time in GC that degrades, percent (10%)
 *   LEAK_AGENT_PRESSURE_OOM_HORIZON     time to OOM that degrades (1h)
 *   LEAK_AGENT_CRITICAL_OOM_HORIZON     time to OOM that is critical (5m)
 *   LEAK_AGENT_CRITICAL_HEAP            heap use that is critical, percent (95%)
 *   LEAK_AGENT_CRITICAL_CONTAINER       container use that is critical, percent (97%)
 *   LEAK_AGENT_HEALTH_PORT              serve GET /health on this port (unset: no endpoint; 0: any free port)
 *   LEAK_AGENT_HEALTH_HOST              the endpoint's address (127.0.0.1)
 *   LEAK_AGENT_MITIGATE                 off (default) | hook | exit: what to do when health() turns critical
 *   LEAK_AGENT_MITIGATE_DEADLINE        how long hooks and in-flight work may take before exit (30s)
 *   LEAK_AGENT_MITIGATE_INTERVAL        at most one mitigation per this interval, across restarts (1h)
 *   LEAK_AGENT_MITIGATE_AFTER           never mitigate before the process ran this long (2m)
 */
import { DEFAULT_THRESHOLDS, type PressureThresholds } from '../pressure/pressure';
import type { MitigationConfig } from '../pressure/mitigation';
import { EnvReader } from './read';
import type { Env, ProblemSink } from './problems';

export interface PressureConfig {
  readonly thresholds: PressureThresholds;
  /** undefined: no endpoint. */
  readonly healthPort: number | undefined;
  readonly healthHost: string;
  readonly mitigation: MitigationConfig;
}

/** `80%` or `80` → 0.8, within [min, max] percent. */
function percent(r: EnvReader, name: string, min: number, max: number, fallback: number): number {
  const v = r.raw(name);
  if (v === undefined) return fallback;
  const m = /^(\d{1,3}(?:\.\d{1,2})?)\s*%?$/.exec(v);
  const n = m ? Number(m[1]) : NaN;
  if (!(n >= min && n <= max)) {
    r.problem(name, `a percentage from ${min}% to ${max}%, such as 80%`, `${Math.round(fallback * 1000) / 10}%`);
    return fallback;
  }
  return n / 100;
}

export function readPressureConfig(env: Env, problem: ProblemSink): PressureConfig {
  const r = new EnvReader(env, problem);
  const d = DEFAULT_THRESHOLDS;
  const heapUse = percent(r, 'LEAK_AGENT_PRESSURE_HEAP', 1, 99, d.heapUse);
  const containerUse = percent(r, 'LEAK_AGENT_PRESSURE_CONTAINER', 1, 99, d.containerUse);
  let criticalHeapUse = percent(r, 'LEAK_AGENT_CRITICAL_HEAP', 2, 100, d.criticalHeapUse);
  let criticalContainerUse = percent(r, 'LEAK_AGENT_CRITICAL_CONTAINER', 2, 100, d.criticalContainerUse);
  const oomHorizonMs = r.duration('LEAK_AGENT_PRESSURE_OOM_HORIZON', { min: 10_000, max: 7 * 86_400_000, fallback: d.oomHorizonMs });
  let criticalOomHorizonMs = r.duration('LEAK_AGENT_CRITICAL_OOM_HORIZON', { min: 1_000, max: 7 * 86_400_000, fallback: d.criticalOomHorizonMs });
  // A critical threshold that is not harder than its degraded one would skip `degraded`.
  if (criticalHeapUse <= heapUse) {
    problem('LEAK_AGENT_CRITICAL_HEAP', `a percentage above LEAK_AGENT_PRESSURE_HEAP (${Math.round(heapUse * 100)}%)`, `${Math.round(Math.max(heapUse, Math.min(1, heapUse + 0.05)) * 100)}%`);
    criticalHeapUse = Math.min(1, heapUse + 0.05);
  }
  if (criticalContainerUse <= containerUse) {
    problem('LEAK_AGENT_CRITICAL_CONTAINER', `a percentage above LEAK_AGENT_PRESSURE_CONTAINER (${Math.round(containerUse * 100)}%)`, `${Math.round(Math.min(1, containerUse + 0.05) * 100)}%`);
    criticalContainerUse = Math.min(1, containerUse + 0.05);
  }
  if (criticalOomHorizonMs >= oomHorizonMs) {
    problem('LEAK_AGENT_CRITICAL_OOM_HORIZON', 'a duration shorter than LEAK_AGENT_PRESSURE_OOM_HORIZON', 'a twelfth of it');
    criticalOomHorizonMs = Math.round(oomHorizonMs / 12);
  }
  const thresholds: PressureThresholds = Object.freeze({
    heapUse,
    containerUse,
    growthMbPerHour: r.count('LEAK_AGENT_PRESSURE_GROWTH', { min: 1, max: 1_000_000, fallback: d.growthMbPerHour }),
    fullGcPerMinute: r.count('LEAK_AGENT_PRESSURE_FULL_GC_RATE', { min: 1, max: 6_000, fallback: d.fullGcPerMinute }),
    gcTimeShare: percent(r, 'LEAK_AGENT_PRESSURE_GC_TIME', 1, 100, d.gcTimeShare),
    oomHorizonMs,
    criticalOomHorizonMs,
    criticalHeapUse,
    criticalContainerUse,
  });
  const portRaw = r.raw('LEAK_AGENT_HEALTH_PORT');
  const healthPort = portRaw === undefined ? undefined : r.count('LEAK_AGENT_HEALTH_PORT', { min: 0, max: 65_535, fallback: -1 });
  const healthHost = r.text('LEAK_AGENT_HEALTH_HOST', 'a host name or IP address', '127.0.0.1') ?? '127.0.0.1';
  const mitigation: MitigationConfig = Object.freeze({
    mode: r.choice('LEAK_AGENT_MITIGATE', ['off', 'hook', 'exit'] as const, 'off', { false: 'off', '0': 'off', no: 'off' }),
    deadlineMs: r.duration('LEAK_AGENT_MITIGATE_DEADLINE', { min: 1_000, max: 10 * 60_000, fallback: 30_000 }),
    minIntervalMs: r.duration('LEAK_AGENT_MITIGATE_INTERVAL', { min: 0, max: 7 * 86_400_000, fallback: 60 * 60_000 }),
    startupGraceMs: r.duration('LEAK_AGENT_MITIGATE_AFTER', { min: 1_000, max: 86_400_000, fallback: 2 * 60_000 }),
  });
  return Object.freeze({ thresholds, healthPort: healthPort === -1 ? undefined : healthPort, healthHost, mitigation });
}
