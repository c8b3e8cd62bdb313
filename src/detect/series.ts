/**
 * The three memory series the detector watches, read from the sampler's records and the process
 * readings. Pure functions of their input.
 */
import type { ProcessMemory } from '../process/memory';
import type { GcRecord, SpaceUsage } from '../sampler/types';

/**
 * Old-generation bytes after a GC: every space except the young generation ("new_space",
 * "new_large_object_space"). Large arrays and Map backing stores live in large_object_space, so
 * old_space alone would miss the leaks that grow them. Space names differ across V8 versions, so we
 * exclude by the "new" prefix rather than list the old ones.
 */
export function oldGenerationAfter(record: GcRecord): number {
  let sum = 0;
  for (const name in record.after) if (!name.startsWith('new')) sum += (record.after[name] as SpaceUsage).used;
  return sum;
}

/** Old-generation bytes before a full GC (0 when the record has no `before`). */
export function oldGenerationBefore(record: GcRecord): number {
  let sum = 0;
  const before = record.before ?? {};
  for (const name in before) if (!name.startsWith('new')) sum += (before[name] as SpaceUsage).used;
  return sum;
}

/**
 * External memory: Buffers, ArrayBuffers and addon allocations reported to V8. Node's `external`
 * already includes `arrayBuffers` (Node docs: "arrayBuffers … is also included in the external
 * value"), so adding them would count every Buffer twice; we take the larger of the two.
 */
export function externalBytes(memory: ProcessMemory): number {
  return Math.max(memory.external, memory.arrayBuffers);
}

/**
 * Native memory: what the process holds outside the V8 heap and outside the external memory V8
 * knows about — RSS minus the committed heap minus external. A leak in an addon or in libuv/OpenSSL
 * state shows here; a Buffer leak shows in `external` and not twice.
 */
export function nativeBytes(memory: ProcessMemory): number {
  return Math.max(0, memory.rss - memory.heapTotal - externalBytes(memory));
}

/** When a GC record's values were true: the end of the pause. */
export function recordTime(record: GcRecord): number {
  return record.startTime + record.duration;
}
