/**
 * Shortest retainer paths from the GC roots: one BFS from the root over retaining edges (weak
 * edges and non-root shortcuts skipped, like the dominator tree). Within one BFS level, edges a
 * person recognises (properties, elements, context variables) are followed before V8-internal and
 * hidden ones, so among equally short paths the readable one wins — DevTools does the same.
 *
 * The BFS also gives every node a 32-bit hash of its path shape (names, not indices or string
 * contents; runs of the same hop collapsed so a linked list of any length hashes alike). Those
 * hashes compare across two snapshots of one process, whose string indices differ.
 */
import type { HeapSnapshot } from './snapshot';

export interface RetainerIndex {
  /** Edge ordinal by which BFS first reached each node; NONE for the root and unreached nodes. */
  parentEdge: Uint32Array;
  /** Source node of parentEdge. */
  parentNode: Uint32Array;
  /** Distance from the root in edges; NONE when unreachable. */
  distance: Uint32Array;
  pathHash: Uint32Array;
}

export const NONE = 0xffffffff;
const ELEMENT_NAME = 0x9e3779b9;

function mix(h: number, x: number): number {
  h = Math.imul(h ^ x, 0x01000193);
  h ^= h >>> 15;
  return Math.imul(h, 0x85ebca6b) >>> 0;
}

/** Hash of a node's kind: type plus constructor/function name (never a string's contents). */
export function nodeKindHash(s: HeapSnapshot, v: number): number {
  const t = s.nodeType(v);
  if (s.isStringType(t)) return mix(0x1234567, s.nodeString);
  return mix(mix(0x7654321, t), s.strings.hash(s.nodeNameIndex(v)));
}

export function buildRetainerIndex(s: HeapSnapshot): RetainerIndex {
  const n = s.nodeCount;
  const parentEdge = new Uint32Array(n).fill(NONE);
  const parentNode = new Uint32Array(n).fill(NONE);
  const distance = new Uint32Array(n).fill(NONE);
  const pathHash = new Uint32Array(n);
  const lastHop = new Uint32Array(n);
  const { firstEdge, edgeTarget } = s;
  const queue = new Uint32Array(n);
  const root = s.rootIndex;
  distance[root] = 0;
  queue[0] = root;
  let head = 0;
  let tail = 1;
  const internal = s.edgeInternal;
  const hidden = s.edgeHidden;
  // Edge names that are decimal numbers ("419" from a handle scope, hash-table slots) are
  // positions, not names: they hash like element indices so paths compare across snapshots.
  const numericName = digitsOnlyStrings(s);
  while (head < tail) {
    const levelEnd = tail;
    const level = distance[queue[head] as number] as number;
    // Pass 0: readable edges; pass 1: internal and hidden edges.
    for (let pass = 0; pass < 2; pass++) {
      for (let q = head; q < levelEnd; q++) {
        const v = queue[q] as number;
        const end = firstEdge[v + 1] as number;
        for (let e = firstEdge[v] as number; e < end; e++) {
          const w = edgeTarget[e] as number;
          if (distance[w] !== NONE) continue;
          const t = s.edgeType(e);
          if (!s.isEssentialEdge(v, t)) continue;
          const late = t === internal || t === hidden;
          if ((pass === 0) === late) continue;
          distance[w] = level + 1;
          parentEdge[w] = e;
          parentNode[w] = v;
          const nameHash = s.edgeHasIndex(t) || numericName[s.edgeNameOrIndex(e)] === 1 ? ELEMENT_NAME : s.strings.hash(s.edgeNameOrIndex(e));
          const hop = mix(mix(t, nameHash), nodeKindHash(s, w));
          if (hop === lastHop[v]) {
            pathHash[w] = pathHash[v] as number;
          } else {
            pathHash[w] = mix(pathHash[v] as number, hop);
          }
          lastHop[w] = hop;
          queue[tail++] = w;
        }
      }
    }
    head = levelEnd;
  }
  return { parentEdge, parentNode, distance, pathHash };
}

function digitsOnlyStrings(s: HeapSnapshot): Uint8Array {
  const out = new Uint8Array(s.strings.count);
  for (let e = 0; e < s.edgeCount; e++) {
    const t = s.edgeType(e);
    if (s.edgeHasIndex(t)) continue;
    const idx = s.edgeNameOrIndex(e);
    if (out[idx] !== 0) continue;
    out[idx] = /^[0-9]+$/.test(s.strings.get(idx)) ? 1 : 2;
  }
  for (let i = 0; i < out.length; i++) if (out[i] === 2) out[i] = 0;
  return out;
}

/**
 * The retainer chain of `node` as readable strings, from the GC roots down to the node:
 * holder, edge, holder, edge, …, node. The synthetic root itself is left out.
 */
export function retainerPath(s: HeapSnapshot, idx: RetainerIndex, node: number, maxHops = 40): string[] {
  const hops: number[] = [];
  let v = node;
  while (v !== s.rootIndex && idx.parentEdge[v] !== NONE && hops.length < 10_000) {
    hops.push(idx.parentEdge[v] as number);
    v = idx.parentNode[v] as number;
  }
  if (v !== s.rootIndex) return ['(unreachable from GC roots: held only by weak references)', s.nodeLabel(node)];
  hops.reverse();
  // Pairs (edge, node) from the first node below the synthetic root down to the node.
  const pairs: [string, string][] = hops.map((e, i) => [i === 0 ? '' : edgeLabel(s, e), s.nodeLabel(s.edgeTarget[e] as number)]);
  const out: string[] = [];
  let i = 0;
  while (i < pairs.length) {
    const [edge, label] = pairs[i] as [string, string];
    // Runs of the same hop (a linked list: _idleNext → Timeout → _idleNext → Timeout …) read as one.
    let j = i + 1;
    while (j < pairs.length && (pairs[j] as [string, string])[0] === edge && (pairs[j] as [string, string])[1] === label) j++;
    if (edge) out.push(j - i > 1 ? `${edge} (×${j - i})` : edge);
    out.push(label);
    i = j;
  }
  if (out.length > maxHops * 2) out.splice(maxHops, out.length - maxHops * 2, `… ${out.length - maxHops * 2} more …`);
  if (hops.length === 0) out.push(s.nodeLabel(node));
  return out;
}

function edgeLabel(s: HeapSnapshot, e: number): string {
  const t = s.edgeType(e);
  if (s.edgeHasIndex(t)) return `[${s.edgeNameOrIndex(e)}]`;
  const name = s.strings.get(s.edgeNameOrIndex(e));
  const short = name.length > 60 ? name.slice(0, 59) + '…' : name;
  return t === s.edgeWeak ? `(weak) ${short}` : short;
}
