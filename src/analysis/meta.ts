/**
 * `snapshot.meta` read from the file: which fields a node and an edge have, in what order, and
 * the enums of node and edge types. Nothing here is assumed; a snapshot whose meta lacks a field
 * the analysis needs is rejected with a message naming it.
 */
import { SnapshotFormatError } from './errors';

export interface SnapshotLayout {
  nodeFields: string[];
  edgeFields: string[];
  nodeTypes: string[];
  edgeTypes: string[];
  nodeFieldCount: number;
  edgeFieldCount: number;
  /** Offsets of the fields inside one node / one edge record. */
  nodeType: number;
  nodeName: number;
  nodeId: number;
  nodeSelfSize: number;
  nodeEdgeCount: number;
  /** -1 when the snapshot has no detachedness field (older V8). */
  nodeDetachedness: number;
  edgeType: number;
  edgeNameOrIndex: number;
  edgeToNode: number;
  /** Declared counts (null when the header omits them). */
  nodeCount: number | null;
  edgeCount: number | null;
}

const REQUIRED_NODE = ['type', 'name', 'id', 'self_size', 'edge_count'];
const REQUIRED_EDGE = ['type', 'name_or_index', 'to_node'];

function stringList(value: unknown, what: string): string[] {
  if (!Array.isArray(value) || value.length === 0 || !value.every((v) => typeof v === 'string')) {
    throw new SnapshotFormatError(`wrong meta: snapshot.meta.${what} must be a non-empty array of strings`);
  }
  return value as string[];
}

function typeEnum(types: unknown, fields: string[], what: string): string[] {
  // Types pair with fields by position. V8 in Node 24 writes one node type more than node fields
  // (a trailing entry left from the trace_node_id field it no longer writes): extras are ignored.
  if (!Array.isArray(types) || types.length < fields.length) {
    throw new SnapshotFormatError(`wrong meta: snapshot.meta.${what}_types must have one entry per ${what}_fields entry`);
  }
  const enumValues = types[fields.indexOf('type')];
  return stringList(enumValues, `${what}_types[type]`);
}

function countOf(value: unknown): number | null {
  return typeof value === 'number' && Number.isInteger(value) && value >= 0 ? value : null;
}

/** Validates the parsed `snapshot` header object and derives field offsets from it. */
export function layoutFromHeader(header: unknown): SnapshotLayout {
  if (header === null || typeof header !== 'object') throw new SnapshotFormatError('wrong meta: "snapshot" must be an object');
  const meta = (header as Record<string, unknown>).meta as Record<string, unknown> | undefined;
  if (!meta || typeof meta !== 'object') throw new SnapshotFormatError('wrong meta: missing snapshot.meta');
  const nodeFields = stringList(meta.node_fields, 'node_fields');
  const edgeFields = stringList(meta.edge_fields, 'edge_fields');
  for (const f of REQUIRED_NODE) {
    if (!nodeFields.includes(f)) throw new SnapshotFormatError(`wrong meta: snapshot.meta.node_fields lacks "${f}" (has ${nodeFields.join(', ')})`);
  }
  for (const f of REQUIRED_EDGE) {
    if (!edgeFields.includes(f)) throw new SnapshotFormatError(`wrong meta: snapshot.meta.edge_fields lacks "${f}" (has ${edgeFields.join(', ')})`);
  }
  const nodeTypes = typeEnum(meta.node_types, nodeFields, 'node');
  const edgeTypes = typeEnum(meta.edge_types, edgeFields, 'edge');
  const h = header as Record<string, unknown>;
  return {
    nodeFields,
    edgeFields,
    nodeTypes,
    edgeTypes,
    nodeFieldCount: nodeFields.length,
    edgeFieldCount: edgeFields.length,
    nodeType: nodeFields.indexOf('type'),
    nodeName: nodeFields.indexOf('name'),
    nodeId: nodeFields.indexOf('id'),
    nodeSelfSize: nodeFields.indexOf('self_size'),
    nodeEdgeCount: nodeFields.indexOf('edge_count'),
    nodeDetachedness: nodeFields.indexOf('detachedness'),
    edgeType: edgeFields.indexOf('type'),
    edgeNameOrIndex: edgeFields.indexOf('name_or_index'),
    edgeToNode: edgeFields.indexOf('to_node'),
    nodeCount: countOf(h.node_count),
    edgeCount: countOf(h.edge_count),
  };
}
