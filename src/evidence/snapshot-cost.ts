/**
 * What a heap snapshot will cost, estimated before taking it. Pure: figures in, figures out.
 *
 * The per-node constants were measured with `node bench/snapshot-cost.js` on this project's
 * machine (Node 20.20, 2 cores, v8.writeHeapSnapshot, heaps of service-like objects):
 *
 *   heap used   nodes      heap B/node  file B/node  extra RSS B/node  pause
 *    18.7 MB     442,642      44.3         74.3           508           1.5 s
 *    53.3 MB   1,342,656      41.6         76.1           513           4.6 s
 *   148.2 MB   3,792,656      41.0         76.6           502          16.8 s
 *
 * DESIGN.md records 500–570 B of extra RSS per node measured earlier on other heaps. Each constant
 * below is rounded to the unsafe side: fewer heap bytes per node means more nodes estimated, and
 * the largest extra-RSS figure seen anywhere is used.
 */

/** Heap bytes per snapshot node (measured 41.0–44.3). */
export const HEAP_BYTES_PER_NODE = 40;
/** Peak extra RSS per node while the snapshot is built and serialized (measured 502–513; DESIGN.md up to 570). */
export const EXTRA_RSS_PER_NODE = 570;
/** Bytes of .heapsnapshot file per node (measured 74.3–76.6). */
export const FILE_BYTES_PER_NODE = 80;
/** Event-loop pause per node (measured 3.3–4.4 µs; slower on bigger heaps). For the log, not the gate. */
export const PAUSE_MS_PER_NODE = 0.0045;

export interface SnapshotEstimate {
  nodes: number;
  extraRssBytes: number;
  fileBytes: number;
  pauseMs: number;
}

export function estimateSnapshot(heapUsedBytes: number): SnapshotEstimate {
  const nodes = Math.ceil(Math.max(0, heapUsedBytes) / HEAP_BYTES_PER_NODE);
  return {
    nodes,
    extraRssBytes: nodes * EXTRA_RSS_PER_NODE,
    fileBytes: nodes * FILE_BYTES_PER_NODE,
    pauseMs: Math.round(nodes * PAUSE_MS_PER_NODE),
  };
}
