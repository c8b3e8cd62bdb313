/**
 * The recent post-GC history the policy keeps for evidence (`series.json`): a bounded ring of
 * samples taken after full GCs (old-space after a full GC is the live set; scavenges would only add
 * noise), plus the alert marks. Bounded so the agent's own memory never grows with uptime.
 */
import type { EpisodeSeries } from '../evidence/manifest-types';
import type { GcRecord } from '../sampler/types';
import { heapUsedAfter } from '../sampler/types';
import { oldGenerationAfter } from '../detect/series';

export type HistorySample = EpisodeSeries['samples'][number];
export type AlertMark = EpisodeSeries['alerts'][number];

/** 2048 full GCs: hours of history at typical full-GC rates, ~150 KB of memory at most. */
export const HISTORY_CAPACITY = 2048;
const ALERT_CAPACITY = 64;

export class RecentHistory {
  private readonly samples: HistorySample[] = [];
  private readonly alertMarks: AlertMark[] = [];

  constructor(private readonly capacity = HISTORY_CAPACITY) {}

  /** Adds the full GCs of one drain; `rss` is the process reading taken at the drain. */
  addRecords(records: readonly GcRecord[], rss: number): void {
    for (const r of records) {
      if (r.kind !== 'mark-sweep-compact') continue;
      this.samples.push({
        t: r.startTime + r.duration,
        // The detector's own measure (old generation: every space but the young one), so the chart's
        // trend line and the pair threshold speak of the same bytes as the verdict.
        oldSpace: oldGenerationAfter(r),
        heapUsed: heapUsedAfter(r),
        external: r.external,
        rss,
        gc: r.kind,
        pauseMs: r.duration,
      });
      if (this.samples.length > this.capacity) this.samples.splice(0, this.samples.length - this.capacity);
    }
  }

  addAlert(mark: AlertMark): void {
    this.alertMarks.push(mark);
    if (this.alertMarks.length > ALERT_CAPACITY) this.alertMarks.shift();
  }

  /** The samples since `sinceMs` (epoch ms), oldest first; copies, so callers cannot disturb the ring. */
  recent(sinceMs = 0): HistorySample[] {
    return this.samples.filter((s) => s.t >= sinceMs).map((s) => ({ ...s }));
  }

  alerts(): AlertMark[] {
    return this.alertMarks.map((a) => ({ ...a }));
  }

  /** When the latest full GC ended (epoch ms), or undefined before the first one. */
  latestFullGcAt(): number | undefined {
    return this.samples[this.samples.length - 1]?.t;
  }

  /** Old-space after the latest full GC, or undefined before the first one. */
  latestOldSpace(): number | undefined {
    return this.samples[this.samples.length - 1]?.oldSpace;
  }
}
