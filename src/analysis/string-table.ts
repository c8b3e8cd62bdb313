/**
 * The snapshot's `strings` array kept compactly: every string's raw JSON bytes (still escaped) in
 * one growing byte pool plus an offset table. A string is decoded only when someone asks for it,
 * so a table of millions of strings costs about its size in bytes, not millions of JS strings.
 */
export class StringTable {
  private pool: Buffer;
  private used = 0;
  /** offsets[i]..offsets[i+1] are the raw bytes of string i. */
  private offsets: Float64Array;
  /** 1 when string i contains a backslash escape and needs JSON decoding. */
  private escaped: Uint8Array;
  private n = 0;
  private hashes: Uint32Array | null = null;

  constructor(initialBytes = 1 << 20, initialCount = 1 << 14) {
    this.pool = Buffer.allocUnsafe(initialBytes);
    this.offsets = new Float64Array(initialCount + 1);
    this.escaped = new Uint8Array(initialCount);
  }

  get count(): number {
    return this.n;
  }

  get byteLength(): number {
    return this.used;
  }

  /** Grows the pool once to hold about `bytes` (the parser knows how much of the file is left). */
  reserve(bytes: number): void {
    const want = Math.min(bytes, 0x7fffffff);
    if (want <= this.pool.length) return;
    const next = Buffer.allocUnsafe(want);
    this.pool.copy(next, 0, 0, this.used);
    this.pool = next;
  }

  /** Appends raw bytes to the string being built (the parser calls this, possibly several times). */
  appendBytes(src: Buffer, start: number, end: number): void {
    const len = end - start;
    if (this.used + len > this.pool.length) {
      let size = this.pool.length * 2;
      while (size < this.used + len) size *= 2;
      const next = Buffer.allocUnsafe(size);
      this.pool.copy(next, 0, 0, this.used);
      this.pool = next;
    }
    src.copy(this.pool, this.used, start, end);
    this.used += len;
  }

  /** Closes the string being built. */
  finishString(hasEscape: boolean): void {
    if (this.n + 1 >= this.offsets.length) {
      const next = new Float64Array(this.offsets.length * 2);
      next.set(this.offsets);
      this.offsets = next;
      const esc = new Uint8Array(this.escaped.length * 2);
      esc.set(this.escaped);
      this.escaped = esc;
    }
    this.escaped[this.n] = hasEscape ? 1 : 0;
    this.n++;
    this.offsets[this.n] = this.used;
  }

  get(i: number): string {
    if (i < 0 || i >= this.n) return '';
    const start = this.offsets[i] as number;
    const end = this.offsets[i + 1] as number;
    const raw = this.pool.toString('utf8', start, end);
    if (this.escaped[i] === 0) return raw;
    try {
      return JSON.parse('"' + raw + '"') as string;
    } catch {
      return raw;
    }
  }

  /** Raw (still JSON-escaped) byte length of string i. */
  rawLength(i: number): number {
    return (this.offsets[i + 1] as number) - (this.offsets[i] as number);
  }

  /**
   * A 32-bit FNV-1a hash of each string's raw bytes, computed once. Used to compare names across
   * two snapshots, whose string indices differ.
   */
  hash(i: number): number {
    if (!this.hashes) {
      const h = new Uint32Array(this.n);
      const pool = this.pool;
      for (let s = 0; s < this.n; s++) {
        let x = 0x811c9dc5;
        const end = this.offsets[s + 1] as number;
        for (let p = this.offsets[s] as number; p < end; p++) {
          x ^= pool[p] as number;
          x = Math.imul(x, 0x01000193);
        }
        h[s] = x >>> 0;
      }
      this.hashes = h;
    }
    return i >= 0 && i < this.n ? (this.hashes[i] as number) : 0;
  }
}
