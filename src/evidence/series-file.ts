/**
 * Builds `series.json` for an episode: the post-GC history the verdict was made on, the trend line
 * and the alert marks. Pure.
 */
import type { LeakVerdict } from '../detect/verdict';
import type { EpisodeSeries } from './manifest-types';

/**
 * The trend line uses the verdict's Theil–Sen slope and the Theil–Sen intercept (the median of
 * y − slope·(t − t0)) over the same samples, so the line is robust to the same outliers as the slope.
 */
export function buildSeries(
  verdict: LeakVerdict,
  samples: EpisodeSeries['samples'],
  alerts: EpisodeSeries['alerts'],
): EpisodeSeries {
  const slopePerMs = verdict.growthBytesPerSec / 1000;
  const windowStart = verdict.detectedAt - verdict.windowMs;
  const inWindow = samples.filter((s) => s.t >= windowStart);
  let trend: EpisodeSeries['trend'] = null;
  if (inWindow.length > 0) {
    const t0 = (inWindow[0] as EpisodeSeries['samples'][number]).t;
    const residuals = inWindow.map((s) => s.oldSpace - slopePerMs * (s.t - t0)).sort((a, b) => a - b);
    const mid = residuals.length >> 1;
    const intercept = residuals.length % 2 ? (residuals[mid] as number) : ((residuals[mid - 1] as number) + (residuals[mid] as number)) / 2;
    trend = { t0, intercept, slopePerMs };
  } else if (Number.isFinite(slopePerMs)) {
    trend = { t0: verdict.detectedAt, intercept: verdict.currentBytes, slopePerMs };
  }
  return { schema: 'leak-agent/series@1', samples, trend, alerts };
}
