/**
 * Public entry: loading this module starts one agent per process (per isolate, so a worker thread
 * that loads it gets its own). A second load — even of a second copy of the package — is a no-op.
 * `LEAK_AGENT_ENABLED=false` makes loading a no-op. Nothing here throws into the host.
 */
import { Agent } from './agent';
import { readConfig } from './config/env';
import type { SnapshotOutcome } from './policy/policy';
import { DISABLED, type Health } from './pressure/pressure';
import type { MitigationHook } from './agent';
import { healthHandler as handlerFor } from './pressure/health-http';
import type { IncomingMessage, ServerResponse } from 'node:http';

export type { SnapshotOutcome } from './policy/policy';
export type { GcRecord, GcKind, SpaceUsage } from './sampler/types';
export type { HeapProfilerBackend, SamplingHeapProfile } from './evidence/heap-profile-types';
export type { EpisodeManifest, EpisodeSeries, EvidenceFile } from './evidence/manifest-types';
export type { Health, HealthStatus, PressureFigures, PressureSignal } from './pressure/pressure';

export type AgentEvent = 'leak' | 'spike' | 'episode-end' | 'evidence-ready' | 'pressure' | 'mitigate';
export type { MitigationContext, MitigationHook } from './agent';
export { MITIGATION_EXIT_CODE } from './pressure/mitigation';
export type Listener = (payload: Record<string, unknown>) => void;

/** Shared across copies of the package loaded into the same isolate. */
const INSTANCE = Symbol.for('leak-agent.instance');
type Holder = { [INSTANCE]?: Agent | null };

function startOnce(): Agent | null {
  const holder = globalThis as unknown as Holder;
  if (holder[INSTANCE] !== undefined) return holder[INSTANCE] ?? null;
  try {
    const { config, problems } = readConfig();
    if (!config.enabled) {
      holder[INSTANCE] = null;
      return null;
    }
    const agent = new Agent(config, problems);
    holder[INSTANCE] = agent;
    agent.start();
    return agent;
  } catch (err) {
    holder[INSTANCE] = null;
    try {
      process.stderr.write(JSON.stringify({ event: 'agent.error', time: new Date().toISOString(), where: 'load', message: (err as Error).message }) + '\n');
    } catch { /* nothing left to tell */ }
    return null;
  }
}

const agent = startOnce();

/** The agent's state: always a plain object with `running` and `sampler`. */
export function status(): Record<string, unknown> {
  if (!agent) return { running: false, sampler: 'none', enabled: false };
  return agent.status();
}

/**
 * Memory pressure as a health answer: `{ status: 'ok' | 'degraded' | 'critical', reasons, figures }`.
 * Returns the object the last drain computed (no work, no allocation); never throws, whatever the
 * agent's state (before the first drain, after stop(), when disabled: `ok` with the reason).
 */
export function health(): Health {
  try {
    return agent ? agent.health() : DISABLED;
  } catch {
    return DISABLED;
  }
}

/** A request handler for Node's http (and Express, Fastify's raw req/res): 200 ok/degraded, 503 critical, JSON body. */
export function healthHandler(): (req: IncomingMessage, res: ServerResponse) => void {
  return handlerFor(health);
}

/**
 * With LEAK_AGENT_MITIGATE=hook or exit: called once when health() turns critical (after evidence
 * was captured or its deadline passed). Stop accepting work there (e.g. `server.close()`) and
 * resolve once in-flight work is done; with `exit` the agent then flushes and exits with
 * MITIGATION_EXIT_CODE (75). Returns a function that removes the hook.
 */
export function onMitigate(hook: MitigationHook): () => void {
  if (!agent) return () => {};
  agent.mitigationHooks.push(hook);
  return () => {
    const i = agent.mitigationHooks.indexOf(hook);
    if (i >= 0) agent.mitigationHooks.splice(i, 1);
  };
}

/** Takes a heap snapshot now if the safety gate allows it; never rejects. */
export function snapshot(reason?: string): Promise<SnapshotOutcome> {
  if (!agent) return Promise.resolve({ written: false, reason: 'agent is disabled' });
  return agent.snapshot(reason);
}

/**
 * Stops sampling and releases the agent's hooks at once. The promise resolves when the last
 * telemetry has been flushed (bounded to a few seconds; it never rejects).
 */
export function stop(): Promise<void> {
  return agent ? agent.stop() : Promise.resolve();
}

/**
 * Listen for alerts: `leak` (a leak.detected verdict, before any evidence exists), `evidence-ready`
 * (an episode's files, as in the evidence.ready line), `spike`, `episode-end`, `pressure` (a memory
 * pressure signal crossed or cleared, as in the memory.pressure lines).
 */
export function on(event: AgentEvent, listener: Listener): void {
  agent?.events.on(event, wrap(listener));
}

export function off(event: AgentEvent, listener: Listener): void {
  if (!agent) return;
  for (const l of agent.events.listeners(event)) {
    if ((l as { original?: Listener }).original === listener) agent.events.off(event, l as Listener);
  }
}

/** A throwing listener must not break the agent's reporting loop. */
function wrap(listener: Listener): Listener {
  const wrapped: Listener & { original?: Listener } = (payload) => {
    try {
      listener(payload);
    } catch (err) {
      agent?.logger.log('agent.error', { where: 'listener', message: (err as Error).message });
    }
  };
  wrapped.original = listener;
  return wrapped;
}
