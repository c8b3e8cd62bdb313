/**
 * Where the agent's metrics and alert records go.
 *
 * 1. The application registered a global MeterProvider / LoggerProvider → use it; the agent's
 *    figures then travel with the service's own telemetry, under the service's resource.
 * 2. Otherwise, and only when an OTLP endpoint (or LEAK_AGENT_PROMETHEUS) is configured, build
 *    private providers from the configuration and do NOT register them globally (registering would
 *    change what the application's own instrumentation does).
 * 3. Nothing configured → nothing loaded, no exporter, no socket.
 *
 * Every SDK module is required inside the function that needs it: a process that exports nothing
 * never loads the SDK. Even @opentelemetry/api is only loaded once the global object shows that
 * some OpenTelemetry API copy has registered something.
 */
import { isMainThread, threadId } from 'node:worker_threads';
import type { Logger } from '@opentelemetry/api-logs';
import type { Meter } from '@opentelemetry/api';
import type * as ApiModule from '@opentelemetry/api';
import type * as SdkMetrics from '@opentelemetry/sdk-metrics';
import type * as SdkLogs from '@opentelemetry/sdk-logs';
import type * as Resources from '@opentelemetry/resources';
import type { PrometheusExporter as PrometheusExporterT } from '@opentelemetry/exporter-prometheus';
import type { OtlpTarget, TelemetryConfig } from '../config/telemetry-env';
import type { AgentLogger } from '../log/logger';
import { AGENT_VERSION } from '../version';
import { ExportWatch } from './export-watch';
import { createOtlpLogProcessor } from './otlp-log-processor';
import { createOtlpMetricReader } from './otlp-metric-reader';
import { METER_NAME } from './names';

/** Where @opentelemetry/api (major 1) and @opentelemetry/api-logs keep their globals. */
const API_GLOBAL = Symbol.for('opentelemetry.js.api.1');
const LOGS_GLOBAL = Symbol.for('io.opentelemetry.js.api.logs');

/** The application's MeterProvider's meter, if it registered one. */
export function globalMeter(): Meter | undefined {
  const holder = (globalThis as Record<symbol, { metrics?: unknown } | undefined>)[API_GLOBAL];
  if (!holder?.metrics) return undefined;
  const api = require('@opentelemetry/api') as typeof ApiModule;
  const meter = api.metrics.getMeter(METER_NAME, AGENT_VERSION);
  // The no-op provider hands out one shared no-op meter; anything else is a real provider.
  return meter === api.createNoopMeter() ? undefined : meter;
}

/** The application's LoggerProvider's logger, if it registered one. */
export function globalLogger(): Logger | undefined {
  if ((globalThis as Record<symbol, unknown>)[LOGS_GLOBAL] === undefined) return undefined;
  const { logs } = require('@opentelemetry/api-logs') as typeof import('@opentelemetry/api-logs');
  return logs.getLogger(METER_NAME, AGENT_VERSION);
}

export interface PrivateProviders {
  meter: Meter | undefined;
  logger: Logger | undefined;
  /** Human-readable destinations, for the `telemetry.started` line. */
  metricsTo: string[];
  logsTo: string | undefined;
  /** Flushes and shuts everything down; resolves within `timeoutMs` whatever the receivers do. */
  shutdown(timeoutMs: number): Promise<void>;
}

export interface PrivateNeeds {
  otlpMetrics: OtlpTarget | undefined;
  otlpLogs: OtlpTarget | undefined;
  prometheus: TelemetryConfig['prometheus'];
}

export interface PrivateHooks {
  logger: AgentLogger;
  onExportFailure(signal: 'metrics' | 'logs'): void;
}

function resource(config: TelemetryConfig): Resources.Resource {
  const res = require('@opentelemetry/resources') as typeof Resources;
  const attrs: Record<string, string | number> = {
    'process.pid': process.pid,
    'process.runtime.name': 'nodejs',
    'process.runtime.version': process.versions.node,
    ...config.resourceAttributes,
  };
  if (config.serviceName !== undefined) attrs['service.name'] = config.serviceName;
  // Each worker thread runs its own agent; without this its series would collide with the main thread's.
  if (!isMainThread) attrs['thread.id'] = threadId;
  return res.defaultResource().merge(res.resourceFromAttributes(attrs));
}

/** Resolves when `work` settles or after `ms`, whichever is first; never rejects. */
function bounded(work: Promise<unknown>, ms: number): Promise<void> {
  return new Promise((resolve) => {
    // Ref'd on purpose: the host awaits stop(); were nothing else keeping the loop alive, an unref'd
    // wait would let the process exit with the host's own continuation never run (and exit code 13
    // under a top-level await). Bounded, so a slow receiver costs at most `ms`.
    const timer = setTimeout(resolve, ms);
    work.then(
      () => { clearTimeout(timer); resolve(); },
      () => { clearTimeout(timer); resolve(); },
    );
  });
}

export function buildPrivateProviders(config: TelemetryConfig, needs: PrivateNeeds, hooks: PrivateHooks): PrivateProviders {
  const res = resource(config);
  const metricsTo: string[] = [];
  let meterProvider: SdkMetrics.MeterProvider | undefined;
  let loggerProvider: SdkLogs.LoggerProvider | undefined;

  if (needs.otlpMetrics || needs.prometheus) {
    const sdk = require('@opentelemetry/sdk-metrics') as typeof SdkMetrics;
    const readers: SdkMetrics.IMetricReader[] = [];
    if (needs.otlpMetrics) {
      const watch = new ExportWatch('metrics', needs.otlpMetrics.url, hooks.logger, () => hooks.onExportFailure('metrics'));
      readers.push(createOtlpMetricReader(sdk, {
        target: needs.otlpMetrics,
        intervalMs: config.exportIntervalMs,
        exportTimeoutMs: config.exportTimeoutMs,
        watch,
      }));
      metricsTo.push(`otlp ${needs.otlpMetrics.protocol} ${needs.otlpMetrics.url}`);
    }
    if (needs.prometheus) {
      const { PrometheusExporter } = require('@opentelemetry/exporter-prometheus') as typeof import('@opentelemetry/exporter-prometheus');
      const { host, port } = needs.prometheus;
      const prometheus: PrometheusExporterT = new PrometheusExporter({ host, port, preventServerStart: true });
      prometheus.startServer().then(
        () => hooks.logger.log('telemetry.prometheus', { url: `http://${host.includes(':') ? `[${host}]` : host}:${port}/metrics` }),
        (err: Error) => hooks.logger.log('agent.error', {
          where: 'telemetry',
          variable: 'LEAK_AGENT_PROMETHEUS',
          message: `cannot serve Prometheus metrics on ${host}:${port}: ${err.message}; the agent keeps running without the pull endpoint`,
        }),
      );
      readers.push(prometheus);
      metricsTo.push(`prometheus ${host}:${port}`);
    }
    meterProvider = new sdk.MeterProvider({ resource: res, readers });
  }

  let logsTo: string | undefined;
  if (needs.otlpLogs) {
    const sdk = require('@opentelemetry/sdk-logs') as typeof SdkLogs;
    const watch = new ExportWatch('logs', needs.otlpLogs.url, hooks.logger, () => hooks.onExportFailure('logs'));
    loggerProvider = new sdk.LoggerProvider({
      resource: res,
      processors: [createOtlpLogProcessor(needs.otlpLogs, watch)],
    });
    logsTo = `otlp ${needs.otlpLogs.protocol} ${needs.otlpLogs.url}`;
  }

  return {
    meter: meterProvider?.getMeter(METER_NAME, AGENT_VERSION),
    logger: loggerProvider?.getLogger(METER_NAME, AGENT_VERSION),
    metricsTo,
    logsTo,
    async shutdown(timeoutMs) {
      // Flush first (the last figures and any queued alert), then shut down; both bounded in time so
      // a slow or dead receiver cannot hold up the host's own shutdown.
      const all: Promise<unknown>[] = [];
      if (meterProvider) all.push(meterProvider.forceFlush().catch(() => {}).then(() => meterProvider?.shutdown()));
      if (loggerProvider) all.push(loggerProvider.forceFlush().catch(() => {}).then(() => loggerProvider?.shutdown()));
      await bounded(Promise.allSettled(all), timeoutMs);
    },
  };
}
