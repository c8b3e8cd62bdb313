/**
 * Streaming `.heapsnapshot` parser: bytes in (any chunking), typed arrays out.
 *
 * Why hand-written: `JSON.parse` needs the whole file as one JS string, which V8 caps near
 * 512 MiB, and builds one JS number per array slot. This tokenizer walks the top-level object
 * byte by byte, writes the `nodes` and `edges` integers straight into Uint32Arrays sized from
 * `snapshot.node_count`/`edge_count`, copies `strings` into a compact byte pool, parses only the
 * small `snapshot` header with JSON.parse, and skips every other section. State lives in fields
 * between chunks so a token may be split anywhere.
 */
import { SnapshotFormatError } from './errors';
import { layoutFromHeader, type SnapshotLayout } from './meta';
import { StringTable } from './string-table';

const enum St {
  Start,
  KeyOrEnd,
  Key,
  Colon,
  Value,
  AfterValue,
  Done,
  Numbers,
  Strings,
  Skip,
}

/** Which numeric array is being filled. */
const enum Arr {
  Nodes,
  Edges,
}

export interface RawSnapshot {
  layout: SnapshotLayout;
  nodes: Uint32Array;
  edges: Uint32Array;
  strings: StringTable;
}

const MAX_HEADER_BYTES = 64 << 20;

function isWs(c: number): boolean {
  return c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09;
}

function describe(c: number): string {
  return c >= 0x20 && c < 0x7f ? `'${String.fromCharCode(c)}'` : `byte 0x${c.toString(16)}`;
}

export class SnapshotParser {
  /** `totalBytes`: the input's size when known; sizes the strings pool in one allocation. */
  constructor(private readonly totalBytes: number | null = null) {}

  private state = St.Start;
  /** Bytes consumed before the current chunk. */
  private base = 0;
  private key = '';
  private keyBytes: number[] = [];
  private seen = new Set<string>();

  // Skipping / capturing a generic JSON value.
  private depth = 0;
  private inStr = false;
  private esc = false;
  private capture: Buffer[] | null = null;
  private captureLen = 0;

  // Numeric arrays.
  private arr = Arr.Nodes;
  private target: Uint32Array = new Uint32Array(0);
  private fill = 0;
  private value = 0;
  private inNumber = false;
  private prevWasValue = false;

  // Strings array.
  private strInside = false;
  private strEsc = false;
  private strHasEsc = false;

  layout: SnapshotLayout | null = null;
  private nodes: Uint32Array | null = null;
  private edges: Uint32Array | null = null;
  private nodesFilled = 0;
  private edgesFilled = 0;
  readonly strings = new StringTable();

  get bytesRead(): number {
    return this.base;
  }

  private fail(msg: string, i: number): never {
    throw new SnapshotFormatError(`${msg} at byte ${this.base + i}`);
  }

  write(chunk: Buffer): void {
    let i = 0;
    const n = chunk.length;
    while (i < n) {
      switch (this.state) {
        case St.Start: {
          const c = chunk[i] as number;
          // Whitespace and a UTF-8 byte order mark may precede the object.
          if (isWs(c) || (this.base + i < 3 && (c === 0xef || c === 0xbb || c === 0xbf))) { i++; break; }
          if (c !== 0x7b) this.fail(`not a heap snapshot: expected '{' but found ${describe(c)}`, i);
          this.state = St.KeyOrEnd;
          i++;
          break;
        }
        case St.KeyOrEnd: {
          const c = chunk[i] as number;
          i++;
          if (isWs(c)) break;
          if (c === 0x22) { this.state = St.Key; this.keyBytes = []; break; }
          if (c === 0x7d) { this.state = St.Done; break; }
          this.fail(`expected a key or '}' but found ${describe(c)}`, i - 1);
          break;
        }
        case St.Key: {
          const c = chunk[i] as number;
          i++;
          if (c === 0x22) {
            this.key = Buffer.from(this.keyBytes).toString('utf8');
            if (this.keyBytes.length > 256) this.fail('top-level key too long', i);
            this.state = St.Colon;
          } else {
            this.keyBytes.push(c);
            if (this.keyBytes.length > 256) this.fail('top-level key too long', i);
          }
          break;
        }
        case St.Colon: {
          const c = chunk[i] as number;
          i++;
          if (isWs(c)) break;
          if (c !== 0x3a) this.fail(`expected ':' after "${this.key}" but found ${describe(c)}`, i - 1);
          this.state = St.Value;
          break;
        }
        case St.Value: {
          const c = chunk[i] as number;
          if (isWs(c)) { i++; break; }
          i = this.beginValue(c, i);
          break;
        }
        case St.AfterValue: {
          const c = chunk[i] as number;
          i++;
          if (isWs(c)) break;
          if (c === 0x2c) { this.state = St.KeyOrEnd; break; }
          if (c === 0x7d) { this.state = St.Done; break; }
          this.fail(`expected ',' or '}' after "${this.key}" but found ${describe(c)}`, i - 1);
          break;
        }
        case St.Done: {
          const c = chunk[i] as number;
          if (!isWs(c) && c !== 0) this.fail(`unexpected ${describe(c)} after the end of the snapshot`, i);
          i++;
          break;
        }
        case St.Numbers:
          i = this.numbers(chunk, i);
          break;
        case St.Strings:
          i = this.stringsArray(chunk, i);
          break;
        case St.Skip:
          i = this.skip(chunk, i);
          break;
      }
    }
    this.base += n;
  }

  private beginValue(c: number, i: number): number {
    const key = this.key;
    if (this.seen.has(key)) this.fail(`duplicate top-level key "${key}"`, i);
    this.seen.add(key);
    if (key === 'nodes' || key === 'edges') {
      if (c !== 0x5b) this.fail(`"${key}" must be an array`, i);
      if (!this.layout) this.fail(`"${key}" comes before "snapshot" (its meta is needed to read it)`, i);
      const layout = this.layout as SnapshotLayout;
      if (key === 'nodes') {
        this.arr = Arr.Nodes;
        this.target = new Uint32Array(layout.nodeCount !== null ? layout.nodeCount * layout.nodeFieldCount : 1 << 16);
      } else {
        this.arr = Arr.Edges;
        this.target = new Uint32Array(layout.edgeCount !== null ? layout.edgeCount * layout.edgeFieldCount : 1 << 16);
      }
      this.fill = 0;
      this.inNumber = false;
      this.prevWasValue = false;
      this.state = St.Numbers;
      return i + 1;
    }
    if (key === 'strings') {
      if (c !== 0x5b) this.fail('"strings" must be an array', i);
      // "strings" comes last in V8's layout: what is left of the file is about its size, so one
      // allocation replaces a chain of doublings (which would briefly need twice the memory).
      if (this.totalBytes !== null && this.nodes && this.edges) this.strings.reserve(this.totalBytes - (this.base + i) + 16);
      this.strInside = false;
      this.prevWasValue = false;
      this.state = St.Strings;
      return i + 1;
    }
    // Everything else is skipped; the header is captured and parsed on its own.
    this.capture = key === 'snapshot' ? [] : null;
    this.captureLen = 0;
    this.depth = 0;
    this.inStr = false;
    this.esc = false;
    this.state = St.Skip;
    return i;
  }

  /** Hot loop: integers separated by commas into the target Uint32Array. */
  private numbers(chunk: Buffer, start: number): number {
    let i = start;
    const n = chunk.length;
    let value = this.value;
    let inNumber = this.inNumber;
    let prev = this.prevWasValue;
    let target = this.target;
    let fill = this.fill;
    while (i < n) {
      const c = chunk[i] as number;
      if (c >= 0x30 && c <= 0x39) {
        value = value * 10 + (c - 0x30);
        inNumber = true;
        i++;
        continue;
      }
      if (inNumber) {
        if (value > 0xffffffff) this.fail(`number ${value} out of range in "${this.key}"`, i);
        if (fill === target.length) {
          if (this.declaredLength() !== null) this.fail(`"${this.key}" has more values than snapshot.${this.key === 'nodes' ? 'node' : 'edge'}_count declares`, i);
          const grown = new Uint32Array(target.length * 2);
          grown.set(target);
          target = grown;
        }
        target[fill++] = value;
        value = 0;
        inNumber = false;
        prev = true;
      }
      if (c === 0x2c) {
        if (!prev) this.fail(`unexpected ',' in "${this.key}"`, i);
        prev = false;
      } else if (c === 0x5d) {
        if (!prev && fill > 0) this.fail(`trailing ',' in "${this.key}"`, i);
        this.target = target;
        this.fill = fill;
        this.finishNumbers(i);
        this.state = St.AfterValue;
        this.value = 0;
        this.inNumber = false;
        return i + 1;
      } else if (!isWs(c)) {
        this.fail(`unexpected ${describe(c)} in "${this.key}" (expected non-negative integers)`, i);
      }
      i++;
    }
    this.value = value;
    this.inNumber = inNumber;
    this.prevWasValue = prev;
    this.target = target;
    this.fill = fill;
    return i;
  }

  private declaredLength(): number | null {
    const layout = this.layout as SnapshotLayout;
    return this.arr === Arr.Nodes ? layout.nodeCount : layout.edgeCount;
  }

  private finishNumbers(i: number): void {
    const layout = this.layout as SnapshotLayout;
    const declared = this.declaredLength();
    const fields = this.arr === Arr.Nodes ? layout.nodeFieldCount : layout.edgeFieldCount;
    const what = this.arr === Arr.Nodes ? 'nodes' : 'edges';
    if (declared !== null && this.fill !== declared * fields) {
      this.fail(`"${what}" has ${this.fill} values but snapshot.${what === 'nodes' ? 'node' : 'edge'}_count × fields = ${declared * fields}`, i);
    }
    if (this.fill % fields !== 0) this.fail(`"${what}" length ${this.fill} is not a multiple of ${fields} fields`, i);
    const arr = this.fill === this.target.length ? this.target : this.target.slice(0, this.fill);
    if (this.arr === Arr.Nodes) { this.nodes = arr; this.nodesFilled = this.fill; }
    else { this.edges = arr; this.edgesFilled = this.fill; }
    this.target = new Uint32Array(0);
  }

  private stringsArray(chunk: Buffer, start: number): number {
    let i = start;
    const n = chunk.length;
    const table = this.strings;
    while (i < n) {
      if (this.strInside) {
        // Copy up to the closing quote; a backslash escapes the next byte (possibly in the next chunk).
        let j = i;
        if (this.strEsc) { this.strEsc = false; j++; }
        let closed = -1;
        let hasEsc = this.strHasEsc;
        while (j < n) {
          const c = chunk[j] as number;
          if (c === 0x22) { closed = j; break; }
          if (c === 0x5c) {
            hasEsc = true;
            if (j + 1 >= n) { this.strEsc = true; j = n; break; }
            j += 2;
            continue;
          }
          j++;
        }
        this.strHasEsc = hasEsc;
        if (closed === -1) {
          table.appendBytes(chunk, i, n);
          return n;
        }
        table.appendBytes(chunk, i, closed);
        table.finishString(this.strHasEsc);
        this.strInside = false;
        this.prevWasValue = true;
        i = closed + 1;
        continue;
      }
      const c = chunk[i] as number;
      if (c === 0x22) {
        if (this.prevWasValue) this.fail('missing \',\' between strings in "strings"', i);
        this.strInside = true;
        this.strHasEsc = false;
        this.strEsc = false;
      } else if (c === 0x2c) {
        if (!this.prevWasValue) this.fail('unexpected \',\' in "strings"', i);
        this.prevWasValue = false;
      } else if (c === 0x5d) {
        this.state = St.AfterValue;
        return i + 1;
      } else if (!isWs(c)) {
        this.fail(`unexpected ${describe(c)} in "strings" (expected JSON strings)`, i);
      }
      i++;
    }
    return i;
  }

  /** Skips one JSON value of any shape (capturing it when it is the header). */
  private skip(chunk: Buffer, start: number): number {
    let i = start;
    const n = chunk.length;
    let depth = this.depth;
    let inStr = this.inStr;
    let esc = this.esc;
    let end = -1;
    for (; i < n; i++) {
      const c = chunk[i] as number;
      if (inStr) {
        if (esc) esc = false;
        else if (c === 0x5c) esc = true;
        else if (c === 0x22) {
          inStr = false;
          if (depth === 0) { end = i + 1; break; }
        }
        continue;
      }
      if (c === 0x22) inStr = true;
      else if (c === 0x7b || c === 0x5b) depth++;
      else if (c === 0x7d || c === 0x5d) {
        if (depth === 0) { end = i; break; } // closing brace of the top level after a scalar
        depth--;
        if (depth === 0) { end = i + 1; break; }
      } else if (c === 0x2c && depth === 0) { end = i; break; }
    }
    const stop = end === -1 ? n : end;
    if (this.capture) {
      this.captureLen += stop - start;
      if (this.captureLen > MAX_HEADER_BYTES) this.fail('"snapshot" header is implausibly large', stop);
      this.capture.push(Buffer.from(chunk.subarray(start, stop)));
    }
    this.depth = depth;
    this.inStr = inStr;
    this.esc = esc;
    if (end === -1) return n;
    if (this.capture) {
      const text = Buffer.concat(this.capture).toString('utf8');
      this.capture = null;
      let header: unknown;
      try {
        header = JSON.parse(text);
      } catch (err) {
        this.fail(`"snapshot" header is not valid JSON (${(err as Error).message})`, stop);
      }
      this.layout = layoutFromHeader(header);
    }
    this.state = St.AfterValue;
    return end;
  }

  /** Call after the last chunk; validates completeness and cross-references. */
  end(): RawSnapshot {
    if (this.base === 0) throw new SnapshotFormatError('empty file: no bytes to parse (was the snapshot interrupted, e.g. the process OOM-killed while writing it?)');
    if (this.state === St.Start) throw new SnapshotFormatError(`empty file: ${this.base} bytes of whitespace and no JSON object`);
    if (this.state !== St.Done) {
      const where = this.state === St.Numbers ? ` inside "${this.key}"` : this.state === St.Strings ? ' inside "strings"' : '';
      throw new SnapshotFormatError(`truncated snapshot: the file ends${where} at byte ${this.base} before the closing '}'`);
    }
    if (!this.layout) throw new SnapshotFormatError('wrong meta: the file has no "snapshot" header with meta');
    if (!this.nodes) throw new SnapshotFormatError('not a heap snapshot: no "nodes" array');
    if (!this.edges) throw new SnapshotFormatError('not a heap snapshot: no "edges" array');
    if (!this.seen.has('strings')) throw new SnapshotFormatError('not a heap snapshot: no "strings" array');
    validate(this.layout, this.nodes, this.nodesFilled, this.edges, this.edgesFilled, this.strings.count);
    return { layout: this.layout, nodes: this.nodes, edges: this.edges, strings: this.strings };
  }
}

/**
 * Cross-checks that make every later index access safe: edge counts sum to the edge total,
 * `to_node` points at a node record, names and types are inside their tables.
 */
function validate(layout: SnapshotLayout, nodes: Uint32Array, nodeLen: number, edges: Uint32Array, edgeLen: number, stringCount: number): void {
  const nfc = layout.nodeFieldCount;
  const efc = layout.edgeFieldCount;
  const nodeCount = nodeLen / nfc;
  const edgeCount = edgeLen / efc;
  if (nodeCount === 0) throw new SnapshotFormatError('not a heap snapshot: it has no nodes');
  let sum = 0;
  const nTypes = layout.nodeTypes.length;
  for (let o = 0; o < nodeLen; o += nfc) {
    sum += nodes[o + layout.nodeEdgeCount] as number;
    if ((nodes[o + layout.nodeType] as number) >= nTypes) throw new SnapshotFormatError(`node ${o / nfc} has type ${nodes[o + layout.nodeType]} outside meta.node_types`);
    if ((nodes[o + layout.nodeName] as number) >= stringCount) throw new SnapshotFormatError(`node ${o / nfc} names string ${nodes[o + layout.nodeName]} but there are only ${stringCount} strings`);
  }
  if (sum !== edgeCount) throw new SnapshotFormatError(`nodes declare ${sum} edges in total but "edges" holds ${edgeCount}`);
  const eTypes = layout.edgeTypes.length;
  const element = layout.edgeTypes.indexOf('element');
  const hidden = layout.edgeTypes.indexOf('hidden');
  for (let o = 0; o < edgeLen; o += efc) {
    const to = edges[o + layout.edgeToNode] as number;
    if (to % nfc !== 0 || to >= nodeLen) throw new SnapshotFormatError(`edge ${o / efc} points to ${to}, which is not a node offset (node fields: ${nfc}, nodes: ${nodeCount})`);
    const t = edges[o + layout.edgeType] as number;
    if (t >= eTypes) throw new SnapshotFormatError(`edge ${o / efc} has type ${t} outside meta.edge_types`);
    if (t !== element && t !== hidden && (edges[o + layout.edgeNameOrIndex] as number) >= stringCount) {
      throw new SnapshotFormatError(`edge ${o / efc} names string ${edges[o + layout.edgeNameOrIndex]} but there are only ${stringCount} strings`);
    }
  }
}
