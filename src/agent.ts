/**
 * The agent's lifecycle: pick a sampler, drain it on an unref'd timer, hand each batch to the
 * policy. Nothing here may throw into the host: every entry point catches and logs `agent.error`.
 */
import { EventEmitter } from 'node:events';
import type { AgentConfig, ConfigProblem } from './config/env';
import { formatDuration } from './config/duration';
import type { NearOomHandle } from './evidence/near-oom';
import { nativeProfilerBackend } from './evidence/native-profiler';
import { decideNative } from './native/decide';
import { createLogger, type AgentLogger } from './log/logger';
import { redactDeep } from './log/redact-secrets';
import { Policy, type SnapshotOutcome } from './policy/policy';
import { readContainerMemory, type ContainerMemory } from './process/container';
import { readProcessMemory } from './process/memory';
import { selectSampler } from './sampler/select';
import type { Sampler } from './sampler/types';
import { AGENT_VERSION } from './version';
import { agentDirProblem } from './evidence/safe-fs';
import type { Server } from 'node:http';
import { startHealthEndpoint } from './pressure/health-http';
import { STOPPED, type Health } from './pressure/pressure';
import { MITIGATION_EXIT_CODE, decideMitigation, readLastMitigation, writeMitigationRecord } from './pressure/mitigation';

/** What a mitigation hook is told; it should stop accepting work and resolve when in-flight work is done. */
export interface MitigationContext {
  action: 'hook' | 'exit';
  reasons: readonly string[];
  figures: Health['figures'];
  deadlineMs: number;
}
export type MitigationHook = (ctx: MitigationContext) => void | Promise<void>;

/** Container figures change slowly and cost a few syscalls; read them every few drains, not every one. */
const CONTAINER_READ_EVERY = 5;

export class Agent {
  readonly events = new EventEmitter();
  readonly logger: AgentLogger;
  private sampler: Sampler | undefined;
  private samplerReason = '';
  private timer: NodeJS.Timeout | undefined;
  private policy: Policy;
  private running = false;
  private ticks = 0;
  private container: ContainerMemory | undefined;
  private nearOom: NearOomHandle | undefined;
  private readonly startedAt = Date.now();
  private healthServer: Server | undefined;
  private stopped = false;
  /** Mitigation (LEAK_AGENT_MITIGATE): hooks, whether it started, the last refusal logged. */
  readonly mitigationHooks: MitigationHook[] = [];
  private mitigating = false;
  private lastMitigationRefusal = '';

  constructor(readonly config: AgentConfig, problems: ConfigProblem[] = []) {
    this.logger = createLogger(config.log);
    // An 'error' event with no listener would throw into the host; alerts are never errors.
    this.events.on('error', () => {});
    for (const p of problems) {
      this.logger.log('agent.error', {
        where: 'config',
        variable: p.variable,
        value: p.value,
        expected: p.expected,
        using: p.using,
        message: `${p.variable}=${JSON.stringify(p.value)} is not valid: expected ${p.expected}; using ${p.using}`,
      });
    }
    const decision = decideNative(config.native);
    for (const p of decision.problems) this.logger.log('agent.error', { where: 'native', ...p });
    // The addon's sampling heap profiler, when it is used, replaces the inspector's (see native-profiler.ts).
    const native = decision.addon;
    this.policy = new Policy({
      config,
      logger: this.logger,
      events: this.events,
      ...(native ? { profilerBackend: nativeProfilerBackend(native) } : {}),
    });
  }

  start(): void {
    if (this.running) return;
    try {
      const choice = selectSampler(this.config.native);
      this.sampler = choice.sampler;
      this.samplerReason = choice.reason;
      this.sampler?.start();
      // One line at start when the evidence directory cannot be trusted; every capture then refuses it too (safe-fs.ts).
      const dirProblem = agentDirProblem(this.config.dir);
      if (dirProblem) this.logger.log('agent.error', { where: 'evidence', message: `${dirProblem}; the agent runs without evidence (no snapshot, profile or spool) until this is fixed` });
      this.nearOom = this.policy.start(new Date(this.startedAt));
      this.running = true;
      const memory = readProcessMemory();
      this.container = readContainerMemory();
      this.logger.log('agent.started', {
        version: AGENT_VERSION,
        node: process.version,
        pid: process.pid,
        sampler: this.sampler?.kind ?? 'none',
        samplerReason: this.samplerReason,
        window: formatDuration(this.config.windowMs),
        dir: this.config.dir,
        snapshots: this.config.snapshots,
        upload: this.config.upload ?? null,
        nearOom: { state: this.nearOom.state, reason: this.nearOom.reason, path: this.nearOom.path },
        heapLimit: memory.heapLimit,
        rss: memory.rss,
        container: this.container
          ? { cgroup: this.container.version, path: this.container.path, limit: this.container.limit, usage: this.container.usage }
          : null,
      });
      this.logOomHistory();
      const { healthPort, healthHost } = this.config.pressure;
      if (healthPort !== undefined) this.healthServer = startHealthEndpoint(() => this.health(), healthHost, healthPort, this.logger);
      this.timer = setInterval(() => this.tick(), this.config.drainIntervalMs);
      // The agent must never keep a process alive.
      this.timer.unref();
    } catch (err) {
      this.fail('start', err);
    }
  }

  /** "Was anything OOM-killed?" — the first question of every 3 a.m. investigation. */
  private logOomHistory(): void {
    const c = this.container;
    if (!c) return;
    if (c.oomKills !== null && c.oomKills > 0) {
      this.logger.log('container.oom_history', {
        oomKills: c.oomKills,
        limitHits: c.limitHits,
        limit: c.limit,
        cgroup: c.path,
        message: `this container's memory cgroup has recorded ${c.oomKills} OOM kill(s) before this process started`,
      });
    } else {
      this.logger.log('container.oom_history', { oomKills: c.oomKills ?? 0, limitHits: c.limitHits, limit: c.limit, cgroup: c.path });
    }
  }

  private tick(): void {
    try {
      if (!this.running) return;
      this.ticks += 1;
      if (this.ticks % CONTAINER_READ_EVERY === 0) this.container = readContainerMemory();
      const records = this.sampler?.drain() ?? [];
      this.policy.onTick({ records, memory: readProcessMemory(), container: this.container });
      if (this.config.pressure.mitigation.mode !== 'off' && this.policy.pressure.health().status === 'critical') this.maybeMitigate();
    } catch (err) {
      this.fail('tick', err);
    }
  }

  /** Drains now (used by tests and stop()). */
  flush(): void {
    this.tick();
  }

  async snapshot(reason = 'on demand'): Promise<SnapshotOutcome> {
    try {
      return await this.policy.snapshot(reason);
    } catch (err) {
      this.fail('snapshot', err);
      return { written: false, reason: (err as Error).message };
    }
  }

  /** The memory-pressure answer the last tick computed (src/pressure); never throws. */
  health(): Health {
    try {
      return this.stopped ? STOPPED : this.policy.pressure.health();
    } catch {
      return STOPPED;
    }
  }

  /** Critical, mitigation on: act once, unless start-up or a recent mitigation (any process) forbids it. */
  private maybeMitigate(): void {
    const m = this.config.pressure.mitigation;
    const now = Date.now();
    const decision = decideMitigation({ config: m, now, uptimeMs: now - this.startedAt, lastAt: readLastMitigation(this.config.dir), alreadyStarted: this.mitigating });
    if (!decision.act) {
      // One line per kind of refusal, not one per drain (the reasons carry changing figures).
      const kind = decision.reason.replace(/\d+/g, 'N');
      if (!this.mitigating && kind !== this.lastMitigationRefusal) {
        this.lastMitigationRefusal = kind;
        this.logger.log('mitigation.skipped', { reason: decision.reason });
      }
      return;
    }
    this.mitigating = true;
    void this.mitigate().catch((err) => this.fail('mitigation', err));
  }

  /**
   * Evidence first (a running capture round may finish, within the deadline), then the hooks and the
   * `mitigate` event (stop accepting work, let in-flight requests finish, within the deadline); with
   * `exit`, stop the agent (telemetry flushed, uploads left in the spool for the next process), log
   * `agent.mitigated` last and exit with MITIGATION_EXIT_CODE. The deadline's timers are ref'd in
   * `exit` mode on purpose: the agent is ending the process itself and must get to its exit code.
   */
  private async mitigate(): Promise<void> {
    const m = this.config.pressure.mitigation;
    const action = m.mode === 'exit' ? 'exit' : 'hook';
    const h = this.policy.pressure.health();
    const startedAt = Date.now();
    const deadline = startedAt + m.deadlineMs;
    try {
      writeMitigationRecord(this.config.dir, { at: startedAt, pid: process.pid, action, reasons: h.reasons });
    } catch (err) {
      this.logger.log('agent.error', { where: 'mitigation', message: `cannot record the mitigation in ${this.config.dir}: ${(err as Error).message}; the next process may mitigate again sooner` });
    }
    this.logger.log('mitigation.started', { action, reasons: h.reasons, figures: h.figures, deadlineMs: m.deadlineMs, evidenceBusy: this.policy.evidenceBusy() });
    const sleep = (ms: number) => new Promise<void>((resolve) => {
      const t = setTimeout(resolve, ms);
      if (action !== 'exit') t.unref();
    });
    while (this.policy.evidenceBusy() && Date.now() < deadline) await sleep(100);
    const ctx: MitigationContext = { action, reasons: h.reasons, figures: h.figures, deadlineMs: Math.max(0, deadline - Date.now()) };
    this.events.emit('mitigate', { ...ctx });
    const hooks = this.mitigationHooks.map(async (hook) => hook(ctx));
    const settled = await Promise.race([
      Promise.allSettled(hooks).then((r) => r.filter((x) => x.status === 'rejected').map((x) => String((x as PromiseRejectedResult).reason))),
      sleep(Math.max(0, deadline - Date.now())).then(() => ['deadline passed before every hook finished'] as string[]),
    ]);
    const fields = { action, reasons: h.reasons, figures: h.figures, hooks: this.mitigationHooks.length, problems: settled, durationMs: Date.now() - startedAt };
    if (action !== 'exit') {
      this.logger.log('agent.mitigated', { ...fields, exitCode: null });
      return;
    }
    await this.stop(() => this.logger.log('agent.mitigated', { ...fields, exitCode: MITIGATION_EXIT_CODE }));
    process.exit(MITIGATION_EXIT_CODE);
  }

  /** Redacted like every log line: an endpoint or upload URL here never shows its credentials. */
  status(): Record<string, unknown> {
    const counters = this.sampler?.counters();
    return redactDeep({
      running: this.running,
      sampler: this.sampler?.kind ?? 'none',
      samplerReason: this.samplerReason,
      version: AGENT_VERSION,
      pid: process.pid,
      uptimeMs: Date.now() - this.startedAt,
      windowMs: this.config.windowMs,
      records: counters?.records ?? 0,
      dropped: counters?.dropped ?? 0,
      nearOom: this.nearOom?.state ?? 'off',
      ...this.policy.status(),
    });
  }

  /** Stops at once; the returned promise settles when telemetry has flushed (bounded, never rejects). */
  stop(lastLine?: () => void): Promise<void> {
    if (!this.running) return Promise.resolve();
    try {
      this.tick();
      this.running = false;
      this.stopped = true;
      this.healthServer?.close();
      if (this.timer) clearInterval(this.timer);
      this.sampler?.stop();
      const flushed = this.policy.stop();
      this.logger.log('agent.stopped', { pid: process.pid, uptimeMs: Date.now() - this.startedAt });
      return flushed.catch(() => {}).then(() => {
        lastLine?.();
        this.logger.close();
      });
    } catch (err) {
      this.fail('stop', err);
      return Promise.resolve();
    }
  }

  private fail(where: string, err: unknown): void {
    try {
      this.logger.log('agent.error', { where, message: err instanceof Error ? err.message : String(err) });
    } catch {
      /* the log itself failed; nothing left to tell */
    }
  }
}
