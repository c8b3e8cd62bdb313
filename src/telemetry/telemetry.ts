/**
 * The telemetry facade the policy talks to. It owns the collectors and decides, once, where their
 * figures go (see providers.ts). The policy hands it every tick's records and readings and every
 * verdict; nothing here throws into the policy, and nothing here blocks: collection runs inside the
 * SDK's own timers (or a Prometheus scrape), reading figures the policy already has.
 *
 * Binding happens on the first tick rather than at construction: with `node -r leak-agent` the
 * agent loads before the application, and the application registers its SDK while its main module
 * runs — before the first drain. Until something is bound the facade rechecks the global providers
 * on each tick (a property lookup), so a provider registered later is still picked up.
 */
import { isMainThread, threadId } from 'node:worker_threads';
import type { Logger } from '@opentelemetry/api-logs';
import type { Meter } from '@opentelemetry/api';
import type { TelemetryConfig } from '../config/telemetry-env';
import type { Verdict } from '../detect/verdict';
import type { AgentLogger, LogFields } from '../log/logger';
import type { ContainerMemory } from '../process/container';
import type { ProcessMemory } from '../process/memory';
import type { GcRecord } from '../sampler/types';
import { AgentCountersCollector, AgentTallies } from './agent-counters';
import { redactDeep } from '../log/redact-secrets';
import { alertRecord, evidenceReadyRecord, pressureRecord, type AlertPlan, type EvidenceReadyRef, type EvidenceRef, type PressureRef } from './alert-records';
import { PressureCollector, type PressureView } from './pressure-collector';
import type { Collector } from './collector';
import { DetectorCollector } from './detector-collector';
import { readDetectorSeries } from './detector-view';
import { EventLoopCollector } from './event-loop-collector';
import { GcCollector } from './gc-collector';
import { HeapSpacesCollector } from './heap-spaces-collector';
import { ProcessMemoryCollector, type MemoryReadings } from './process-memory-collector';
import { buildPrivateProviders, globalLogger, globalMeter, type PrivateProviders } from './providers';

export interface TelemetryTick {
  records: readonly GcRecord[];
  memory: ProcessMemory;
  container: ContainerMemory | undefined;
}

export interface TelemetryHost {
  logger: AgentLogger;
  /** The policy's status (the detector reports its per-series state there); may lack detector figures. */
  status(): Record<string, unknown> | undefined;
  /** Memory pressure signals (src/pressure), once the policy has them. */
  pressure?: () => PressureView | undefined;
}

/** How long stop() waits for the last export and the shutdown of private providers. */
export const STOP_TIMEOUT_MS = 3_000;

export class Telemetry {
  readonly tallies = new AgentTallies();
  private readonly readings: MemoryReadings = { memory: undefined, container: undefined };
  private readonly gc: GcCollector;
  private readonly collectors: Collector[];
  private decided = false;
  private stopped = false;
  private globalMeterBound = false;
  private privateProviders: PrivateProviders | undefined;
  private alertLogger: Logger | undefined;
  private readonly failedCollectors = new Set<string>();
  /** Telemetry's own lines go through the tap too, so its errors are counted like any other. */
  private readonly logger: AgentLogger;

  constructor(private readonly config: TelemetryConfig, private readonly host: TelemetryHost) {
    this.logger = this.tapLogger(host.logger);
    const fail = (collector: string, err: unknown) => this.collectorFailed(collector, err);
    this.gc = new GcCollector();
    this.collectors = [
      new HeapSpacesCollector(fail),
      this.gc,
      new EventLoopCollector(fail, config.exportIntervalMs),
      new ProcessMemoryCollector(fail, () => this.readings),
      new DetectorCollector(fail, () => readDetectorSeries(this.host.status())),
      new AgentCountersCollector(fail, this.tallies),
      new PressureCollector(fail, () => this.host.pressure?.()),
    ];
  }

  /** Every agent-log line passes through here so the counters match the log by construction. */
  tapLogger(logger: AgentLogger): AgentLogger {
    const tallies = this.tallies;
    return {
      log(event: string, fields?: LogFields) {
        tallies.logEvent(event);
        logger.log(event, fields);
      },
      close() {
        logger.close();
      },
    };
  }

  onTick(tick: TelemetryTick): void {
    if (this.stopped) return;
    try {
      this.readings.memory = tick.memory;
      this.readings.container = tick.container;
      this.bind();
      this.gc.record(tick.records);
    } catch (err) {
      this.collectorFailed('tick', err);
    }
  }

  /** Counts the alert and sends it as a log record (with the evidence locations) where logs go. */
  onVerdict(verdict: Verdict, evidence: readonly EvidenceRef[] = [], plan?: AlertPlan): void {
    if (this.stopped) return;
    try {
      if (verdict.kind === 'leak' || verdict.kind === 'spike') this.tallies.alert(verdict.kind, verdict.memory);
      if (!this.alertLogger) this.bind();
      // Evidence locations may be upload URLs: redacted like the agent log.
      this.alertLogger?.emit(redactDeep(alertRecord(verdict, evidence, plan)));
    } catch (err) {
      this.collectorFailed('alert', err);
    }
  }

  /** Sends an episode's `evidence.ready` (files written, skipped, still to come) as a log record. */
  onEvidenceReady(ready: EvidenceReadyRef): void {
    if (this.stopped) return;
    try {
      if (!this.alertLogger) this.bind();
      this.alertLogger?.emit(redactDeep(evidenceReadyRecord(ready)));
    } catch (err) {
      this.collectorFailed('alert', err);
    }
  }

  /** Sends a `memory.pressure` / `memory.pressure.cleared` crossing as a log record. */
  onPressure(change: PressureRef): void {
    if (this.stopped) return;
    try {
      if (!this.alertLogger) this.bind();
      this.alertLogger?.emit(pressureRecord(change));
    } catch (err) {
      this.collectorFailed('alert', err);
    }
  }

  /** Where telemetry goes, for status(). */
  describe(): { metrics: string[]; logs: string | undefined } {
    const metrics = [...(this.globalMeterBound ? ['global MeterProvider'] : []), ...(this.privateProviders?.metricsTo ?? [])];
    const logs = this.privateProviders?.logsTo ?? (this.alertLogger ? 'global LoggerProvider' : undefined);
    return { metrics, logs };
  }

  async stop(timeoutMs = STOP_TIMEOUT_MS): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    const providers = this.privateProviders;
    try {
      // Flush first while the collectors can still answer, then detach them.
      if (providers) await providers.shutdown(timeoutMs);
    } catch {
      /* shutdown is bounded and best effort */
    } finally {
      for (const c of this.collectors) {
        try { c.disable(); } catch { /* already detached */ }
      }
      this.alertLogger = undefined;
    }
  }

  private bind(): void {
    const firstTime = !this.decided;
    this.decided = true;
    const meters: Meter[] = [];
    if (!this.globalMeterBound && !this.privateProviders?.metricsTo.some((d) => d.startsWith('otlp'))) {
      const meter = globalMeter(this.logger);
      if (meter) {
        this.globalMeterBound = true;
        meters.push(meter);
      }
    }
    if (!this.alertLogger) this.alertLogger = globalLogger(this.logger);

    if (firstTime && !this.config.sdkDisabled) {
      // Private providers only for what the application does not already cover.
      // One process, one pull port: only the main thread's agent serves it (a worker would only hit EADDRINUSE).
      const prometheus = isMainThread ? this.config.prometheus : undefined;
      if (this.config.prometheus && !isMainThread) {
        this.logger.log('telemetry.prometheus_skipped', { threadId, reason: 'worker thread: the main thread serves the Prometheus endpoint' });
      }
      const needs = {
        otlpMetrics: this.globalMeterBound ? undefined : this.config.metrics,
        otlpLogs: this.alertLogger ? undefined : this.config.logs,
        prometheus,
      };
      if (needs.otlpMetrics || needs.otlpLogs || needs.prometheus) {
        this.privateProviders = buildPrivateProviders(this.config, needs, {
          logger: this.logger,
          onExportFailure: (signal) => { this.tallies.exportFailures[signal] += 1; },
        });
        if (this.privateProviders.meter) meters.push(this.privateProviders.meter);
        if (!this.alertLogger) this.alertLogger = this.privateProviders.logger;
      }
    } else if (firstTime && this.config.sdkDisabled && (this.config.metrics || this.config.logs || this.config.prometheus)) {
      this.logger.log('telemetry.disabled', { reason: 'OTEL_SDK_DISABLED=true: no private OpenTelemetry SDK, no OTLP export, no Prometheus endpoint' });
    }

    for (const meter of meters) for (const c of this.collectors) c.enable(meter);
    if (meters.length > 0 || (firstTime && this.alertLogger)) {
      this.logger.log('telemetry.started', this.describe());
    }
  }

  private collectorFailed(collector: string, err: unknown): void {
    if (this.failedCollectors.has(collector)) return;
    this.failedCollectors.add(collector);
    try {
      this.logger.log('agent.error', {
        where: 'telemetry',
        collector,
        message: `telemetry ${collector} failed: ${err instanceof Error ? err.message : String(err)}; further failures of it are not logged`,
      });
    } catch { /* nothing left to tell */ }
  }
}
