/**
 * The narrow view telemetry needs of the detector: per memory series, its state, growth rate and
 * time to limit. The detector is built separately and reports through `Policy.status()`; this
 * reader accepts what it finds there and ignores what it does not understand, so telemetry works
 * (without detector figures) whether or not a detector is present.
 *
 * Accepted shapes under `status.detector` (or `status.series` directly):
 *   series: [{ memory, state, …figures }, …]
 *   series: { old_space: { state, …figures }, … }
 * Figures: the growth rate is `growthBytesPerSec` or `slopeBytesPerSec`; the time to limit is
 * `timeToLimitSec`, or, when the detector gives only `currentBytes` and `limitBytes`, the time the
 * fitted slope takes to close that gap (only for a positive slope).
 */
import type { SeriesState } from '../detect/verdict';
import { DETECTOR_STATES, MEMORY_SERIES } from './names';

export interface DetectorSeriesView {
  memory: (typeof MEMORY_SERIES)[number];
  state: SeriesState;
  /** Estimated growth in bytes per second (Theil–Sen), when the detector has one. */
  growthBytesPerSec: number | undefined;
  /** Estimated seconds until the limit, when finite. */
  timeToLimitSec: number | undefined;
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null;
const finite = (v: unknown): number | undefined => (typeof v === 'number' && Number.isFinite(v) ? v : undefined);

function one(memory: unknown, entry: Record<string, unknown>): DetectorSeriesView | undefined {
  if (!(MEMORY_SERIES as readonly unknown[]).includes(memory)) return undefined;
  if (!(DETECTOR_STATES as readonly unknown[]).includes(entry.state)) return undefined;
  const growth = finite(entry.growthBytesPerSec) ?? finite(entry.slopeBytesPerSec);
  let timeToLimit = finite(entry.timeToLimitSec);
  const current = finite(entry.currentBytes);
  const limit = finite(entry.limitBytes);
  if (timeToLimit === undefined && growth !== undefined && growth > 0 && current !== undefined && limit !== undefined) {
    timeToLimit = Math.max(0, (limit - current) / growth);
  }
  return {
    memory: memory as DetectorSeriesView['memory'],
    state: entry.state as SeriesState,
    growthBytesPerSec: growth,
    timeToLimitSec: timeToLimit,
  };
}

export function readDetectorSeries(status: Record<string, unknown> | undefined): DetectorSeriesView[] {
  if (!status) return [];
  const holder = isObject(status.detector) ? status.detector : status;
  const series = holder.series;
  const out: DetectorSeriesView[] = [];
  if (Array.isArray(series)) {
    for (const entry of series) if (isObject(entry)) {
      const view = one(entry.memory, entry);
      if (view) out.push(view);
    }
  } else if (isObject(series)) {
    for (const [memory, entry] of Object.entries(series)) if (isObject(entry)) {
      const view = one(memory, entry);
      if (view) out.push(view);
    }
  }
  return out;
}
