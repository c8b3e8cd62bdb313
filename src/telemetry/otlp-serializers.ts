/**
 * The OTLP wire encoders (protobuf and JSON) for metrics and log records.
 *
 * They come from @opentelemetry/otlp-transformer, which every OTLP exporter package depends on.
 * The agent sends through its own transport (otlp-post.ts) but keeps the user's install contract
 * — "install the OTLP exporter package for the protocol you use" — so the transformer is resolved
 * from inside that exporter package, whatever layout the package manager chose.
 */
import { createRequire } from 'node:module';
import type { ISerializer } from '@opentelemetry/otlp-transformer';
import type { ResourceMetrics } from '@opentelemetry/sdk-metrics';
import type { ReadableLogRecord } from '@opentelemetry/sdk-logs';
import type { OtlpProtocol } from '../config/telemetry-env';

type Transformer = typeof import('@opentelemetry/otlp-transformer');

export interface OtlpEncoding<T> {
  readonly contentType: string;
  encode(items: T): Uint8Array | undefined;
}

const EXPORTER_PACKAGE = {
  metrics: { 'http/protobuf': '@opentelemetry/exporter-metrics-otlp-proto', 'http/json': '@opentelemetry/exporter-metrics-otlp-http' },
  logs: { 'http/protobuf': '@opentelemetry/exporter-logs-otlp-proto', 'http/json': '@opentelemetry/exporter-logs-otlp-http' },
} as const;

function transformer(signal: 'metrics' | 'logs', protocol: OtlpProtocol): Transformer {
  const fromExporter = createRequire(require.resolve(EXPORTER_PACKAGE[signal][protocol]));
  return fromExporter('@opentelemetry/otlp-transformer') as Transformer;
}

function encoding<T>(serializer: ISerializer<T, unknown>, contentType: string): OtlpEncoding<T> {
  return { contentType, encode: (items) => serializer.serializeRequest(items) };
}

export function metricsEncoding(protocol: OtlpProtocol): OtlpEncoding<ResourceMetrics> {
  const t = transformer('metrics', protocol);
  return protocol === 'http/json'
    ? encoding(t.JsonMetricsSerializer, 'application/json')
    : encoding(t.ProtobufMetricsSerializer, 'application/x-protobuf');
}

export function logsEncoding(protocol: OtlpProtocol): OtlpEncoding<ReadableLogRecord[]> {
  const t = transformer('logs', protocol);
  return protocol === 'http/json'
    ? encoding(t.JsonLogsSerializer, 'application/json')
    : encoding(t.ProtobufLogsSerializer, 'application/x-protobuf');
}
