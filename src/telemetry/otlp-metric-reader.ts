/**
 * A periodic OTLP metric reader whose timers and sockets never keep the host alive.
 *
 * The SDK's PeriodicExportingMetricReader unrefs its interval but wraps each export in a ref'd
 * timeout for as long as the export is pending, so a slow collector holds a finished host for up to
 * OTEL_METRIC_EXPORT_TIMEOUT; this reader collects on an unref'd interval and posts through
 * otlp-post.ts. One export at a time: while one is pending the next tick is skipped (cumulative
 * temporality: the next export carries the totals), so nothing piles up behind a slow collector.
 */
import type * as SdkMetrics from '@opentelemetry/sdk-metrics';
import type { OtlpTarget } from '../config/telemetry-env';
import type { ExportWatch } from './export-watch';
import { OtlpPoster } from './otlp-post';
import { metricsEncoding } from './otlp-serializers';

export interface OtlpMetricReaderOptions {
  target: OtlpTarget;
  intervalMs: number;
  /** OTEL_METRIC_EXPORT_TIMEOUT; each export also stays within the target's OTLP timeout. */
  exportTimeoutMs: number;
  watch: ExportWatch;
}

/** Built from the SDK module the caller loaded (the SDK is loaded lazily, so the class is too). */
export function createOtlpMetricReader(sdk: typeof SdkMetrics, options: OtlpMetricReaderOptions): SdkMetrics.MetricReader {
  const encode = metricsEncoding(options.target.protocol);
  const poster = new OtlpPoster(options.target, encode.contentType);
  const deadlineMs = Math.min(options.exportTimeoutMs, options.target.timeoutMs);

  class OtlpMetricReader extends sdk.MetricReader {
    private interval: NodeJS.Timeout | undefined;
    private pending: Promise<void> | undefined;

    protected override onInitialized(): void {
      this.interval = setInterval(() => { void this.exportOnce(); }, options.intervalMs);
      this.interval.unref();
    }

    protected override async onForceFlush(): Promise<void> {
      if (this.pending) await this.pending;
      if (!options.watch.failingNow) await this.exportOnce();
    }

    protected override async onShutdown(): Promise<void> {
      if (this.interval) clearInterval(this.interval);
      await this.onForceFlush();
      poster.close();
    }

    private exportOnce(): Promise<void> {
      if (this.pending) return this.pending;
      this.pending = this.run().finally(() => { this.pending = undefined; });
      return this.pending;
    }

    private async run(): Promise<void> {
      try {
        const { resourceMetrics } = await this.collect({ timeoutMillis: deadlineMs });
        if (resourceMetrics.scopeMetrics.length === 0) return;
        const body = encode.encode(resourceMetrics);
        if (body === undefined) return;
        const result = await poster.post(body, deadlineMs);
        options.watch.see(result);
      } catch (err) {
        options.watch.see({ ok: false, attempts: 1, error: err as Error, retryable: false });
      }
    }
  }
  return new OtlpMetricReader();
}
