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
 * some OpenTelemetry API copy has registered something. All of them are optional peer dependencies:
 * a configured export whose packages are absent is left out with one line naming them and the
 * command that installs them; the rest of the agent runs.
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
import { installCommand, missingPeers } from '../optional-peers';
import { redactSecrets } from '../log/redact-secrets';
import { AGENT_VERSION } from '../version';
import { ExportWatch } from './export-watch';
import { servePrometheus, type PrometheusEndpoint } from './prometheus-endpoint';
import { createOtlpLogProcessor } from './otlp-log-processor';
import { createOtlpMetricReader } from './otlp-metric-reader';
import { METER_NAME } from './names';

/** Where @opentelemetry/api (major 1) and @opentelemetry/api-logs keep their globals. */
const API_GLOBAL = Symbol.for('opentelemetry.js.api.1');
const LOGS_GLOBAL = Symbol.for('io.opentelemetry.js.api.logs');

/** Set once @opentelemetry/api proved unresolvable from here (a bundled or isolated copy): not retried every tick. */
let apiUnresolvable = false;

/** The application's MeterProvider's meter, if it registered one. */
export function globalMeter(logger?: AgentLogger): Meter | undefined {
  const holder = (globalThis as Record<symbol, { metrics?: unknown } | undefined>)[API_GLOBAL];
  if (!holder?.metrics || apiUnresolvable) return undefined;
  if (missingPeers(['@opentelemetry/api']).length > 0) {
    apiUnresolvable = true;
    reportMissing(logger, ['@opentelemetry/api'], 'the application registered an OpenTelemetry MeterProvider');
    return undefined;
  }
  const api = require('@opentelemetry/api') as typeof ApiModule;
  const meter = api.metrics.getMeter(METER_NAME, AGENT_VERSION);
  // The no-op provider hands out one shared no-op meter; anything else is a real provider.
  return meter === api.createNoopMeter() ? undefined : meter;
}

let apiLogsUnresolvable = false;

/** The application's LoggerProvider's logger, if it registered one. */
export function globalLogger(logger?: AgentLogger): Logger | undefined {
  if ((globalThis as Record<symbol, unknown>)[LOGS_GLOBAL] === undefined || apiLogsUnresolvable) return undefined;
  if (missingPeers(['@opentelemetry/api-logs']).length > 0) {
    apiLogsUnresolvable = true;
    reportMissing(logger, ['@opentelemetry/api-logs'], 'the application registered an OpenTelemetry LoggerProvider');
    return undefined;
  }
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

/** The optional peers each private export needs (the SDKs also need @opentelemetry/api, their own peer). */
const METRICS_SDK = ['@opentelemetry/api', '@opentelemetry/sdk-metrics', '@opentelemetry/resources'];
const LOGS_SDK = ['@opentelemetry/api', '@opentelemetry/api-logs', '@opentelemetry/sdk-logs', '@opentelemetry/resources'];

function metricExporterPackage(target: OtlpTarget): string {
  return target.protocol === 'http/json' ? '@opentelemetry/exporter-metrics-otlp-http' : '@opentelemetry/exporter-metrics-otlp-proto';
}

function logExporterPackage(target: OtlpTarget): string {
  return target.protocol === 'http/json' ? '@opentelemetry/exporter-logs-otlp-http' : '@opentelemetry/exporter-logs-otlp-proto';
}

function listed(items: string[]): string {
  return items.length <= 1 ? items.join('') : `${items.slice(0, -1).join(', ')} and ${items[items.length - 1]}`;
}

function reportMissing(logger: AgentLogger | undefined, missing: string[], what: string): void {
  logger?.log('agent.error', {
    where: 'telemetry',
    missing,
    install: installCommand(missing),
    message: `${what}, but ${listed(missing)} ${missing.length === 1 ? 'is' : 'are'} not installed: that telemetry is off, detection and local evidence run; install with \`${installCommand(missing)}\``,
  });
}

/**
 * The part of `needs` whose packages are installed; for the rest, one line names the missing
 * packages and the install command.
 */
function installedNeeds(needs: PrivateNeeds, logger: AgentLogger): PrivateNeeds {
  const missing = new Set<string>();
  const wanted: string[] = [];
  const usable = <T>(need: T | undefined, label: string, packages: string[]): T | undefined => {
    if (!need) return undefined;
    const absent = missingPeers(packages);
    for (const name of absent) missing.add(name);
    if (absent.length === 0) return need;
    wanted.push(label);
    return undefined;
  };
  const usableNeeds: PrivateNeeds = {
    otlpMetrics: usable(needs.otlpMetrics, 'OTLP metrics', needs.otlpMetrics ? [...METRICS_SDK, metricExporterPackage(needs.otlpMetrics)] : []),
    otlpLogs: usable(needs.otlpLogs, 'OTLP logs', needs.otlpLogs ? [...LOGS_SDK, logExporterPackage(needs.otlpLogs)] : []),
    prometheus: usable(needs.prometheus, 'the Prometheus endpoint', [...METRICS_SDK, '@opentelemetry/exporter-prometheus']),
  };
  if (missing.size > 0) reportMissing(logger, [...missing], `${listed(wanted)} ${wanted.length === 1 ? 'is' : 'are'} configured`);
  return usableNeeds;
}

function resource(config: TelemetryConfig): Resources.Resource {
  const res = require('@opentelemetry/resources') as typeof Resources;
  const attrs: Record<string, string | number> = {
    'process.pid': process.pid,
    'process.runtime.name': 'nodejs',
    'process.runtime.version': process.versions.node,
    // Redacted: an attribute value may be a URL with credentials, and the resource goes with every export.
    ...Object.fromEntries(Object.entries(config.resourceAttributes).map(([k, v]) => [k, redactSecrets(v)])),
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

export function buildPrivateProviders(config: TelemetryConfig, configured: PrivateNeeds, hooks: PrivateHooks): PrivateProviders {
  const needs = installedNeeds(configured, hooks.logger);
  const res = needs.otlpMetrics || needs.otlpLogs || needs.prometheus ? resource(config) : undefined;
  const metricsTo: string[] = [];
  let meterProvider: SdkMetrics.MeterProvider | undefined;
  let loggerProvider: SdkLogs.LoggerProvider | undefined;
  let endpoint: PrometheusEndpoint | undefined;

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
      const served = servePrometheus(prometheus, host, port);
      endpoint = served;
      served.listening.then(
        () => hooks.logger.log('telemetry.prometheus', { url: served.url }),
        (err: Error) => hooks.logger.log('agent.error', {
          where: 'telemetry',
          variable: 'LEAK_AGENT_PROMETHEUS',
          message: `cannot serve Prometheus metrics on ${host.includes(':') ? `[${host}]` : host}:${port}: ${err.message}; the agent keeps running without the pull endpoint`,
        }),
      );
      readers.push(prometheus);
      metricsTo.push(`prometheus ${host.includes(':') ? `[${host}]` : host}:${port}`);
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
      if (endpoint) all.push(endpoint.close());
      await bounded(Promise.allSettled(all), timeoutMs);
    },
  };
}
