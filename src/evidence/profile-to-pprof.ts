/**
 * Converts a sampling heap profile (inspector shape) to pprof's protobuf, gzipped — the format
 * `go tool pprof` and Grafana Pyroscope read. `pprof-format` is loaded on first use only.
 *
 * Sample types: `samples/count` (how many sampled objects a stack holds) and `space/bytes` (the
 * bytes they stand for, already scaled by V8's sampler; the default type). One pprof sample per
 * profile node with live bytes; its locations run leaf first, as pprof expects.
 */
import * as zlib from 'node:zlib';
import type { ProfileCallFrame, SamplingHeapProfile, SamplingHeapProfileNode } from './heap-profile-types';

export interface PprofOptions {
  /** Sampling interval in bytes (pprof `period`, with period type space/bytes). */
  intervalBytes: number;
  /** Epoch ms the profile describes (pprof `time_nanos`). */
  timeMs: number;
  /** How long the profiler had been running, in ms (pprof `duration_nanos`). */
  durationMs: number;
}

export function profileToPprof(profile: SamplingHeapProfile, options: PprofOptions): Buffer {
  const pf = require('pprof-format') as typeof import('pprof-format');
  const strings = new pf.StringTable();
  const functions: import('pprof-format').Function[] = [];
  const locations: import('pprof-format').Location[] = [];
  const functionIds = new Map<string, number>();
  const locationIds = new Map<string, number>();

  const locationFor = (frame: ProfileCallFrame): number => {
    const name = frame.functionName || '(anonymous)';
    const fnKey = `${name}\0${frame.url}\0${frame.scriptId}`;
    let fnId = functionIds.get(fnKey);
    if (fnId === undefined) {
      fnId = functions.length + 1;
      functionIds.set(fnKey, fnId);
      functions.push(new pf.Function({ id: fnId, name: strings.dedup(name), systemName: strings.dedup(name), filename: strings.dedup(frame.url) }));
    }
    // Protocol lines and columns are 0-based; pprof's are 1-based (0 = unknown).
    const line = frame.lineNumber >= 0 ? frame.lineNumber + 1 : 0;
    const column = frame.columnNumber >= 0 ? frame.columnNumber + 1 : 0;
    const locKey = `${fnId}:${line}:${column}`;
    let locId = locationIds.get(locKey);
    if (locId === undefined) {
      locId = locations.length + 1;
      locationIds.set(locKey, locId);
      locations.push(new pf.Location({ id: locId, line: [new pf.Line({ functionId: fnId, line, column })] }));
    }
    return locId;
  };

  const samplesPerNode = new Map<number, number>();
  for (const s of profile.samples) samplesPerNode.set(s.nodeId, (samplesPerNode.get(s.nodeId) ?? 0) + 1);

  const samples: import('pprof-format').Sample[] = [];
  // Iterative walk: allocation stacks can be deep enough to make recursion a risk in someone else's process.
  const stack: { node: SamplingHeapProfileNode; path: number[] }[] = [];
  for (const child of profile.head.children) stack.push({ node: child, path: [] });
  while (stack.length > 0) {
    const { node, path } = stack.pop() as { node: SamplingHeapProfileNode; path: number[] };
    const here = [locationFor(node.callFrame), ...path];
    if (node.selfSize > 0) {
      samples.push(new pf.Sample({ locationId: here, value: [samplesPerNode.get(node.id) ?? 0, node.selfSize] }));
    }
    for (const child of node.children) stack.push({ node: child, path: here });
  }

  const encoded = new pf.Profile({
    sampleType: [
      new pf.ValueType({ type: strings.dedup('samples'), unit: strings.dedup('count') }),
      new pf.ValueType({ type: strings.dedup('space'), unit: strings.dedup('bytes') }),
    ],
    sample: samples,
    location: locations,
    function: functions,
    stringTable: strings,
    timeNanos: BigInt(Math.round(options.timeMs)) * 1_000_000n,
    durationNanos: BigInt(Math.max(0, Math.round(options.durationMs))) * 1_000_000n,
    periodType: new pf.ValueType({ type: strings.dedup('space'), unit: strings.dedup('bytes') }),
    period: options.intervalBytes,
    defaultSampleType: strings.dedup('space'),
  }).encode();
  return zlib.gzipSync(encoded);
}
