import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as zlib from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { analyzeHeap } from '../../src/analysis/heap-analysis';
import { loadSnapshot } from '../../src/analysis/load';
import { SnapshotFormatError } from '../../src/analysis/errors';
import { SnapshotParser } from '../../src/analysis/parser';
import { HeapSnapshot } from '../../src/analysis/snapshot';
import { retainerPath } from '../../src/analysis/retainers';
import { miniSnapshot, type MiniNode } from './graph-helpers';

// (root) ─element→ (GC roots) ─element→ holder Map ─internal "table"→ array ─element→ Item ×3
//                                       Item[0] ─property "name"→ string with escapes
// (GC roots) ─weak→ Item[2] (must not retain)
function sample(): MiniNode[] {
  return [
    { type: 'synthetic', name: '', id: 1, size: 0, edges: [{ type: 'element', name: 1, to: 1 }, { type: 'shortcut', name: 'global', to: 7 }] },
    { type: 'synthetic', name: '(GC roots)', id: 3, size: 0, edges: [{ type: 'element', name: 1, to: 2 }, { type: 'weak', name: 'cache', to: 6 }] },
    { type: 'object', name: 'Map', id: 5, size: 32, edges: [{ type: 'internal', name: 'table', to: 3 }] },
    { type: 'array', name: '', id: 7, size: 100, edges: [{ type: 'element', name: 0, to: 4 }, { type: 'element', name: 1, to: 5 }, { type: 'element', name: 2, to: 6 }] },
    { type: 'object', name: 'Item', id: 9, size: 40, edges: [{ type: 'property', name: 'name', to: 8 }] },
    { type: 'object', name: 'Item', id: 11, size: 40, edges: [] },
    { type: 'object', name: 'Item', id: 13, size: 40, edges: [] },
    { type: 'object', name: 'global', id: 15, size: 24, edges: [] },
    { type: 'string', name: 'say "hi"\n\u00e9\u{1F600}\\', id: 17, size: 28, edges: [] },
  ];
}

function parseChunked(text: string, chunk: number): HeapSnapshot {
  const p = new SnapshotParser();
  const buf = Buffer.from(text, 'utf8');
  for (let i = 0; i < buf.length; i += chunk) p.write(buf.subarray(i, Math.min(buf.length, i + chunk)));
  return new HeapSnapshot(p.end());
}

function parseError(text: string | Buffer): string {
  const p = new SnapshotParser();
  try {
    p.write(Buffer.isBuffer(text) ? text : Buffer.from(text));
    p.end();
  } catch (err) {
    expect(err).toBeInstanceOf(SnapshotFormatError);
    return (err as Error).message;
  }
  throw new Error('expected a SnapshotFormatError');
}

describe('streaming parser', () => {
  it('gives the same graph for any chunking, both field orders, and decodes escaped strings', () => {
    for (const order of ['v8', 'shuffled'] as const) {
      const text = miniSnapshot(sample(), { fieldOrder: order });
      for (const chunk of [1, 2, 3, 7, 64, 1 << 20]) {
        const s = parseChunked(text, chunk);
        expect(s.nodeCount).toBe(9);
        expect(s.edgeCount).toBe(9);
        expect(s.nodeName(2)).toBe('Map');
        expect(s.nodeId(4)).toBe(9);
        expect(s.selfSize(3)).toBe(100);
        expect(s.nodeName(8)).toBe('say "hi"\n\u00e9\u{1F600}\\');
        expect(s.edgeName(s.firstEdge[2] as number)).toBe('table');
        expect(s.edgeTo(s.firstEdge[2] as number)).toBe(3);
      }
    }
  });

  it('computes retained sizes and retainer paths on a hand-made snapshot', () => {
    const s = parseChunked(miniSnapshot(sample()), 5);
    const a = analyzeHeap(s);
    // The weak edge does not retain: the Map dominates all three items and the string.
    expect(a.retained[2]).toBe(32 + 100 + 3 * 40 + 28);
    expect(a.retained[3]).toBe(100 + 3 * 40 + 28);
    expect(a.retained[4]).toBe(40 + 28);
    expect(a.totalSize).toBe(32 + 100 + 3 * 40 + 28 + 24);
    expect(retainerPath(s, a.retainers, 8)).toEqual(['(GC roots)', '[1]', 'Map', 'table', '(array)', '[0]', 'Item', 'name', '(string)']);
  });

  it('reads .heapsnapshot.gz transparently', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'la-parse-'));
    const file = path.join(dir, 'x.heapsnapshot.gz');
    fs.writeFileSync(file, zlib.gzipSync(miniSnapshot(sample())));
    const s = await loadSnapshot(file);
    expect(s.nodeCount).toBe(9);
    expect(s.nodeName(2)).toBe('Map');
    fs.rmSync(dir, { recursive: true });
  });

  it('rejects empty, truncated, corrupted and wrong-meta files with a clear message', () => {
    const good = miniSnapshot(sample());
    expect(parseError('')).toMatch(/empty file/);
    expect(parseError('  \n ')).toMatch(/empty file/);
    expect(parseError(good.slice(0, good.indexOf('"edges"') + 20))).toMatch(/truncated snapshot.*inside "edges"/);
    expect(parseError(good.slice(0, good.length - 3))).toMatch(/truncated/);
    expect(parseError('<html>nope</html>')).toMatch(/not a heap snapshot/);
    expect(parseError(good.replace('"nodes":[', '"nodes":[x'))).toMatch(/unexpected 'x' in "nodes"/);
    expect(parseError(good.replace('"node_fields":["type",', '"node_fields":["kind",'))).toMatch(/node_fields lacks "type"/);
    expect(parseError(good.replace('"edge_fields":["type","name_or_index","to_node"]', '"edge_fields":["type","name_or_index"]'))).toMatch(/wrong meta/);
    expect(parseError(good.replace(/"node_count":\d+/, '"node_count":3'))).toMatch(/more values than snapshot.node_count/);
    expect(parseError(good.replace(/"edge_count":\d+/, '"edge_count":99'))).toMatch(/"edges" has \d+ values/);
    expect(parseError(good.replace('"snapshot":{', '"snapshot":{{'))).toMatch(/header is not valid JSON/);
    // A to_node that is not a node offset.
    const bad = miniSnapshot([
      { type: 'synthetic', name: '', id: 1, size: 0, edges: [{ type: 'element', name: 1, to: 1 }] },
      { type: 'object', name: 'A', id: 3, size: 1, edges: [] },
    ]).replace(/"edges":\[(\d+),(\d+),(\d+)\]/, '"edges":[$1,$2,5]');
    expect(parseError(bad)).toMatch(/not a node offset/);
    expect(parseError(Buffer.from([0x1f, 0x8b, 0x08, 0x00]))).toMatch(/not a heap snapshot/);
  });
});
