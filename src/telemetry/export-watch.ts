/**
 * Watches the OTLP exports so a receiver that is down, slow or answering errors produces exactly
 * one clear agent-log line (`telemetry.export_failed`), then silence until it works again
 * (`telemetry.export_recovered`, with how many exports failed meanwhile). The agent keeps running:
 * metrics are cumulative, so nothing piles up while the receiver is away — the next successful
 * export carries the totals. Memory stays bounded: one metric export at a time, a bounded alert
 * queue (otlp-metric-reader.ts, otlp-log-processor.ts).
 */
import type { AgentLogger } from '../log/logger';
import type { PostResult } from './otlp-post';

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

  /** The last export failed: a flush at stop() would only wait out the timeout, so it is skipped. */
  get failingNow(): boolean {
    return this.failing;
  }

  /** Observes one export's outcome. */
  see(result: PostResult): void {
    if (result.ok) {
      if (this.failing) {
        this.failing = false;
        this.logger.log('telemetry.export_recovered', { signal: this.signal, endpoint: this.endpoint, failedExports: this.failedSince });
      }
      return;
    }
    this.onFailure();
    if (!this.failing) {
      this.failing = true;
      this.failedSince = 0;
      const tries = result.attempts > 1 ? ` (${result.attempts} attempts)` : '';
      this.logger.log('telemetry.export_failed', {
        signal: this.signal,
        endpoint: this.endpoint,
        message: `exporting ${this.signal} to ${this.endpoint} failed: ${result.error.message}${tries}; the agent keeps running and retries at each interval (logged once until it recovers)`,
      });
    }
    this.failedSince += 1;
  }
}
