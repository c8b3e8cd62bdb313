/**
 * A real OTLP/HTTP receiver on loopback for tests. It decodes both wire formats the agent can send:
 * http/json (OTLP's JSON mapping) and http/protobuf (ExportMetricsServiceRequest /
 * ExportLogsServiceRequest decoded with the OpenTelemetry proto definitions shipped in
 * @elastic/mockotlpserver, through protobufjs). It can also be told to fail: answer errors, answer
 * slowly, or stop listening.
 */
import * as http from 'node:http';
import * as https from 'node:https';
import * as zlib from 'node:zlib';
import * as path from 'node:path';
import type { AddressInfo } from 'node:net';
import protobuf from 'protobufjs';

const PROTO_ROOT = path.join(path.dirname(require.resolve('@elastic/mockotlpserver/package.json')), 'opentelemetry', 'proto');

let root: protobuf.Root | undefined;
function protoRoot(): protobuf.Root {
  if (!root) {
    root = new protobuf.Root();
    root.resolvePath = (_origin, target) => {
      // The service files import "opentelemetry/proto/…"; map those onto the package's folder.
      const rel = target.replace(/^.*opentelemetry\/proto\//, '');
      return path.join(PROTO_ROOT, rel);
    };
    root.loadSync([
      path.join(PROTO_ROOT, 'collector/metrics/v1/metrics_service.proto'),
      path.join(PROTO_ROOT, 'collector/logs/v1/logs_service.proto'),
    ]);
  }
  return root;
}

export type Attributes = Record<string, unknown>;

export interface Point {
  attributes: Attributes;
  /** Sum/gauge value, or for histograms the sum. */
  value: number;
  count?: number;
  bucketCounts?: number[];
  explicitBounds?: number[];
}

export interface ReceivedMetric {
  name: string;
  unit: string;
  kind: 'sum' | 'gauge' | 'histogram' | 'other';
  monotonic?: boolean;
  points: Point[];
  resource: Attributes;
  scope: string;
  receivedAt: number;
}

export interface ReceivedLog {
  eventName: string | undefined;
  severityText: string | undefined;
  severityNumber: number | undefined;
  body: unknown;
  attributes: Attributes;
  resource: Attributes;
}

export interface ReceivedRequest {
  path: string;
  contentType: string;
  contentEncoding?: string;
}

type Mode = { kind: 'ok' } | { kind: 'error'; status: number } | { kind: 'slow'; delayMs: number } | { kind: 'reset' };

/** OTLP AnyValue (JSON or protobuf-toObject shape) → plain JS. */
function anyValue(v: Record<string, unknown> | undefined): unknown {
  if (!v) return undefined;
  if ('stringValue' in v) return v.stringValue;
  if ('intValue' in v) return Number(v.intValue);
  if ('doubleValue' in v) return Number(v.doubleValue);
  if ('boolValue' in v) return v.boolValue;
  if ('arrayValue' in v) return ((v.arrayValue as { values?: Record<string, unknown>[] }).values ?? []).map(anyValue);
  if ('kvlistValue' in v) return attrs((v.kvlistValue as { values?: KeyValue[] }).values);
  return undefined;
}
type KeyValue = { key: string; value?: Record<string, unknown> };
function attrs(list: KeyValue[] | undefined): Attributes {
  const out: Attributes = {};
  for (const kv of list ?? []) out[kv.key] = anyValue(kv.value);
  return out;
}

type Any = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

function numberPoint(p: Any): Point {
  const value = p.asDouble !== undefined ? Number(p.asDouble) : Number(p.asInt ?? 0);
  return { attributes: attrs(p.attributes), value };
}

function metricsFrom(body: Any, receivedAt: number): ReceivedMetric[] {
  const out: ReceivedMetric[] = [];
  for (const rm of body.resourceMetrics ?? []) {
    const resource = attrs(rm.resource?.attributes);
    for (const sm of rm.scopeMetrics ?? []) {
      for (const m of sm.metrics ?? []) {
        const base = { name: m.name as string, unit: (m.unit ?? '') as string, resource, scope: sm.scope?.name ?? '', receivedAt };
        if (m.sum) out.push({ ...base, kind: 'sum', monotonic: Boolean(m.sum.isMonotonic), points: (m.sum.dataPoints ?? []).map(numberPoint) });
        else if (m.gauge) out.push({ ...base, kind: 'gauge', points: (m.gauge.dataPoints ?? []).map(numberPoint) });
        else if (m.histogram) {
          out.push({
            ...base,
            kind: 'histogram',
            points: (m.histogram.dataPoints ?? []).map((p: Any) => ({
              attributes: attrs(p.attributes),
              value: Number(p.sum ?? 0),
              count: Number(p.count ?? 0),
              bucketCounts: (p.bucketCounts ?? []).map(Number),
              explicitBounds: (p.explicitBounds ?? []).map(Number),
            })),
          });
        } else out.push({ ...base, kind: 'other', points: [] });
      }
    }
  }
  return out;
}

function logsFrom(body: Any): ReceivedLog[] {
  const out: ReceivedLog[] = [];
  for (const rl of body.resourceLogs ?? []) {
    const resource = attrs(rl.resource?.attributes);
    for (const sl of rl.scopeLogs ?? []) {
      for (const r of sl.logRecords ?? []) {
        out.push({
          eventName: r.eventName || undefined,
          severityText: r.severityText,
          severityNumber: typeof r.severityNumber === 'number' ? r.severityNumber : undefined,
          body: anyValue(r.body),
          attributes: attrs(r.attributes),
          resource,
        });
      }
    }
  }
  return out;
}

export class OtlpReceiver {
  readonly metrics: ReceivedMetric[] = [];
  readonly logs: ReceivedLog[] = [];
  readonly requests: ReceivedRequest[] = [];
  private mode: Mode = { kind: 'ok' };
  private server: http.Server | undefined;
  private port = 0;
  private scheme = 'http';

  /** `tls`: serve HTTPS with this key and certificate (PEM), e.g. from a test CA. */
  async start(port = 0, tls?: { key: string; cert: string; ca?: string; requestCert?: boolean }): Promise<number> {
    const handler = (req: http.IncomingMessage, res: http.ServerResponse) => this.handle(req, res);
    const server = tls
      ? https.createServer({ key: tls.key, cert: tls.cert, ca: tls.ca, requestCert: tls.requestCert ?? false, rejectUnauthorized: tls.requestCert ?? false }, handler)
      : http.createServer(handler);
    this.scheme = tls ? 'https' : 'http';
    this.server = server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => resolve());
    });
    this.port = (server.address() as AddressInfo).port;
    return this.port;
  }

  get url(): string {
    return `${this.scheme}://127.0.0.1:${this.port}`;
  }

  setMode(mode: Mode): void {
    this.mode = mode;
  }

  async stop(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    if (!server) return;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  /** Metric points with this name (all exports so far), newest export last. */
  named(name: string): ReceivedMetric[] {
    return this.metrics.filter((m) => m.name === name);
  }

  private handle(req: http.IncomingMessage, res: http.ServerResponse): void {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const mode = this.mode;
      if (mode.kind === 'reset') {
        // A middlebox or a crashing collector: the connection dies without an answer.
        req.socket.resetAndDestroy();
        return;
      }
      if (mode.kind === 'error') {
        res.writeHead(mode.status, { 'content-type': 'text/plain' }).end('receiver told to fail');
        return;
      }
      const respond = () => {
        try {
          const encoding = req.headers['content-encoding'];
          const raw = Buffer.concat(chunks);
          this.accept(req.url ?? '', String(req.headers['content-type'] ?? ''), encoding === 'gzip' ? zlib.gunzipSync(raw) : raw, encoding);
          res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
        } catch (err) {
          res.writeHead(400, { 'content-type': 'text/plain' }).end(String(err));
        }
      };
      if (mode.kind === 'slow') setTimeout(respond, mode.delayMs);
      else respond();
    });
  }

  private accept(url: string, contentType: string, body: Buffer, contentEncoding?: string): void {
    this.requests.push({ path: url, contentType, ...(contentEncoding ? { contentEncoding } : {}) });
    const isJson = contentType.includes('json');
    const decode = (typeName: string): Any => {
      if (isJson) return JSON.parse(body.toString('utf8')) as Any;
      const type = protoRoot().lookupType(typeName);
      return type.toObject(type.decode(body), { longs: Number, enums: Number, bytes: String, defaults: false, arrays: true }) as Any;
    };
    if (url.endsWith('/v1/metrics')) {
      this.metrics.push(...metricsFrom(decode('opentelemetry.proto.collector.metrics.v1.ExportMetricsServiceRequest'), Date.now()));
    } else if (url.endsWith('/v1/logs')) {
      this.logs.push(...logsFrom(decode('opentelemetry.proto.collector.logs.v1.ExportLogsServiceRequest')));
    } else {
      throw new Error(`unexpected path ${url}`);
    }
  }
}

/** Polls until `check` returns a value (not undefined) or the deadline passes. */
export async function waitFor<T>(check: () => T | undefined, what: string, timeoutMs = 20_000): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = check();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
