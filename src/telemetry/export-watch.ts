/**
 * Wraps the OTLP exporters so a receiver that is down, slow or answering errors produces exactly
 * one clear agent-log line (`telemetry.export_failed`), then silence until it works again
 * (`telemetry.export_recovered`, with how many exports failed meanwhile). The agent keeps running:
 * metrics are cumulative, so nothing piles up while the receiver is away — the next successful
 * export carries the totals. Memory stays bounded by the exporters' own limits (concurrent
 * exports, log queue size).
 */
import type { AgentLogger } from '../log/logger';

/** The SDK's ExportResult (@opentelemetry/core); code 0 is SUCCESS, 1 FAILED. */
export interface ExportResult {
  code: number;
  error?: Error;
}
const SUCCESS = 0;

export type Signal = 'metrics' | 'logs';

export class ExportWatch {
  private failing = false;
  private failedSince = 0;

  constructor(
    private readonly signal: Signal,
    private readonly endpoint: string,
    private readonly logger: AgentLogger,
    private readonly onFailure: () => void,
  ) {}

  /** Observes one export result; returns it unchanged. */
  see(result: ExportResult): ExportResult {
    if (result.code === SUCCESS) {
      if (this.failing) {
        this.failing = false;
        this.logger.log('telemetry.export_recovered', { signal: this.signal, endpoint: this.endpoint, failedExports: this.failedSince });
      }
      return result;
    }
    this.onFailure();
    if (!this.failing) {
      this.failing = true;
      this.failedSince = 0;
      let message = result.error?.message ?? 'unknown error';
      // The exporter refuses new exports while earlier ones are still pending (being retried or
      // waiting on a slow receiver): name the cause, not only the symptom.
      const status = (result.error as { code?: unknown } | undefined)?.code;
      if (typeof status === 'number') message += ` (HTTP ${status})`;
      if (/retryable status/i.test(message)) message += ' (the receiver answered 429, 502, 503 or 504 until the OTLP timeout ran out)';
      if (/concurrent export limit/i.test(message)) message += ' (earlier exports are still pending: the receiver is slow or answering errors that are being retried)';
      this.logger.log('telemetry.export_failed', {
        signal: this.signal,
        endpoint: this.endpoint,
        message: `exporting ${this.signal} to ${this.endpoint} failed: ${message}; the agent keeps running and retries at each interval (logged once until it recovers)`,
      });
    }
    this.failedSince += 1;
    return result;
  }

  /** Wraps an exporter's export(items, callback) so every result passes through see(). */
  wrap<E extends { export(items: never, cb: (r: ExportResult) => void): void }>(exporter: E): E {
    const original = exporter.export.bind(exporter) as (items: unknown, cb: (r: ExportResult) => void) => void;
    (exporter as unknown as { export: (items: unknown, cb: (r: ExportResult) => void) => void }).export = (items, cb) => {
      try {
        original(items, (result) => cb(this.see(result)));
      } catch (err) {
        cb(this.see({ code: 1, error: err as Error }));
      }
    };
    return exporter;
  }
}
