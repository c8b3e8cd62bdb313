import { describe, expect, it } from 'vitest';
import { topAllocationSites, type ProfileNode } from '../../src/analysis/heap-profile';

function frame(functionName: string, url: string, line: number, selfSize: number, children: ProfileNode[] = [], id = Math.floor(Math.random() * 1e9)): ProfileNode {
  return { callFrame: { functionName, url, lineNumber: line, columnNumber: 4, scriptId: '1' }, selfSize, id, children };
}

describe('top allocation sites of a sampling heap profile', () => {
  it('sums self sizes per source position across call paths, largest first, with callers', () => {
    const head = frame('(root)', '', -1, 0, [
      frame('main', 'file:///app.js', 9, 0, [
        frame('handle', 'file:///app.js', 20, 4096, [frame('cache', 'file:///lib.js', 3, 65536)]),
        frame('other', 'file:///app.js', 30, 0, [frame('cache', 'file:///lib.js', 3, 32768)]),
      ]),
      frame('(garbage collector)', '', -1, 1024),
    ]);
    const sites = topAllocationSites({ head }, 10);
    expect(sites.map((s) => s.site)).toEqual(['cache (file:///lib.js:4:5)', 'handle (file:///app.js:21:5)', '(garbage collector)']);
    expect(sites[0]?.bytes).toBe(98304);
    expect(sites[0]?.share).toBeCloseTo(98304 / (98304 + 4096 + 1024));
    expect(sites[0]?.callers[0]).toMatch(/^(handle|other) \(file:\/\/\/app\.js/);
    expect(topAllocationSites({ head }, 1)).toHaveLength(1);
  });
});
