/**
 * The heap graph over flat typed arrays. A node is its ordinal (0…nodeCount-1), an edge its
 * ordinal (0…edgeCount-1); getters read fields at offsets from the meta — there is no object per
 * heap node. Edges of node i are firstEdge[i]…firstEdge[i+1]-1 (V8 stores them contiguously).
 */
import type { RawSnapshot } from './parser';
import type { SnapshotLayout } from './meta';
import type { StringTable } from './string-table';

export class HeapSnapshot {
  readonly layout: SnapshotLayout;
  readonly nodes: Uint32Array;
  readonly edges: Uint32Array;
  readonly strings: StringTable;
  readonly nodeCount: number;
  readonly edgeCount: number;
  /** Edge ordinal range per node; length nodeCount + 1. */
  readonly firstEdge: Uint32Array;
  /**
   * `to_node` is rewritten in place, once, from a node offset to a node ordinal (divided by the
   * node field count): no second per-edge array. Edge e's target is edges[e * edgeStride + edgeToOffset].
   */
  readonly edgeStride: number;
  readonly edgeToOffset: number;
  readonly rootIndex = 0;
  /** Type ids from meta (-1 when the snapshot has no such type). */
  readonly edgeWeak: number;
  readonly edgeShortcut: number;
  readonly edgeElement: number;
  readonly edgeHidden: number;
  readonly edgeInternal: number;
  readonly nodeSynthetic: number;
  readonly nodeHidden: number;
  readonly nodeObject: number;
  readonly nodeClosure: number;
  readonly nodeString: number;
  readonly nodeConsString: number;
  readonly nodeSlicedString: number;
  readonly nodeArray: number;
  readonly nodeCode: number;
  readonly nodeNative: number;

  constructor(raw: RawSnapshot) {
    const l = raw.layout;
    this.layout = l;
    this.nodes = raw.nodes;
    this.edges = raw.edges;
    this.strings = raw.strings;
    this.nodeCount = raw.nodes.length / l.nodeFieldCount;
    this.edgeCount = raw.edges.length / l.edgeFieldCount;
    const nfc = l.nodeFieldCount;
    const efc = l.edgeFieldCount;
    const first = new Uint32Array(this.nodeCount + 1);
    let e = 0;
    for (let i = 0; i < this.nodeCount; i++) {
      first[i] = e;
      e += raw.nodes[i * nfc + l.nodeEdgeCount] as number;
    }
    first[this.nodeCount] = e;
    this.firstEdge = first;
    const edges = raw.edges;
    for (let o = l.edgeToNode; o < edges.length; o += efc) edges[o] = (edges[o] as number) / nfc;
    this.edgeStride = efc;
    this.edgeToOffset = l.edgeToNode;
    const et = l.edgeTypes;
    const nt = l.nodeTypes;
    this.edgeWeak = et.indexOf('weak');
    this.edgeShortcut = et.indexOf('shortcut');
    this.edgeElement = et.indexOf('element');
    this.edgeHidden = et.indexOf('hidden');
    this.edgeInternal = et.indexOf('internal');
    this.nodeSynthetic = nt.indexOf('synthetic');
    this.nodeHidden = nt.indexOf('hidden');
    this.nodeObject = nt.indexOf('object');
    this.nodeClosure = nt.indexOf('closure');
    this.nodeString = nt.indexOf('string');
    this.nodeConsString = nt.indexOf('concatenated string');
    this.nodeSlicedString = nt.indexOf('sliced string');
    this.nodeArray = nt.indexOf('array');
    this.nodeCode = nt.indexOf('code');
    this.nodeNative = nt.indexOf('native');
  }

  nodeType(i: number): number {
    return this.nodes[i * this.layout.nodeFieldCount + this.layout.nodeType] as number;
  }

  nodeTypeName(i: number): string {
    return this.layout.nodeTypes[this.nodeType(i)] ?? 'unknown';
  }

  nodeNameIndex(i: number): number {
    return this.nodes[i * this.layout.nodeFieldCount + this.layout.nodeName] as number;
  }

  nodeName(i: number): string {
    return this.strings.get(this.nodeNameIndex(i));
  }

  nodeId(i: number): number {
    return this.nodes[i * this.layout.nodeFieldCount + this.layout.nodeId] as number;
  }

  selfSize(i: number): number {
    return this.nodes[i * this.layout.nodeFieldCount + this.layout.nodeSelfSize] as number;
  }

  edgeTo(e: number): number {
    return this.edges[e * this.edgeStride + this.edgeToOffset] as number;
  }

  edgeType(e: number): number {
    return this.edges[e * this.layout.edgeFieldCount + this.layout.edgeType] as number;
  }

  edgeNameOrIndex(e: number): number {
    return this.edges[e * this.layout.edgeFieldCount + this.layout.edgeNameOrIndex] as number;
  }

  /** True when name_or_index of this edge type is a number, not a string index. */
  edgeHasIndex(type: number): boolean {
    return type === this.edgeElement || type === this.edgeHidden;
  }

  edgeName(e: number): string {
    const t = this.edgeType(e);
    const v = this.edgeNameOrIndex(e);
    return this.edgeHasIndex(t) ? `[${v}]` : this.strings.get(v);
  }

  isStringType(t: number): boolean {
    return t === this.nodeString || t === this.nodeConsString || t === this.nodeSlicedString;
  }

  /**
   * Same rule as DevTools: weak edges never retain, and shortcut edges retain only from the root
   * (where they mark the user's global objects); elsewhere they duplicate a real path.
   */
  isEssentialEdge(from: number, type: number): boolean {
    return type !== this.edgeWeak && (type !== this.edgeShortcut || from === this.rootIndex);
  }

  /** Human label of a node for paths and reports: the constructor for objects, the type otherwise. */
  nodeLabel(i: number): string {
    const t = this.nodeType(i);
    if (this.isStringType(t)) return '(string)';
    const name = this.nodeName(i);
    if (t === this.nodeClosure) return name ? `${name}()` : '(anonymous function)';
    if (t === this.nodeObject || t === this.nodeSynthetic) return name || '(object)';
    const tn = this.layout.nodeTypes[t] ?? 'unknown';
    return name ? `(${tn}) ${truncate(name, 60)}` : `(${tn})`;
  }

  /**
   * V8 gives heap objects odd ids from one counter, so an object allocated later in the same
   * process has a higher id. Embedder ("native") and synthetic nodes get ids derived from
   * addresses instead: they carry no allocation order.
   */
  hasOrderedId(i: number): boolean {
    const t = this.nodeType(i);
    return (this.nodeId(i) & 1) === 1 && t !== this.nodeNative && t !== this.nodeSynthetic;
  }

  /** The highest allocation-ordered id (see hasOrderedId). */
  maxNodeId(): number {
    let max = 0;
    for (let i = 0; i < this.nodeCount; i++) if (this.hasOrderedId(i) && this.nodeId(i) > max) max = this.nodeId(i);
    return max;
  }
}

export function truncate(s: string, max: number): string {
  return s.length > max ? s.slice(0, max - 1) + '…' : s;
}
