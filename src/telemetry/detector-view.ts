/**
 * The narrow view telemetry needs of the detector: per memory series, its state, growth rate and
 * time to limit. The detector is built separately and reports through `Policy.status()`; this
 * reader accepts what it finds there and ignores what it does not understand, so telemetry works
 * (without detector figures) whether or not a detector is present.
 *
 * Accepted shapes under `status.detector` (or `status.series` directly):
 *   series: [{ memory, state, growthBytesPerSec?, timeToLimitSec? }, …]
 *   series: { old_space: { state, growthBytesPerSec?, timeToLimitSec? }, … }
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
  return {
    memory: memory as DetectorSeriesView['memory'],
    state: entry.state as SeriesState,
    growthBytesPerSec: finite(entry.growthBytesPerSec),
    timeToLimitSec: finite(entry.timeToLimitSec),
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
