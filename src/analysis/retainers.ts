/**
 * Shortest retainer paths from the GC roots: one BFS from the root over retaining edges (weak
 * edges and non-root shortcuts skipped, like the dominator tree). Within one BFS level, edges a
 * person recognises (properties, elements, context variables) are followed before V8-internal and
 * hidden ones, so among equally short paths the readable one wins — DevTools does the same.
 *
 * The BFS also gives every node a 32-bit hash of the shape of the last four hops of its path
 * (names, not indices or string contents; runs of the same hop collapsed so a linked list of any
 * length hashes alike). Those hashes compare across two snapshots of one process, whose string
 * indices differ.
 */
import { Scratch } from './scratch';
import type { HeapSnapshot } from './snapshot';

export interface RetainerIndex {
  /** Edge ordinal by which BFS first reached each node; NONE for the root and unreached nodes. */
  parentEdge: Uint32Array;
  /** Distance from the root in edges; NONE when unreachable. */
  distance: Uint32Array;
  /** Path-shape hash per node; null when built without (single-snapshot suspects need none). */
  pathHash: Uint32Array | null;
}

export const NONE = 0xffffffff;
const ROOT_MARK = 0xfffffffe;
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

/** Kind hash of every node, computed once (sequential pass) and shared by the BFS and grouping. */
export function nodeKinds(s: HeapSnapshot, scratch: Scratch = new Scratch()): Uint32Array {
  const kinds = scratch.u32(s.nodeCount);
  for (let v = 0; v < s.nodeCount; v++) kinds[v] = nodeKindHash(s, v);
  return kinds;
}

export function buildRetainerIndex(s: HeapSnapshot, kinds: Uint32Array = nodeKinds(s), withHashes = true, scratch: Scratch = new Scratch()): RetainerIndex {
  const n = s.nodeCount;
  const parentEdge = scratch.u32(n).fill(NONE);
  const distance = scratch.u32(n).fill(NONE);
  const pathHash = withHashes ? scratch.u32(n) : null;
  // The last three hops of each node's path: the hash covers a window of the last four
  // hops, not the whole path, so the same holder shape matches across snapshots even when the
  // part near the roots moved (a different stack frame or handle scope at snapshot time).
  const lastHop = withHashes ? scratch.u32(n) : null;
  const hop2 = withHashes ? scratch.u32(n) : null;
  const hop3 = withHashes ? scratch.u32(n) : null;
  const firstEdge = s.firstEdge;
  const edges = s.edges;
  const stride = s.edgeStride;
  const toOff = s.edgeToOffset;
  const typeOff = s.layout.edgeType;
  const nameOff = s.layout.edgeNameOrIndex;
  const queue = scratch.u32(n);
  const root = s.rootIndex;
  const internal = s.edgeInternal;
  const hidden = s.edgeHidden;
  const weak = s.edgeWeak;
  const shortcut = s.edgeShortcut;
  // Edge names that are decimal numbers ("419" from a handle scope, hash-table slots) are
  // positions, not names: they hash like element indices so paths compare across snapshots.
  const numericName = withHashes ? digitsOnlyStrings(s) : new Uint8Array(0);
  const nameHash = (e: number, t: number): number => {
    const name = edges[e * stride + nameOff] as number;
    return s.edgeHasIndex(t) || numericName[name] === 1 ? ELEMENT_NAME : s.strings.hash(name);
  };
  const visit = (v: number, w: number, e: number, t: number, level: number): void => {
    distance[w] = level;
    parentEdge[w] = e;
    queue[tail++] = w;
    if (pathHash === null || lastHop === null || hop2 === null || hop3 === null) return;
    const hop = mix(mix(t, nameHash(e, t)), kinds[w] as number);
    if (hop === lastHop[v]) {
      // A run of the same hop (a linked list) reads as one hop: inherit the parent's window.
      pathHash[w] = pathHash[v] as number;
      lastHop[w] = hop;
      hop2[w] = hop2[v] as number;
      hop3[w] = hop3[v] as number;
      return;
    }
    pathHash[w] = mix(mix(mix(mix(0x2545f491, hop3[v] as number), hop2[v] as number), lastHop[v] as number), hop);
    lastHop[w] = hop;
    hop2[w] = lastHop[v] as number;
    hop3[w] = hop2[v] as number;
  };
  // Internal/hidden edges seen in a level, tried only after the readable ones (one scan per level).
  let late = new Uint32Array(1024);
  distance[root] = 0;
  // parentEdge doubles as the visited mark (the root gets a mark of its own): the per-edge check
  // then reads one array, and distance is only written, once per node.
  parentEdge[root] = ROOT_MARK;
  let level = 0;
  queue[0] = root;
  let head = 0;
  let tail = 1;
  while (head < tail) {
    const levelEnd = tail;
    level++;
    let lateCount = 0;
    for (let q = head; q < levelEnd; q++) {
      const v = queue[q] as number;
      const end = firstEdge[v + 1] as number;
      for (let e = firstEdge[v] as number; e < end; e++) {
        const w = edges[e * stride + toOff] as number;
        if (parentEdge[w] !== NONE) continue;
        const t = edges[e * stride + typeOff] as number;
        if (t === weak || (t === shortcut && v !== root)) continue;
        if (t === internal || t === hidden) {
          if (lateCount + 2 > late.length) {
            const grown = new Uint32Array(late.length * 2);
            grown.set(late);
            late = grown;
          }
          late[lateCount++] = v;
          late[lateCount++] = e;
          continue;
        }
        visit(v, w, e, t, level);
      }
    }
    for (let k = 0; k < lateCount; k += 2) {
      const e = late[k + 1] as number;
      const w = edges[e * stride + toOff] as number;
      if (parentEdge[w] === NONE) visit(late[k] as number, w, e, edges[e * stride + typeOff] as number, level);
    }
    head = levelEnd;
  }
  scratch.release(queue);
  if (lastHop && hop2 && hop3) scratch.release(lastHop, hop2, hop3);
  parentEdge[root] = NONE;
  return { parentEdge, distance, pathHash };
}

/** The node an edge leaves from (binary search in firstEdge; used only to print paths). */
export function edgeSource(s: HeapSnapshot, e: number): number {
  let lo = 0;
  let hi = s.nodeCount - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >>> 1;
    if ((s.firstEdge[mid] as number) <= e) lo = mid;
    else hi = mid - 1;
  }
  return lo;
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
    v = edgeSource(s, idx.parentEdge[v] as number);
  }
  if (v !== s.rootIndex) return ['(unreachable from GC roots: held only by weak references)', s.nodeLabel(node)];
  hops.reverse();
  // Pairs (edge, node) from the first node below the synthetic root down to the node.
  const pairs: [string, string][] = hops.map((e, i) => [i === 0 ? '' : edgeLabel(s, e), s.nodeLabel(s.edgeTo(e))]);
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
