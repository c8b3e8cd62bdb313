/**
 * Sends the agent's alert records to an OTLP logs endpoint, batched, with a bounded queue, on
 * unref'd timers and sockets (the SDK's BatchLogRecordProcessor holds a ref'd timeout for as long
 * as an export is pending; see otlp-metric-reader.ts for why that matters).
 *
 * Alerts are rare and urgent: a record goes out within DELAY_MS; at most MAX_QUEUE records wait
 * while the collector is away (the oldest are dropped first: the agent log keeps every alert).
 */
import type { LogRecordProcessor, ReadableLogRecord } from '@opentelemetry/sdk-logs';
import type { OtlpTarget } from '../config/telemetry-env';
import type { ExportWatch } from './export-watch';
import { OtlpPoster } from './otlp-post';
import { logsEncoding } from './otlp-serializers';

const DELAY_MS = 1_000;
const MAX_QUEUE = 256;
const MAX_BATCH = 64;

export function createOtlpLogProcessor(target: OtlpTarget, watch: ExportWatch): LogRecordProcessor {
  const encode = logsEncoding(target.protocol);
  const poster = new OtlpPoster(target, encode.contentType);
  let queue: ReadableLogRecord[] = [];
  let timer: NodeJS.Timeout | undefined;
  let sending: Promise<void> | undefined;
  let shut = false;

  const sendAll = async (): Promise<void> => {
    while (queue.length > 0) {
      const batch = queue.slice(0, MAX_BATCH);
      queue = queue.slice(MAX_BATCH);
      try {
        const body = encode.encode(batch);
        if (body !== undefined) watch.see(await poster.post(body, target.timeoutMs));
      } catch (err) {
        watch.see({ ok: false, attempts: 1, error: err as Error, retryable: false });
      }
    }
  };
  const flush = (): Promise<void> => {
    if (timer) { clearTimeout(timer); timer = undefined; }
    sending ??= sendAll().finally(() => { sending = undefined; });
    return sending;
  };

  return {
    onEmit(record) {
      if (shut) return;
      if (queue.length >= MAX_QUEUE) queue.shift();
      queue.push(record);
      if (!timer && !sending) {
        timer = setTimeout(() => { timer = undefined; void flush(); }, DELAY_MS);
        timer.unref();
      }
    },
    async forceFlush() {
      if (sending) await sending;
      // A collector that failed the last export would only make the flush wait out the timeout;
      // the alerts are in the agent log either way.
      if (!watch.failingNow) await flush();
    },
    async shutdown() {
      if (shut) return;
      await this.forceFlush();
      shut = true;
      poster.close();
    },
  };
}
