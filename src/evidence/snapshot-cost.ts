/**
 * What a heap snapshot will cost, estimated before taking it. Pure: figures in, figures out.
 *
 * The per-node constants were measured with `node bench/snapshot-cost.js` on this project's
 * machine (Node 20.20, 2 cores shared with other jobs, v8.writeHeapSnapshot, heaps of
 * service-like objects). First run, on a quiet machine:
 *
 *   heap used   nodes      heap B/node  file B/node  extra RSS B/node  pause
 *    18.7 MB     442,642      44.3         74.3           508           1.5 s
 *    53.3 MB   1,342,656      41.6         76.1           513           4.6 s
 *   148.2 MB   3,792,656      41.0         76.6           502          16.8 s
 *
 * Over three runs the per-node figures stayed within heap 40.9–44.4, file 74.3–77.2 and extra
 * RSS 496–513 B/node; the pause did not: with the machine's load average at 6–7 it rose to
 * 3.3–6.7 s (19 MB) and 43 s (150 MB), because the snapshot needs a core of its own.
 * DESIGN.md records 500–570 B of extra RSS per node measured earlier on other heaps. Each constant
 * below is rounded to the unsafe side: fewer heap bytes per node means more nodes estimated, and
 * the largest extra-RSS figure seen anywhere is used.
 */

/** Heap bytes per snapshot node (measured 40.9–44.4). */
export const HEAP_BYTES_PER_NODE = 40;
/** Peak extra RSS per node while the snapshot is built and serialized (measured 496–513; DESIGN.md up to 570). */
export const EXTRA_RSS_PER_NODE = 570;
/** Bytes of .heapsnapshot file per node (measured 74.3–77.2). */
export const FILE_BYTES_PER_NODE = 80;
/** Event-loop pause per node on an idle core (measured 3.3–4.4 µs; 2–3× that on a loaded machine). For the log, not the gate. */
export const PAUSE_MS_PER_NODE = 0.0045;

export interface SnapshotEstimate {
  nodes: number;
  extraRssBytes: number;
  fileBytes: number;
  pauseMs: number;
}

/**
 * `heapBytesPerNode` may be lowered by what this process's own earlier snapshots showed
 * (see `calibratedBytesPerNode`); it is never raised above the measured constant.
 */
export function estimateSnapshot(heapUsedBytes: number, heapBytesPerNode = HEAP_BYTES_PER_NODE): SnapshotEstimate {
  const perNode = Math.min(HEAP_BYTES_PER_NODE, Math.max(1, heapBytesPerNode));
  const nodes = Math.ceil(Math.max(0, heapUsedBytes) / perNode);
  return {
    nodes,
    extraRssBytes: nodes * EXTRA_RSS_PER_NODE,
    fileBytes: nodes * FILE_BYTES_PER_NODE,
    pauseMs: Math.round(nodes * PAUSE_MS_PER_NODE),
  };
}

/**
 * After a snapshot, the heap's real bytes per node for this process: heap used just before ÷ the
 * node count in the file. A heap of many small objects (boxed numbers, tiny arrays) has fewer bytes
 * per node than the bench's, so the next estimate must count more nodes. Only ever lowers the
 * constant: heap used includes garbage the snapshot's own GC collected, which inflates the ratio.
 */
export function calibratedBytesPerNode(current: number, heapUsedBefore: number, nodes: number): number {
  if (!(nodes > 0) || !(heapUsedBefore > 0)) return current;
  return Math.min(current, heapUsedBefore / nodes);
}
