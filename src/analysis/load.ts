/**
 * Reads a `.heapsnapshot` or `.heapsnapshot.gz` file through the streaming parser. Gzip is
 * detected from the magic bytes, not the name. Memory: one read buffer plus the typed arrays.
 */
import * as fs from 'node:fs';
import * as zlib from 'node:zlib';
import { SnapshotFormatError } from './errors';
import { SnapshotParser } from './parser';
import { HeapSnapshot } from './snapshot';

export interface LoadOptions {
  /** Called now and then with bytes of the file consumed so far and its size. */
  onProgress?: (readBytes: number, totalBytes: number) => void;
}

const CHUNK = 4 << 20;

export function isGzipFile(path: string): boolean {
  const fd = fs.openSync(path, 'r');
  try {
    const head = Buffer.alloc(2);
    const n = fs.readSync(fd, head, 0, 2, 0);
    return n === 2 && head[0] === 0x1f && head[1] === 0x8b;
  } finally {
    fs.closeSync(fd);
  }
}

/** Parses one snapshot file; a format error names the file (a diff reads several). */
export async function loadSnapshot(path: string, options: LoadOptions = {}): Promise<HeapSnapshot> {
  return parseFile(path, options).catch((err: unknown) => {
    if (err instanceof SnapshotFormatError && !err.message.includes(path)) throw new SnapshotFormatError(`${path}: ${err.message}`);
    throw err;
  });
}

async function parseFile(path: string, options: LoadOptions): Promise<HeapSnapshot> {
  let stat: fs.Stats;
  try {
    stat = fs.statSync(path);
  } catch (err) {
    throw new SnapshotFormatError(`cannot read ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  if (!stat.isFile()) throw new SnapshotFormatError(`${path} is not a file`);
  const total = stat.size;
  const gz = total >= 2 && isGzipFile(path);
  const parser = new SnapshotParser(gz ? null : total);
  let last = 0;
  const progress = (read: number): void => {
    if (options.onProgress && read - last >= 64 << 20) {
      last = read;
      options.onProgress(read, total);
    }
  };
  if (gz) {
    await new Promise<void>((resolve, reject) => {
      const input = fs.createReadStream(path, { highWaterMark: CHUNK });
      const gunzip = zlib.createGunzip({ chunkSize: 1 << 20 });
      input.on('error', reject);
      gunzip.on('error', (err) => reject(new SnapshotFormatError(`corrupted gzip data in ${path}: ${err.message}`)));
      gunzip.on('data', (chunk: Buffer) => {
        try {
          parser.write(chunk);
        } catch (err) {
          input.destroy();
          gunzip.destroy();
          reject(err);
          return;
        }
        progress(input.bytesRead);
      });
      gunzip.on('end', resolve);
      input.pipe(gunzip);
    });
  } else {
    const fd = fs.openSync(path, 'r');
    try {
      const buf = Buffer.allocUnsafe(CHUNK);
      let pos = 0;
      for (;;) {
        const n = fs.readSync(fd, buf, 0, CHUNK, pos);
        if (n === 0) break;
        parser.write(n === CHUNK ? buf : buf.subarray(0, n));
        pos += n;
        progress(pos);
      }
    } finally {
      fs.closeSync(fd);
    }
  }
  options.onProgress?.(total, total);
  return new HeapSnapshot(parser.end());
}
