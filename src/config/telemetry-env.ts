/**
 * Telemetry settings from the standard OpenTelemetry environment plus `LEAK_AGENT_PROMETHEUS`.
 *
 * Pure: reads a plain env object, returns a frozen config; every bad value is reported through
 * `problem` (one clear line each, logged by the agent) and replaced by the documented default.
 * We resolve endpoints, headers and intervals here instead of letting each SDK piece read the
 * environment on its own, because (a) the decision "is anything configured?" must be made before
 * any SDK module is loaded, and (b) the MeterProvider and the periodic reader do not read
 * OTEL_SERVICE_NAME, OTEL_RESOURCE_ATTRIBUTES or OTEL_METRIC_EXPORT_INTERVAL themselves.
 */
import type { Env, ProblemSink } from './problems';
import { EnvReader } from './read';

export type OtlpProtocol = 'http/protobuf' | 'http/json';

export interface OtlpTarget {
  /** Full URL the exporter posts to (…/v1/metrics or …/v1/logs, or the signal-specific endpoint as given). */
  readonly url: string;
  readonly protocol: OtlpProtocol;
  readonly headers: Readonly<Record<string, string>>;
  readonly timeoutMs: number;
  /** OTEL_EXPORTER_OTLP_[SIGNAL_]COMPRESSION. */
  readonly compression: 'gzip' | 'none';
  /** PEM files for https (OTEL_EXPORTER_OTLP_[SIGNAL_]CERTIFICATE, _CLIENT_CERTIFICATE, _CLIENT_KEY), read when the exporter starts; the variable names are kept for its error line. */
  readonly tls: Readonly<Partial<Record<'ca' | 'cert' | 'key', { readonly variable: string; readonly path: string }>>>;
}

export interface TelemetryConfig {
  /** OTEL_SDK_DISABLED=true: build no private SDK at all (a provider the application registered is still used). */
  readonly sdkDisabled: boolean;
  /** Undefined when no OTLP endpoint is configured for the signal: then no exporter and no network. */
  readonly metrics: OtlpTarget | undefined;
  readonly logs: OtlpTarget | undefined;
  /** OTEL_METRIC_EXPORT_INTERVAL, ms. */
  readonly exportIntervalMs: number;
  /** OTEL_METRIC_EXPORT_TIMEOUT clamped to the interval (the periodic reader refuses a longer one). */
  readonly exportTimeoutMs: number;
  /** OTEL_SERVICE_NAME (wins over service.name in OTEL_RESOURCE_ATTRIBUTES, as the spec says). */
  readonly serviceName: string | undefined;
  readonly resourceAttributes: Readonly<Record<string, string>>;
  /** LEAK_AGENT_PROMETHEUS: where to serve the pull endpoint; undefined = no endpoint. */
  readonly prometheus: { readonly host: string; readonly port: number } | undefined;
}

export type { ProblemSink } from './problems';

const DEFAULT_INTERVAL_MS = 60_000;
const DEFAULT_EXPORT_TIMEOUT_MS = 30_000;
const DEFAULT_OTLP_TIMEOUT_MS = 10_000;
/** Below 100 ms exporting costs the host real CPU; above a day the series is useless. */
const INTERVAL_BOUNDS = { min: 100, max: 86_400_000 };
/** A request that takes more than 10 minutes will not be answered. */
const TIMEOUT_BOUNDS = { min: 1, max: 600_000 };

function raw(env: Env, name: string): string | undefined {
  const v = env[name];
  return v === undefined || v.trim() === '' ? undefined : v.trim();
}

function isHttpUrl(text: string): boolean {
  try {
    const u = new URL(text);
    return u.protocol === 'http:' || u.protocol === 'https:';
  } catch {
    return false;
  }
}

/** `k=v,k2=v2` with percent-encoded values (W3C baggage style), as OTEL_*_HEADERS and OTEL_RESOURCE_ATTRIBUTES use. */
export function parseKeyValueList(text: string): Record<string, string> | undefined {
  const out: Record<string, string> = {};
  for (const part of text.split(',')) {
    if (part.trim() === '') continue;
    const eq = part.indexOf('=');
    if (eq <= 0) return undefined;
    const key = part.slice(0, eq).trim();
    let value: string;
    try {
      value = decodeURIComponent(part.slice(eq + 1).trim());
    } catch {
      return undefined;
    }
    // A line break in a header would split the request; no key or value carries control characters.
    // Keys are HTTP header tokens (attribute keys such as service.name are too).
    if (!/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/.test(key) || /[\u0000-\u001f\u007f]/.test(value)) return undefined;
    out[key] = value;
  }
  return out;
}

/** `9464`, `host:9464`, `[::1]:9464` → host and port; loopback unless a host is given. */
export function parsePrometheusAddress(text: string): { host: string; port: number } | undefined {
  const m = /^(?:(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]+):)?(\d{1,5})$/.exec(text.trim());
  if (!m) return undefined;
  const port = Number(m[2]);
  if (port < 1 || port > 65_535) return undefined;
  const host = m[1] === undefined ? '127.0.0.1' : m[1].replace(/^\[|\]$/g, '');
  return { host, port };
}

function millis(env: Env, name: string, bounds: { min: number; max: number }, fallback: number, problem: ProblemSink): number {
  return new EnvReader(env, problem).millis(name, { ...bounds, fallback });
}

/** The signal's URL under a base endpoint: the path is appended to the base's path, its query kept. */
function signalUrl(base: string, signalPath: string): string {
  const u = new URL(base);
  u.pathname = u.pathname.replace(/\/+$/, '') + '/' + signalPath;
  return u.href;
}

function protocol(env: Env, signal: 'METRICS' | 'LOGS', problem: ProblemSink): OtlpProtocol {
  for (const name of [`OTEL_EXPORTER_OTLP_${signal}_PROTOCOL`, 'OTEL_EXPORTER_OTLP_PROTOCOL']) {
    const v = raw(env, name);
    if (v === undefined) continue;
    if (v === 'http/protobuf' || v === 'http/json') return v;
    problem(name, 'http/protobuf or http/json (grpc is not supported by leak-agent)', 'http/protobuf');
    return 'http/protobuf';
  }
  return 'http/protobuf';
}

function headers(env: Env, signal: 'METRICS' | 'LOGS', problem: ProblemSink): Record<string, string> {
  const merged: Record<string, string> = {};
  // Generic first, signal-specific wins.
  for (const name of ['OTEL_EXPORTER_OTLP_HEADERS', `OTEL_EXPORTER_OTLP_${signal}_HEADERS`]) {
    const v = raw(env, name);
    if (v === undefined) continue;
    const parsed = parseKeyValueList(v);
    // Node refuses header values outside visible Latin-1; refusing here makes it one line at start, not a failure per export.
    if (parsed === undefined || Object.values(parsed).some((value) => !/^[\t\x20-\x7e\x80-\xff]*$/.test(value))) {
      problem(name, 'a list of key=value pairs separated by commas (values percent-encoded, decoding to Latin-1 text)', 'no headers from this variable');
    } else Object.assign(merged, parsed);
  }
  return merged;
}

/** The signal-specific variable if set, else the generic one; with the name that was used. */
function either(r: EnvReader, signal: string, suffix: string): { variable: string; value: string } | undefined {
  for (const variable of [`OTEL_EXPORTER_OTLP_${signal}_${suffix}`, `OTEL_EXPORTER_OTLP_${suffix}`]) {
    const value = r.text(variable, suffix.includes('COMPRESSION') ? 'gzip or none' : 'a PEM file path', suffix.includes('COMPRESSION') ? 'none' : 'the system CA store, no client certificate');
    if (value !== undefined) return { variable, value };
  }
  return undefined;
}

function compression(r: EnvReader, signal: string): 'gzip' | 'none' {
  const c = either(r, signal, 'COMPRESSION');
  if (c === undefined || c.value.toLowerCase() === 'none') return 'none';
  if (c.value.toLowerCase() === 'gzip') return 'gzip';
  r.problem(c.variable, 'gzip or none', 'none');
  return 'none';
}

function tlsFiles(r: EnvReader, signal: string): OtlpTarget['tls'] {
  const out: Partial<Record<'ca' | 'cert' | 'key', { variable: string; path: string }>> = {};
  const files = [['ca', 'CERTIFICATE'], ['cert', 'CLIENT_CERTIFICATE'], ['key', 'CLIENT_KEY']] as const;
  for (const [key, suffix] of files) {
    const f = either(r, signal, suffix);
    if (f !== undefined) out[key] = Object.freeze({ variable: f.variable, path: f.value });
  }
  return Object.freeze(out);
}

function target(env: Env, signal: 'METRICS' | 'LOGS', problem: ProblemSink): OtlpTarget | undefined {
  const exporterVar = signal === 'METRICS' ? 'OTEL_METRICS_EXPORTER' : 'OTEL_LOGS_EXPORTER';
  const exporter = raw(env, exporterVar)?.toLowerCase();
  if (exporter === 'none') return undefined;
  if (exporter !== undefined && exporter !== 'otlp') {
    problem(exporterVar, 'otlp or none', 'otlp when an OTLP endpoint is set');
  }
  const path = signal === 'METRICS' ? 'v1/metrics' : 'v1/logs';
  let url: string | undefined;
  const specific = raw(env, `OTEL_EXPORTER_OTLP_${signal}_ENDPOINT`);
  const generic = raw(env, 'OTEL_EXPORTER_OTLP_ENDPOINT');
  if (specific !== undefined) {
    if (isHttpUrl(specific)) url = specific; // used as given, per the spec
    else problem(`OTEL_EXPORTER_OTLP_${signal}_ENDPOINT`, 'an http:// or https:// URL', generic !== undefined ? 'OTEL_EXPORTER_OTLP_ENDPOINT' : `no ${signal.toLowerCase()} export`);
  }
  if (url === undefined && generic !== undefined) {
    if (isHttpUrl(generic)) url = signalUrl(generic, path);
    else problem('OTEL_EXPORTER_OTLP_ENDPOINT', 'an http:// or https:// URL such as http://localhost:4318', 'no OTLP export');
  }
  if (url === undefined) return undefined;
  return Object.freeze({
    url,
    protocol: protocol(env, signal, problem),
    headers: Object.freeze(headers(env, signal, problem)),
    timeoutMs: millis(env, `OTEL_EXPORTER_OTLP_${signal}_TIMEOUT`, TIMEOUT_BOUNDS, millis(env, 'OTEL_EXPORTER_OTLP_TIMEOUT', TIMEOUT_BOUNDS, DEFAULT_OTLP_TIMEOUT_MS, problem), problem),
    compression: compression(new EnvReader(env, problem), signal),
    tls: tlsFiles(new EnvReader(env, problem), signal),
  });
}

export function readTelemetryConfig(env: Env, report: ProblemSink): TelemetryConfig {
  // Generic variables are read once per signal; report each bad one once.
  const reported = new Set<string>();
  const problem: ProblemSink = (variable, expected, using) => {
    if (reported.has(variable)) return;
    reported.add(variable);
    report(variable, expected, using);
  };
  const r = new EnvReader(env, problem);
  const disabledRaw = raw(env, 'OTEL_SDK_DISABLED')?.toLowerCase();
  if (disabledRaw !== undefined && disabledRaw !== 'true' && disabledRaw !== 'false') {
    problem('OTEL_SDK_DISABLED', 'true or false', 'false');
  }
  const sdkDisabled = disabledRaw === 'true';

  const exportIntervalMs = millis(env, 'OTEL_METRIC_EXPORT_INTERVAL', INTERVAL_BOUNDS, DEFAULT_INTERVAL_MS, problem);
  const exportTimeoutMs = Math.min(millis(env, 'OTEL_METRIC_EXPORT_TIMEOUT', TIMEOUT_BOUNDS, DEFAULT_EXPORT_TIMEOUT_MS, problem), exportIntervalMs);

  let resourceAttributes: Record<string, string> = {};
  const rawResource = raw(env, 'OTEL_RESOURCE_ATTRIBUTES');
  if (rawResource !== undefined) {
    const parsed = parseKeyValueList(rawResource);
    if (parsed === undefined) problem('OTEL_RESOURCE_ATTRIBUTES', 'a list of key=value pairs separated by commas', 'no extra resource attributes');
    else resourceAttributes = parsed;
  }

  let prometheus: TelemetryConfig['prometheus'];
  const rawProm = raw(env, 'LEAK_AGENT_PROMETHEUS');
  if (rawProm !== undefined && !['off', 'false', 'no'].includes(rawProm.toLowerCase())) {
    prometheus = parsePrometheusAddress(rawProm);
    // `0` is not read as "off": to a reader it looks like "any free port", which the endpoint cannot be (Prometheus must know it).
    if (prometheus === undefined) problem('LEAK_AGENT_PROMETHEUS', 'a port from 1 to 65535 (9464), host:port (0.0.0.0:9464, [::1]:9464), or off', 'no Prometheus endpoint');
    else prometheus = Object.freeze(prometheus);
  }

  return Object.freeze({
    sdkDisabled,
    metrics: target(env, 'METRICS', problem),
    logs: target(env, 'LOGS', problem),
    exportIntervalMs,
    exportTimeoutMs,
    serviceName: r.text('OTEL_SERVICE_NAME', 'a service name', 'no service name'),
    resourceAttributes: Object.freeze(resourceAttributes),
    prometheus,
  });
}
