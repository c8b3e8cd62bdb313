/**
 * Redaction: rewrites a snapshot with string contents replaced by same-length placeholders, so
 * tokens, passwords, the process environment and personal data never leave the machine, while the
 * graph (nodes, edges) and every size stay byte-for-byte the same and the analysis still names
 * constructors, functions and retainer paths.
 *
 * Which strings are kept (everything else becomes `xxx…`):
 * - constructor names and V8's own labels: names of object, native, hidden, synthetic, array,
 *   number, bigint and object-shape nodes (`CustomerRecord`, `Map`, `system / Context`);
 * - function names that are code identifiers (`handleRequest`, `get size`, `bound emit`,
 *   `#flush`, `[Symbol.iterator]`), on closure and code nodes; a function named by data
 *   (`{ ["alice@example.com"]: function () {} }`) is redacted;
 * - symbol descriptions shaped like identifiers or dotted names (`kCapture`, `nodejs.rejection`);
 * - names of context, internal and shortcut edges (variable names and V8 field names);
 * - property names shaped like identifiers (`_events`, `table`). A property key holding data
 *   (`cache["alice@example.com"]`) is not identifier-shaped and is redacted.
 * Always redacted: string contents of every kind, and RegExp sources (a pattern often embeds the
 * very token or address it matches). With `all: true` every string is redacted.
 *
 * Two streaming passes: the first parses the snapshot to learn which string indices are kept,
 * the second copies the file byte by byte and rewrites only the `strings` array. The output is
 * created exclusively, never through a link, with the input's mode (a 0600 snapshot stays 0600).
 */
import * as fs from 'node:fs';
import * as zlib from 'node:zlib';
import { isGzipFile, loadSnapshot } from './load';
import type { HeapSnapshot } from './snapshot';

export interface RedactOptions {
  all?: boolean;
  onProgress?: (message: string) => void;
}

export interface RedactResult {
  strings: number;
  redacted: number;
  nodeCount: number;
  edgeCount: number;
}

const IDENTIFIER = /^[A-Za-z_$][\w$]{0,63}$/;
/** A function name as V8 spells one made from code: accessors, bound functions, private and well-known-symbol methods. */
const FUNCTION_NAME = /^(?:(?:get|set|bound) )*(?:#?[A-Za-z_$][\w$]{0,127}|\[Symbol\.[A-Za-z]{1,32}\])$/;
const SYMBOL_DESCRIPTION = /^[A-Za-z_$][\w$.]{0,63}$/;
/** Nodes whose name is V8's label or a constructor name, never data. */
const LABEL_TYPES = new Set(['hidden', 'array', 'object', 'native', 'synthetic', 'number', 'bigint', 'object shape']);
const PLACEHOLDER = 0x78; // 'x'

/** Pure: which string indices stay readable. */
export function keptStrings(s: HeapSnapshot, all = false): Uint8Array {
  const keep = new Uint8Array(s.strings.count);
  if (all) return keep;
  // Per node type: keep the name always (1), when it passes a pattern (a RegExp), or never (0).
  const rule = s.layout.nodeTypes.map((t): 1 | 0 | RegExp => {
    if (LABEL_TYPES.has(t)) return 1;
    if (t === 'closure' || t === 'code') return FUNCTION_NAME;
    if (t === 'symbol') return SYMBOL_DESCRIPTION;
    return 0; // strings of every kind, regexp sources, and types this version does not know
  });
  const nameChecked = new Uint8Array(s.strings.count);
  for (let v = 0; v < s.nodeCount; v++) {
    const r = rule[s.nodeType(v)] ?? 0;
    if (r === 0) continue;
    const idx = s.nodeNameIndex(v);
    if (r === 1) keep[idx] = 1;
    else if ((nameChecked[idx] & (r === FUNCTION_NAME ? 1 : 2)) === 0) {
      nameChecked[idx] |= r === FUNCTION_NAME ? 1 : 2;
      if (r.test(s.strings.get(idx))) keep[idx] = 1;
    }
  }
  const prop = s.layout.edgeTypes.indexOf('property');
  const decided = new Uint8Array(s.strings.count); // property names checked once
  for (let e = 0; e < s.edgeCount; e++) {
    const t = s.edgeType(e);
    if (s.edgeHasIndex(t) || t === s.edgeWeak) continue;
    const idx = s.edgeNameOrIndex(e);
    if (t !== prop) keep[idx] = 1;
    else if (decided[idx] === 0) {
      decided[idx] = 1;
      if (IDENTIFIER.test(s.strings.get(idx))) keep[idx] = 1;
    }
  }
  return keep;
}

/** Pass 2: a byte-level rewriter of the `strings` array; everything else is copied unchanged. */
class StringsRewriter {
  private depth = 0;
  private inStr = false;
  private esc = false;
  private keyBuf: number[] = [];
  private lastKey = '';
  private inStrings = false;
  private awaitingArray = false;
  private index = 0;
  private redactCur = false;
  private units = 0;
  private skipHex = 0;
  redacted = 0;
  private out: Buffer;
  private outLen = 0;

  constructor(private readonly keep: Uint8Array, private readonly sink: (b: Buffer) => void) {
    this.out = Buffer.allocUnsafe(4 << 20);
  }

  private put(c: number): void {
    if (this.outLen === this.out.length) this.flush();
    this.out[this.outLen++] = c;
  }

  flush(): void {
    if (this.outLen > 0) this.sink(Buffer.from(this.out.subarray(0, this.outLen)));
    this.outLen = 0;
  }

  write(chunk: Buffer): void {
    for (let i = 0; i < chunk.length; i++) {
      const c = chunk[i] as number;
      if (this.inStr) {
        if (this.inStrings && this.depth === 2 && this.redactCur) {
          // Count UTF-16 units of the original so the placeholder has the same length.
          if (this.skipHex > 0) { this.skipHex--; continue; }
          if (this.esc) { this.esc = false; if (c === 0x75) this.skipHex = 4; continue; }
          if (c === 0x5c) { this.esc = true; this.units++; continue; }
          if (c === 0x22) {
            this.inStr = false;
            for (let k = 0; k < this.units; k++) this.put(PLACEHOLDER);
            this.put(0x22);
            continue;
          }
          if ((c & 0xc0) !== 0x80) this.units += c >= 0xf0 ? 2 : 1;
          continue;
        }
        this.put(c);
        if (this.esc) { this.esc = false; continue; }
        if (c === 0x5c) { this.esc = true; continue; }
        if (c === 0x22) {
          this.inStr = false;
          if (this.depth === 1) this.lastKey = Buffer.from(this.keyBuf).toString('utf8');
        } else if (this.depth === 1 && this.keyBuf.length < 64) this.keyBuf.push(c);
        continue;
      }
      if (c === 0x22) {
        this.inStr = true;
        this.keyBuf = [];
        if (this.inStrings && this.depth === 2) {
          this.redactCur = this.keep[this.index] !== 1;
          if (this.redactCur) this.redacted++;
          this.index++;
          this.units = 0;
          this.skipHex = 0;
        }
        this.put(c);
        continue;
      }
      this.put(c);
      if (c === 0x3a && this.depth === 1) this.awaitingArray = this.lastKey === 'strings';
      else if (c === 0x7b || c === 0x5b) {
        this.depth++;
        if (this.depth === 2 && c === 0x5b && this.awaitingArray) this.inStrings = true;
        this.awaitingArray = false;
      } else if (c === 0x7d || c === 0x5d) {
        if (this.depth === 2) this.inStrings = false;
        this.depth--;
      }
    }
  }
}

export async function redactSnapshot(input: string, output: string, options: RedactOptions = {}): Promise<RedactResult> {
  const say = options.onProgress ?? ((): void => undefined);
  say(`reading ${input}`);
  const snap = await loadSnapshot(input, {
    onProgress: (read, total) => say(`parsing: ${Math.round(read / 1048576)} / ${Math.round(total / 1048576)} MB`),
  });
  const keep = keptStrings(snap, options.all === true);
  const result = { strings: snap.strings.count, nodeCount: snap.nodeCount, edgeCount: snap.edgeCount };
  say(`writing ${output}`);
  const tmp = `${output}.partial-${process.pid}`;
  // The output holds what the input held minus its strings: as private as the input, exactly
  // (fchmod, whatever the umask), created new and never through a link.
  const mode = fs.statSync(input).mode & 0o777;
  fs.rmSync(tmp, { force: true });
  const { O_WRONLY, O_CREAT, O_EXCL, O_NOFOLLOW } = fs.constants;
  const fd = fs.openSync(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW, mode);
  fs.fchmodSync(fd, mode);
  try {
    const rewriter = new StringsRewriter(keep, (b) => {
      let off = 0;
      while (off < b.length) off += fs.writeSync(fd, b, off);
    });
    const source = fs.createReadStream(input, { highWaterMark: 4 << 20 });
    const stream = isGzipFile(input) ? source.pipe(zlib.createGunzip()) : source;
    for await (const chunk of stream) rewriter.write(chunk as Buffer);
    rewriter.flush();
    fs.closeSync(fd);
    fs.renameSync(tmp, output);
    return { ...result, redacted: rewriter.redacted };
  } catch (err) {
    try { fs.closeSync(fd); } catch { /* already closed */ }
    try { fs.unlinkSync(tmp); } catch { /* nothing to remove */ }
    throw err;
  }
}
