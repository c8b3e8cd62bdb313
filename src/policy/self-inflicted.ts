/**
 * Memory the agent itself caused must not be reported as the application's.
 *
 * A heap snapshot makes V8 build its own copy of the heap graph outside the JS heap (~500 bytes of
 * RSS per heap node, measured in bench/snapshot-cost.js); glibc keeps much of it mapped afterwards.
 * To the detector that looks exactly like a native-memory step (RSS − heap jumps by hundreds of MB)
 * and, while it is being given back, like native growth. Writing the evidence (gzip of the pprof
 * profile) moves `external` by a few MB too (seen in `npm run demo`: a 4 MB external step 9 s after
 * the snapshot). So after each snapshot the agent took, native and external verdicts are set aside
 * for one detection window, and the end of an episode that was set aside is not announced either.
 * Old-space verdicts never are: a snapshot does not change the JS heap. Pure: the policy tells it
 * when snapshots happened.
 */
import type { Verdict } from '../detect/verdict';

export class SelfInflictedFilter {
  private snapshotsSeen = 0;
  private quietUntil = -Infinity;
  private readonly ignoredEpisodes = new Set<string>();

  constructor(private readonly windowMs: number) {}

  /** Called every tick with the evidence stage's running count of snapshots taken. */
  noteSnapshots(taken: number, now: number): void {
    if (taken > this.snapshotsSeen) this.quietUntil = now + this.windowMs;
    this.snapshotsSeen = taken;
  }

  /** Splits verdicts into those to report and those the agent's own snapshot explains. */
  filter(verdicts: readonly Verdict[], now: number): { report: Verdict[]; ignored: Verdict[] } {
    const report: Verdict[] = [];
    const ignored: Verdict[] = [];
    for (const v of verdicts) {
      if (v.kind === 'episode-end' && this.ignoredEpisodes.delete(v.episodeId)) {
        ignored.push(v);
      } else if (v.memory !== 'old_space' && v.kind !== 'episode-end' && now <= this.quietUntil) {
        this.ignoredEpisodes.add(v.episodeId);
        // Bounded: episodes end, but never let the set grow without limit if they do not.
        if (this.ignoredEpisodes.size > 64) this.ignoredEpisodes.delete(this.ignoredEpisodes.values().next().value as string);
        ignored.push(v);
      } else {
        report.push(v);
      }
    }
    return { report, ignored };
  }
}
