import { describe, expect, it } from 'vitest';
import { buildDominatorTree, retainedSizes } from '../../src/analysis/dominators';
import { csr, reachable, rng } from './graph-helpers';

describe('dominator tree', () => {
  it('matches the textbook example (Lengauer & Tarjan 1979, figure 1)', () => {
    // R=0 A=1 B=2 C=3 D=4 E=5 F=6 G=7 H=8 I=9 J=10 K=11 L=12
    const [R, A, B, C, D, E, F, G, H, I, J, K, L] = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12];
    const g = csr(13, [
      [R, A], [R, B], [R, C], [A, D], [B, A], [B, D], [B, E], [C, F], [C, G], [D, L], [E, H], [F, I], [G, I], [G, J],
      [H, E], [H, K], [I, K], [J, I], [K, I], [K, R], [L, H],
    ]);
    const { idom } = buildDominatorTree(g);
    const expected: Record<number, number> = { [A]: R, [B]: R, [C]: R, [D]: R, [E]: R, [F]: C, [G]: C, [H]: R, [I]: R, [J]: G, [K]: R, [L]: D };
    for (const [v, d] of Object.entries(expected)) expect(idom[Number(v)], `idom of ${v}`).toBe(d);
    expect(idom[R]).toBe(R);
  });

  it('ignores weak edges and hangs weakly-held nodes under the root', () => {
    // 0 → 1 → 2, 0 -weak-> 2 ; 3 only weakly reachable from 1 and holds 4
    const g = csr(5, [[0, 1], [1, 2], [0, 2, true], [1, 3, true], [3, 4]]);
    const { idom } = buildDominatorTree(g);
    expect([...idom]).toEqual([0, 0, 1, 0, 3]);
    const ret = retainedSizes(buildDominatorTree(g), () => 10);
    expect([...ret]).toEqual([50, 20, 10, 20, 10]);
  });

  it('handles a 200,000-node chain without recursion', () => {
    const n = 200_000;
    const edges: [number, number][] = [];
    for (let i = 0; i + 1 < n; i++) edges.push([i, i + 1]);
    const tree = buildDominatorTree(csr(n, edges));
    expect(tree.idom[n - 1]).toBe(n - 2);
    expect(retainedSizes(tree, () => 1)[0]).toBe(n);
  });

  it('retained sizes equal a brute-force removal count on random graphs', () => {
    for (let seed = 1; seed <= 60; seed++) {
      const r = rng(seed);
      const n = 2 + Math.floor(r() * 28);
      const edges: [number, number, boolean?][] = [];
      // A random spanning structure so most nodes are reachable, then random extra edges.
      for (let v = 1; v < n; v++) if (r() < 0.9) edges.push([Math.floor(r() * v), v]);
      const extra = Math.floor(r() * n * 2);
      for (let k = 0; k < extra; k++) edges.push([Math.floor(r() * n), Math.floor(r() * n), r() < 0.15]);
      const g = csr(n, edges);
      const sizes = Array.from({ length: n }, () => 1 + Math.floor(r() * 100));
      const tree = buildDominatorTree(g);
      const retained = retainedSizes(tree, (v) => sizes[v] as number);
      const live = reachable(g);
      for (let v = 0; v < n; v++) {
        if (!live[v]) continue; // weakly-held nodes are attached under the root by design
        const without = reachable(g, v);
        let expected = 0;
        for (let w = 0; w < n; w++) if (live[w] && !without[w]) expected += sizes[w] as number;
        // Unreachable nodes hang under the root: count them for the root only.
        if (v === g.root) for (let w = 0; w < n; w++) if (!live[w]) expected += sizes[w] as number;
        expect(retained[v], `seed ${seed} node ${v}`).toBe(expected);
      }
    }
  });
});
