import { describe, expect, it } from 'vitest';
import type { Verdict } from '../src/detect/verdict';
import { SelfInflictedFilter } from '../src/policy/self-inflicted';

const spike = (memory: 'native' | 'old_space', episodeId: string, at: number): Verdict =>
  ({ kind: 'spike', memory, episodeId, at, sizeBytes: 2e8, beforeBytes: 4e7, afterBytes: 2.4e8 });
const end = (memory: 'native' | 'old_space', episodeId: string, endedAt: number): Verdict =>
  ({ kind: 'episode-end', memory, episodeId, endedAt, reason: 'memory returned to baseline' });

describe('SelfInflictedFilter', () => {
  it('sets aside a native spike right after our own snapshot, and the end of that episode', () => {
    const f = new SelfInflictedFilter(60_000);
    f.noteSnapshots(0, 0);
    f.noteSnapshots(1, 1_000);
    const first = f.filter([spike('native', 'n1', 2_000)], 2_000);
    expect(first.report).toEqual([]);
    expect(first.ignored.map((v) => v.episodeId)).toEqual(['n1']);
    const later = f.filter([end('native', 'n1', 200_000)], 200_000);
    expect(later.report).toEqual([]);
    expect(later.ignored).toHaveLength(1);
  });

  it('reports native verdicts when no snapshot was taken, or once the window has passed', () => {
    const f = new SelfInflictedFilter(60_000);
    f.noteSnapshots(0, 0);
    expect(f.filter([spike('native', 'a', 5_000)], 5_000).report).toHaveLength(1);
    f.noteSnapshots(1, 10_000);
    expect(f.filter([spike('native', 'b', 71_000)], 71_000).report).toHaveLength(1);
    expect(f.filter([end('native', 'b', 90_000)], 90_000).report).toHaveLength(1);
  });

  it('sets aside an external step right after our own snapshot (the evidence writing moves external too)', () => {
    const f = new SelfInflictedFilter(60_000);
    f.noteSnapshots(1, 0);
    const step: Verdict = { kind: 'spike', memory: 'external', episodeId: 'e', at: 9_000, sizeBytes: 4e6, beforeBytes: 2e6, afterBytes: 6e6 };
    expect(f.filter([step], 9_000).ignored).toHaveLength(1);
  });

  it('never sets aside old-space verdicts: a snapshot does not move the JS heap', () => {
    const f = new SelfInflictedFilter(60_000);
    f.noteSnapshots(1, 0);
    expect(f.filter([spike('old_space', 'o', 1_000)], 1_000).report).toHaveLength(1);
  });
});
