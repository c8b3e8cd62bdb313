/**
 * Shape checks for the episode files the report reads. They come from disk — possibly copied,
 * cut short or edited by someone else — so nothing is trusted: what the report cannot work without
 * fails with one line naming the file, the field and what was expected; a display field of the
 * wrong type is only noted (the report shows "—" for it).
 */
import type { EpisodeManifest, EpisodeSeries } from '../evidence/manifest-types';

export class EpisodeError extends Error {
  override readonly name = 'EpisodeError';
}

const SCHEMA = 'leak-agent/episode@1';
const VERDICT_KINDS = ['leak', 'spike', 'episode-end'];
/** The numbers the report prints, per verdict kind. */
const VERDICT_NUMBERS: Record<string, string[]> = {
  leak: ['growthBytesPerSec', 'growthLowerBytesPerSec', 'growthUpperBytesPerSec', 'confidence', 'pValue', 'windowMs', 'points', 'currentBytes', 'limitBytes'],
  spike: ['at', 'sizeBytes', 'beforeBytes', 'afterBytes'],
  'episode-end': ['endedAt'],
};

type Json = Record<string, unknown>;

function isObject(x: unknown): x is Json {
  return typeof x === 'object' && x !== null && !Array.isArray(x);
}

/** What a JSON value is, for messages (never the value itself: it may be long or hostile). */
export function jsonType(x: unknown): string {
  if (x === null) return 'null';
  if (Array.isArray(x)) return 'an array';
  if (x === undefined) return 'missing';
  return typeof x === 'object' ? 'an object' : `a ${typeof x}`;
}

export interface CheckedManifest {
  manifest: EpisodeManifest;
  /** Display fields of the wrong type, named for a note in the report. */
  wrongFields: string[];
}

export function checkManifest(value: unknown, file: string): CheckedManifest {
  const fail = (what: string, expected: string): never => {
    throw new EpisodeError(`${file}: ${what}, expected ${expected}`);
  };
  if (!isObject(value)) return fail(`the manifest is ${jsonType(value)}`, 'a JSON object');
  if (value.schema !== SCHEMA) {
    fail(typeof value.schema === 'string' ? 'unknown "schema"' : `"schema" is ${jsonType(value.schema)}`, `"${SCHEMA}"`);
  }
  const files = value.files;
  if (!Array.isArray(files)) return fail(`"files" is ${jsonType(files)}`, 'an array of evidence files');
  files.forEach((f: unknown, i) => {
    if (!isObject(f)) return fail(`files[${i}] is ${jsonType(f)}`, 'an object with "kind" and "path"');
    if (typeof f.kind !== 'string') fail(`files[${i}].kind is ${jsonType(f.kind)}`, 'a string such as "heapsnapshot"');
    if (typeof f.path !== 'string' || f.path === '') fail(`files[${i}].path is ${f.path === '' ? 'empty' : jsonType(f.path)}`, 'a file path');
    if (f.uri !== undefined && typeof f.uri !== 'string') fail(`files[${i}].uri is ${jsonType(f.uri)}`, 'a string or no "uri"');
    return undefined;
  });
  const verdict = value.verdict;
  if (!isObject(verdict)) return fail(`"verdict" is ${jsonType(verdict)}`, `an object with "kind" ${VERDICT_KINDS.map((k) => `"${k}"`).join(', ')}`);
  if (typeof verdict.kind !== 'string' || !VERDICT_KINDS.includes(verdict.kind)) {
    fail(typeof verdict.kind === 'string' ? 'unknown "verdict.kind"' : `"verdict.kind" is ${jsonType(verdict.kind)}`, VERDICT_KINDS.map((k) => `"${k}"`).join(', '));
  }
  const wrongFields: string[] = [];
  for (const key of VERDICT_NUMBERS[verdict.kind as string] ?? []) {
    if (typeof verdict[key] !== 'number') wrongFields.push(`verdict.${key}`);
  }
  for (const key of ['episodeId', 'createdAt']) if (typeof value[key] !== 'string') wrongFields.push(key);
  return { manifest: value as unknown as EpisodeManifest, wrongFields };
}

/** series.json: an object with a "samples" array of objects. Throws EpisodeError (the report notes it). */
export function checkSeries(value: unknown, file: string): EpisodeSeries {
  if (!isObject(value)) throw new EpisodeError(`${file}: the series is ${jsonType(value)}, expected a JSON object`);
  if (!Array.isArray(value.samples)) throw new EpisodeError(`${file}: "samples" is ${jsonType(value.samples)}, expected an array`);
  if (!value.samples.every(isObject)) throw new EpisodeError(`${file}: "samples" holds a value that is not an object`);
  if (value.alerts !== undefined && !(Array.isArray(value.alerts) && value.alerts.every(isObject))) {
    throw new EpisodeError(`${file}: "alerts" is ${jsonType(value.alerts)}, expected an array of objects`);
  }
  if (value.trend !== undefined && value.trend !== null && !isObject(value.trend)) {
    throw new EpisodeError(`${file}: "trend" is ${jsonType(value.trend)}, expected an object or null`);
  }
  return value as unknown as EpisodeSeries;
}

/**
 * A sampling heap profile (`.heapprofile`): every node of the tree an object with a `callFrame`
 * object, a numeric `selfSize` and a `children` array. Throws EpisodeError (the report notes it).
 */
export function checkHeapProfile(value: unknown, file: string): void {
  const fail = (what: string): never => {
    throw new EpisodeError(`${file} is not a sampling heap profile: ${what}`);
  };
  if (!isObject(value)) fail(`it is ${jsonType(value)}, expected an object with "head"`);
  const stack: unknown[] = [(value as Json).head];
  while (stack.length > 0) {
    const node = stack.pop();
    if (!isObject(node)) return fail('a node is not an object');
    if (!isObject(node.callFrame)) fail(`a node's "callFrame" is ${jsonType(node.callFrame)}, expected an object`);
    if (typeof node.selfSize !== 'number') fail(`a node's "selfSize" is ${jsonType(node.selfSize)}, expected a number`);
    if (!Array.isArray(node.children)) return fail(`a node's "children" is ${jsonType(node.children)}, expected an array`);
    for (const child of node.children) stack.push(child);
  }
}
