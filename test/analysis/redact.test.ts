import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadSnapshot } from '../../src/analysis/load';
import { CLI, ensureBuilt, runCli } from './cli-helpers';

let dir: string;
let input: string;
const SECRET = 'sk_live_' + 'Q7f3Zp0LxV9mW2cR8tYb'; // assembled so the test file itself is not the only match
const EMAIL = 'alice.secret@example.com';
const REGEX_SECRET = 'tok_' + 'R3gexS0urce9';
const FN_NAME_SECRET = 'carol.' + 'fn@example.com';

beforeAll(() => {
  ensureBuilt();
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'la-redact-'));
  input = path.join(dir, 'in.heapsnapshot');
  const program = `
    class CustomerRecord { constructor(i) { this.id = i; this.note = 'note-' + i; } }
    globalThis.keep = { apiKey: process.argv[1], owner: process.argv[2], customers: [] };
    globalThis.byEmail = {}; globalThis.byEmail[process.argv[2]] = 1;
    for (let i = 0; i < 500; i++) globalThis.keep.customers.push(new CustomerRecord(i));
    function handleCheckoutRequest() { return 1; }
    globalThis.keep.pattern = new RegExp(process.argv[4] + '=([a-z]+)');
    globalThis.keep.byName = { [process.argv[5]]: function () { return 2; } };
    globalThis.keep.handler = handleCheckoutRequest;
    require('v8').writeHeapSnapshot(process.argv[3]);`;
  const r = spawnSync(process.execPath, ['-e', program, SECRET, EMAIL, input, REGEX_SECRET, FN_NAME_SECRET], { encoding: 'utf8', timeout: 60_000 });
  expect(r.status, r.stderr).toBe(0);
});

afterAll(() => {
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

describe('leak-agent redact', () => {
  it('removes the planted secret and keeps the graph, the sizes and the constructor names', async () => {
    expect(fs.readFileSync(input, 'utf8')).toContain(SECRET);
    const out = path.join(dir, 'out.heapsnapshot');
    const r = runCli(['redact', input, '-o', out]);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/strings redacted/);
    const text = fs.readFileSync(out, 'utf8');
    expect(text).not.toContain(SECRET);
    expect(text).not.toContain(EMAIL);
    expect(text).not.toContain('note-42');

    const a = await loadSnapshot(input);
    const b = await loadSnapshot(out);
    expect(b.nodeCount).toBe(a.nodeCount);
    expect(b.edgeCount).toBe(a.edgeCount);
    expect(Buffer.compare(Buffer.from(b.nodes.buffer, b.nodes.byteOffset, b.nodes.byteLength), Buffer.from(a.nodes.buffer, a.nodes.byteOffset, a.nodes.byteLength))).toBe(0);
    expect(Buffer.compare(Buffer.from(b.edges.buffer, b.edges.byteOffset, b.edges.byteLength), Buffer.from(a.edges.buffer, a.edges.byteOffset, a.edges.byteLength))).toBe(0);
    expect(b.strings.count).toBe(a.strings.count);
    let redacted = 0;
    for (let i = 0; i < a.strings.count; i++) {
      const before = a.strings.get(i);
      const after = b.strings.get(i);
      expect(after.length, `string ${i}`).toBe(before.length);
      if (after !== before) {
        redacted++;
        expect(after).toMatch(/^x*$/);
      }
    }
    expect(redacted).toBeGreaterThan(100);
    // The analysis still reads: constructor names survive.
    const names = new Set<string>();
    for (let v = 0; v < b.nodeCount; v++) names.add(b.nodeName(v));
    expect(names).toContain('CustomerRecord');
    expect(names).toContain('Map');
  });

  it('removes RegExp sources and function names that are not identifiers; keeps code identifiers', async () => {
    const text = fs.readFileSync(input, 'utf8');
    expect(text).toContain(REGEX_SECRET);
    expect(text).toContain(FN_NAME_SECRET);
    const out = path.join(dir, 'code.heapsnapshot');
    expect(runCli(['redact', input, '-o', out, '--quiet']).status).toBe(0);
    const redacted = fs.readFileSync(out, 'utf8');
    expect(redacted).not.toContain(REGEX_SECRET);
    expect(redacted).not.toContain(FN_NAME_SECRET);
    const b = await loadSnapshot(out);
    const closures = new Set<string>();
    const regexps: string[] = [];
    for (let v = 0; v < b.nodeCount; v++) {
      if (b.nodeType(v) === b.nodeClosure) closures.add(b.nodeName(v));
      if (b.layout.nodeTypes[b.nodeType(v)] === 'regexp') regexps.push(b.nodeName(v));
    }
    expect(closures).toContain('handleCheckoutRequest');
    expect(closures).toContain('CustomerRecord');
    expect(regexps.length).toBeGreaterThan(0);
    for (const r of regexps) expect(r).toMatch(/^x*$/);
  });

  it('keeps the input\'s mode: a 0600 snapshot gives a 0600 output, whatever the umask', () => {
    const private600 = path.join(dir, 'private.heapsnapshot');
    fs.copyFileSync(input, private600);
    fs.chmodSync(private600, 0o600);
    const out = path.join(dir, 'private-out.heapsnapshot');
    const r = spawnSync('sh', ['-c', `umask 000 && exec "$0" "$@"`, process.execPath, CLI, 'redact', private600, '-o', out, '--quiet'], { encoding: 'utf8', timeout: 60_000 });
    expect(r.status, r.stderr).toBe(0);
    expect((fs.statSync(out).mode & 0o777).toString(8)).toBe('600');
  });

  it('--all redacts every string, still a valid snapshot', async () => {
    const out = path.join(dir, 'all.heapsnapshot');
    expect(runCli(['redact', input, '-o', out, '--all', '--quiet']).status).toBe(0);
    const b = await loadSnapshot(out);
    for (let i = 0; i < b.strings.count; i++) expect(b.strings.get(i)).toMatch(/^x*$/);
  });

  it('refuses a corrupted input without leaving a partial output behind', () => {
    const bad = path.join(dir, 'bad.heapsnapshot');
    fs.writeFileSync(bad, fs.readFileSync(input).subarray(0, 5000));
    const out = path.join(dir, 'never.heapsnapshot');
    const r = runCli(['redact', bad, '-o', out]);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/truncated snapshot/);
    expect(fs.existsSync(out)).toBe(false);
    expect(fs.readdirSync(dir).some((f) => f.includes('partial'))).toBe(false);
  });
});
