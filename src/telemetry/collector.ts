/**
 * The shape every collector has (one collector per file, each owning its instruments): build the
 * instruments on a meter and start observing; stop everything. A collector may be enabled on more
 * than one meter (the application's global provider and a private Prometheus provider at once).
 */
import type { BatchObservableCallback, Meter, Observable } from '@opentelemetry/api';

export interface Collector {
  readonly name: string;
  enable(meter: Meter): void;
  disable(): void;
}

/** Reports a collector failure once per collector, so a broken source cannot flood the agent log. */
export type FailureSink = (collector: string, err: unknown) => void;

/**
 * Registers a batch callback that never throws: the SDK would only log a thrown error, but a
 * callback that throws on every collection still costs work each time, and we want one clear line.
 * Returns the function that unregisters it.
 */
export function observeBatch(
  meter: Meter,
  collector: string,
  instruments: Observable[],
  fail: FailureSink,
  callback: BatchObservableCallback,
): () => void {
  const safe: BatchObservableCallback = (result) => {
    try {
      callback(result);
    } catch (err) {
      fail(collector, err);
    }
  };
  meter.addBatchObservableCallback(safe, instruments);
  return () => meter.removeBatchObservableCallback(safe, instruments);
}

/** Shared bookkeeping for collectors that observe through batch callbacks. */
export abstract class BatchCollector implements Collector {
  abstract readonly name: string;
  private readonly removers: (() => void)[] = [];

  constructor(protected readonly fail: FailureSink) {}

  enable(meter: Meter): void {
    this.removers.push(this.register(meter));
  }

  /** Builds instruments on `meter`, registers the batch callback, returns its remover. */
  protected abstract register(meter: Meter): () => void;

  disable(): void {
    for (const remove of this.removers.splice(0)) {
      try {
        remove();
      } catch {
        /* the provider is already shut down */
      }
    }
  }
}
