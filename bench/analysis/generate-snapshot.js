#!/usr/bin/env node
/**
 * Writes a synthetic but valid V8 `.heapsnapshot` of roughly the requested size, streamed out so
 * a 1 GB file never sits in memory. Usage:
 *
 *   node bench/analysis/generate-snapshot.js <out.heapsnapshot> --mb 100
 *
 * Shape (what a leaking Node service looks like): the synthetic root, "(GC roots)" with a few
 * sub-roots, a global object holding modules, a large ternary tree of ordinary objects, strings,
 * arrays and closures with random cross edges (so dominators are not just the tree) and some
 * weak edges; plus the leak — `global.sessions` (a Map) → table → N LeakedSession objects, each
 * holding a payload Array and a token string. Node ids are odd and increasing (as in V8), the
 * leak allocated last. Every node's edges are a pure function of its index (seeded PRNG), so the
 * node pass and the edge pass agree without storing the graph.
 */
'use strict';
const fs = require('node:fs');

const NODE_TYPES = ['hidden', 'array', 'string', 'object', 'code', 'closure', 'regexp', 'number', 'native', 'synthetic', 'concatenated string', 'sliced string', 'symbol', 'bigint', 'object shape'];
const EDGE_TYPES = ['context', 'element', 'property', 'internal', 'hidden', 'shortcut', 'weak'];
const T = Object.fromEntries(NODE_TYPES.map((n, i) => [n, i]));
const E = Object.fromEntries(EDGE_TYPES.map((n, i) => [n, i]));
const NODE_FIELDS = 7;

// Calibrated: about this many bytes of JSON per node at the default mix.
const BYTES_PER_NODE = 55;

function hash(x) {
  x = Math.imul(x ^ (x >>> 16), 0x7feb352d);
  x = Math.imul(x ^ (x >>> 15), 0x846ca68b);
  return (x ^ (x >>> 16)) >>> 0;
}

function layout(total) {
  const leakObjects = Math.floor(total * 0.1); // 10% of nodes are LeakedSession, 30% with payloads
  const modules = 1000;
  const L = {};
  L.root = 0;
  L.gcRoots = 1;
  L.global = 2;
  L.subRootStart = 3;
  L.subRoots = 8;
  L.moduleStart = L.subRootStart + L.subRoots;
  L.modules = modules;
  L.shapeStart = L.moduleStart + modules;
  L.shapes = 200;
  L.bodyStart = L.shapeStart + L.shapes;
  L.leakStart = total - (2 + leakObjects * 3);
  L.body = L.leakStart - L.bodyStart;
  L.map = L.leakStart;
  L.table = L.leakStart + 1;
  L.sessionStart = L.leakStart + 2; // then payload arrays, then token strings
  L.sessions = leakObjects;
  L.total = total;
  return L;
}

// The string table: fixed names first, then unique token strings added as they are referenced.
const CLASS_NAMES = ['Request', 'Response', 'Socket', 'IncomingMessage', 'ServerResponse', 'Timeout', 'Promise', 'Object', 'Array', 'Buffer', 'EventEmitter', 'Session', 'User', 'Order', 'Invoice', 'Config', 'Logger', 'Span', 'Context', 'Router'];
const FN_NAMES = ['handle', 'next', 'onData', 'onEnd', 'resolve', 'reject', 'parse', 'serialize', 'emit', 'listener', 'callback', 'run'];
const PROPS = ['id', 'name', 'value', 'next', 'prev', 'parent', 'children', 'headers', 'body', 'socket', 'data', 'cache', 'options', 'handler', 'state', 'meta', 'user', 'items', 'map', 'config'];
const FIXED = ['', '(GC roots)', '(Strong roots)', '(Handle scope)', '(Stack roots)', '(Global handles)', '(Internalized strings)', '(Builtins)', '(Bootstrapper)', '(Compilation cache)', 'global', 'Module', 'Map', 'table', 'sessions', 'LeakedSession', 'payload', 'token', '(object elements)', 'system / Context', 'code', '__proto__', 'weak_ref', 'system / Map', 'context', ...CLASS_NAMES, ...FN_NAMES, ...PROPS];
const S = Object.fromEntries(FIXED.map((s, i) => [s, i]));

function bodyNode(L, i) {
  const b = i - L.bodyStart;
  const h = hash(i * 2654435761);
  const roll = h % 100;
  let type;
  let name;
  let size;
  if (roll < 50) { type = T.object; name = S[CLASS_NAMES[h % CLASS_NAMES.length]]; size = 32 + (h % 97); }
  else if (roll < 70) { type = T.string; name = -1; size = 16 + (h % 180); } // name assigned later (unique/pool)
  else if (roll < 85) { type = T.array; name = S['(object elements)']; size = 16; }
  else if (roll < 95) { type = T.closure; name = S[FN_NAMES[h % FN_NAMES.length]]; size = 56; }
  else { type = T.code; name = S.code; size = 80 + (h % 400); }
  const edges = [];
  if (type !== T.string) {
    for (let c = 1; c <= 3; c++) {
      const child = b * 3 + c;
      if (child < L.body) edges.push(type === T.array ? [E.element, c - 1, L.bodyStart + child] : [E.property, S[PROPS[(h >>> c) % PROPS.length]], L.bodyStart + child]);
    }
    // Every heap object points at its hidden class, as in V8.
    edges.push([E.internal, S.map, L.shapeStart + (h % L.shapes)]);
    if (type === T.closure) edges.push([E.internal, S.context, L.bodyStart + (hash(h + 7) % L.body)]);
    const h2 = hash(h ^ 0x5bd1e995);
    // One reference to a neighbour: in real Node 20 snapshots 21–26% of edges land within 1,000
    // nodes of their source (measured on this repo's test fixtures); this keeps the mix similar.
    const near = Math.min(L.body - 1, Math.max(0, b + (hash(h2 + 1) % 1000) - 500));
    edges.push([E.property, S[PROPS[(h2 >>> 5) % PROPS.length]], L.bodyStart + near]);
    if (h2 % 2 === 0) edges.push([E.property, S[PROPS[(h2 >>> 3) % PROPS.length]], L.bodyStart + (h2 % L.body)]);
    if (h2 % 10 === 1) edges.push([E.weak, S.weak_ref, L.bodyStart + (hash(h2) % L.body)]);
    if (type === T.array) size += 8 * edges.length;
  }
  return { type, name, size, edges };
}

function node(L, i) {
  if (i === L.root) return { type: T.synthetic, name: S[''], size: 0, edges: [[E.element, 1, L.gcRoots], [E.shortcut, S.global, L.global]] };
  if (i === L.gcRoots) {
    const edges = [];
    for (let k = 0; k < L.subRoots; k++) edges.push([E.element, k + 1, L.subRootStart + k]);
    return { type: T.synthetic, name: S['(GC roots)'], size: 0, edges };
  }
  if (i === L.global) {
    const edges = [];
    for (let k = 0; k < L.modules; k++) edges.push([E.property, S[PROPS[k % PROPS.length]], L.moduleStart + k]);
    edges.push([E.property, S.sessions, L.map]);
    return { type: T.object, name: S.global, size: 64, edges };
  }
  if (i >= L.subRootStart && i < L.moduleStart) {
    const k = i - L.subRootStart;
    const edges = [];
    for (let j = 0; j < 20; j++) edges.push([E.element, j, L.moduleStart + hash(k * 31 + j) % L.modules]);
    return { type: T.synthetic, name: S[FIXED[2 + k]], size: 0, edges };
  }
  if (i >= L.moduleStart && i < L.bodyStart) {
    const k = i - L.moduleStart;
    // Module k holds the tree roots k, k + modules, … of the body's first levels.
    const edges = [];
    for (let r = k; r < Math.min(L.body, 3 * L.modules); r += L.modules) edges.push([E.property, S[PROPS[r % PROPS.length]], L.bodyStart + r]);
    return { type: T.object, name: S.Module, size: 48, edges };
  }
  if (i >= L.shapeStart && i < L.bodyStart) return { type: T['object shape'], name: S['system / Map'], size: 40, edges: [] };
  if (i < L.leakStart) return bodyNode(L, i);
  if (i === L.map) return { type: T.object, name: S.Map, size: 32, edges: [[E.internal, S.table, L.table]] };
  if (i === L.table) {
    const edges = [];
    for (let k = 0; k < L.sessions; k++) edges.push([E.element, k, L.sessionStart + k]);
    return { type: T.array, name: S['(object elements)'], size: 16 + 8 * L.sessions, edges };
  }
  const k = i - L.sessionStart;
  if (k < L.sessions) {
    return { type: T.object, name: S.LeakedSession, size: 56, edges: [[E.internal, S.map, L.shapeStart], [E.property, S.payload, L.sessionStart + L.sessions + k], [E.property, S.token, L.sessionStart + 2 * L.sessions + k]] };
  }
  if (k < 2 * L.sessions) return { type: T.object, name: S.Array, size: 32 + 8 * 16, edges: [[E.internal, S.map, L.shapeStart + 1]] };
  return { type: T.string, name: -2, size: 40, edges: [] };
}

class Out {
  constructor(path) {
    this.fd = fs.openSync(path, 'w');
    this.parts = [];
    this.len = 0;
    this.bytes = 0;
  }
  write(s) {
    this.parts.push(s);
    this.len += s.length;
    if (this.len > 8 << 20) this.flush();
  }
  flush() {
    const buf = Buffer.from(this.parts.join(''), 'utf8');
    fs.writeSync(this.fd, buf);
    this.bytes += buf.length;
    this.parts = [];
    this.len = 0;
  }
  close() {
    this.flush();
    fs.closeSync(this.fd);
  }
}

function generate(path, totalNodes) {
  const L = layout(totalNodes);
  let stringCount = FIXED.length;
  let edgeCount = 0;
  for (let i = 0; i < L.total; i++) edgeCount += node(L, i).edges.length;
  const out = new Out(path);
  const meta = {
    node_fields: ['type', 'name', 'id', 'self_size', 'edge_count', 'trace_node_id', 'detachedness'],
    node_types: [NODE_TYPES, 'string', 'number', 'number', 'number', 'number', 'number'],
    edge_fields: ['type', 'name_or_index', 'to_node'],
    edge_types: [EDGE_TYPES, 'string_or_number', 'node'],
    trace_function_info_fields: ['function_id', 'name', 'script_name', 'script_id', 'line', 'column'],
    trace_node_fields: ['id', 'function_info_index', 'count', 'size', 'children'],
    sample_fields: ['timestamp_us', 'last_assigned_id'],
    location_fields: ['object_index', 'script_id', 'line', 'column'],
  };
  out.write(`{"snapshot":{"meta":${JSON.stringify(meta)},\n"node_count":${L.total},\n"edge_count":${edgeCount},\n"trace_function_count":0},\n"nodes":[`);
  // Unique strings: every 4th string node and every token get their own table entry.
  const uniqueStrings = [];
  for (let i = 0; i < L.total; i++) {
    const n = node(L, i);
    let name = n.name;
    if (name === -1) {
      if (i % 4 === 0) { name = stringCount++; uniqueStrings.push(i); }
      else name = S[PROPS[i % PROPS.length]];
    } else if (name === -2) { name = stringCount++; uniqueStrings.push(i); }
    out.write(`${i ? ',' : ''}${n.type},${name},${2 * i + 1},${n.size},${n.edges.length},0,0\n`);
  }
  out.write('],\n"edges":[');
  let first = true;
  for (let i = 0; i < L.total; i++) {
    const edges = node(L, i).edges;
    if (edges.length === 0) continue;
    let line = '';
    for (const [t, nameOrIndex, to] of edges) {
      line += `${first ? '' : ','}${t},${nameOrIndex},${to * NODE_FIELDS}`;
      first = false;
    }
    out.write(line + '\n');
  }
  out.write('],\n"trace_function_infos":[],\n"trace_tree":[],\n"samples":[],\n"locations":[],\n"strings":[');
  out.write(FIXED.map((s) => JSON.stringify(s)).join(',\n'));
  for (const i of uniqueStrings) {
    const text = i >= L.sessionStart ? `session-token-${hash(i).toString(36)}-${i}` : `payload text ${i} ${'lorem ipsum '.repeat(1 + (hash(i) % 4))}`;
    out.write(',\n' + JSON.stringify(text));
  }
  out.write(']}\n');
  out.close();
  return { nodes: L.total, edges: edgeCount, bytes: out.bytes, leakedSessions: L.sessions };
}

if (require.main === module) {
  const args = process.argv.slice(2);
  const file = args[0];
  const mbIdx = args.indexOf('--mb');
  const mb = mbIdx >= 0 ? Number(args[mbIdx + 1]) : 100;
  if (!file || !(mb > 0)) {
    console.error('usage: node bench/analysis/generate-snapshot.js <out.heapsnapshot> --mb <size>');
    process.exit(2);
  }
  const started = Date.now();
  const r = generate(file, Math.max(2000, Math.round((mb * 1048576) / BYTES_PER_NODE)));
  console.error(`wrote ${file}: ${(r.bytes / 1048576).toFixed(0)} MB, ${r.nodes} nodes, ${r.edges} edges, ${r.leakedSessions} leaked sessions, in ${((Date.now() - started) / 1000).toFixed(1)} s`);
}

module.exports = { generate };
