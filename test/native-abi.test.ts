/**
 * The addon is tied to one Node ABI (it calls V8's C++ API), and Node does not check that for a
 * Node-API module. The loader checks it before anything is loaded: a candidate built for another
 * ABI — the local build/Release, a prebuild or LEAK_AGENT_ADDON_PATH — is refused with one clear
 * line, and the agent runs on the JS sampler. Real builds, real Node 20 and 26 child processes.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { childEnv, logLines, ROOT, runNode, toolchainNode } from './native-helpers';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'leak-agent-abi-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

const PREBUILDS = path.join(ROOT, 'prebuilds', `${process.platform}-${process.arch}`);
/** The system Node's build (Node 20, ABI 115 here): the one a clone's build/Release holds. */
const SYSTEM_BUILD = path.join(PREBUILDS, `leak-agent.abi${process.versions.modules}.node`);
const node26 = toolchainNode(26);

/** A copy of the package with only the given binaries, as a clone or an install would have them. */
function packageCopy(name: string, files: Record<string, string> = {}): string {
  const pkg = path.join(tmp, name);
  fs.cpSync(path.join(ROOT, 'dist'), path.join(pkg, 'dist'), { recursive: true });
  fs.copyFileSync(path.join(ROOT, 'package.json'), path.join(pkg, 'package.json'));
  for (const [rel, from] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(pkg, rel)), { recursive: true });
    fs.copyFileSync(from, path.join(pkg, rel));
  }
  return pkg;
}

interface Run {
  status: number | null;
  out: { sampler: string; samplerReason: string; nearOom: string; mapped: string[] };
  lines: Record<string, unknown>[];
  stderr: string;
}

/** Loads the package in `bin`, prints status() and which leak-agent binaries are mapped into the process. */
function run(bin: string, pkg: string, env: Record<string, string> = {}): Run {
  const script = `
    const a = require(${JSON.stringify(pkg)});
    const s = a.status();
    const mapped = [...new Set(require('fs').readFileSync('/proc/self/maps', 'utf8').split('\\n')
      .map((l) => l.split(/\\s+/).slice(5).join(' ')).filter((f) => f.endsWith('.node')))];
    console.log(JSON.stringify({ sampler: s.sampler, samplerReason: s.samplerReason, nearOom: s.nearOom, mapped }));
    a.stop();`;
  const r = runNode(bin, ['-e', script], childEnv({ LEAK_AGENT_DIR: path.join(tmp, 'evidence'), ...env }), tmp);
  const last = r.stdout.trim().split('\n').pop() ?? '{}';
  return { status: r.status, out: JSON.parse(last) as Run['out'], lines: logLines(r.stderr), stderr: r.stderr };
}

/** Log lines that mention `needle` anywhere. */
const mentioning = (lines: Record<string, unknown>[], needle: string) => lines.filter((l) => JSON.stringify(l).includes(needle));

describe('the loader checks the ABI before loading', () => {
  it('a clone on Node 26 whose build/Release holds the Node 20 build runs the JS sampler and says why in one line', () => {
    const pkg = packageCopy('clone-26', { 'build/Release/leak_agent.node': SYSTEM_BUILD });
    const local = path.join(pkg, 'build', 'Release', 'leak_agent.node');
    const r = run(node26.bin, pkg);
    expect(r.status, r.stderr).toBe(0);
    expect(r.out.sampler).toBe('js');
    expect(r.out.samplerReason).toContain(`local build ${local}: built for Node ABI ${process.versions.modules}`);
    expect(r.out.samplerReason).toContain('this Node (v26');
    expect(r.out.samplerReason).toContain('needs ABI 147');
    expect(r.out.mapped).toEqual([]);
    const lines = mentioning(r.lines, local);
    expect(lines.map((l) => l.event)).toEqual(['agent.started']);
    expect(r.lines.filter((l) => l.event === 'agent.error')).toEqual([]);
  });

  it('LEAK_AGENT_ADDON_PATH built for another ABI is refused with one agent.error line; the JS sampler runs', () => {
    const pkg = packageCopy('override-26');
    const r = run(node26.bin, pkg, { LEAK_AGENT_ADDON_PATH: SYSTEM_BUILD });
    expect(r.status, r.stderr).toBe(0);
    expect(r.out.sampler).toBe('js');
    expect(r.out.mapped).toEqual([]);
    const lines = mentioning(r.lines, SYSTEM_BUILD);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({ event: 'agent.error', variable: 'LEAK_AGENT_ADDON_PATH', value: SYSTEM_BUILD });
    expect(String(lines[0]?.message)).toContain(`built for Node ABI ${process.versions.modules}`);
    expect(String(lines[0]?.expected)).toContain('ABI 147');
  });

  it('LEAK_AGENT_ADDON_PATH built for another ABI is refused and the prebuild for this Node is used', () => {
    const other = path.join(PREBUILDS, 'leak-agent.abi127.node');
    const r = run(process.execPath, ROOT, { LEAK_AGENT_ADDON_PATH: other });
    expect(r.status, r.stderr).toBe(0);
    expect(r.out.sampler).toBe('native');
    expect(r.out.samplerReason).toBe(`native addon loaded from ${SYSTEM_BUILD}`);
    expect(r.out.mapped).toEqual([SYSTEM_BUILD]);
    const lines = mentioning(r.lines, other);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({ event: 'agent.error', variable: 'LEAK_AGENT_ADDON_PATH', value: other });
    expect(String(lines[0]?.message)).toContain('built for Node ABI 127');
    expect(String(lines[0]?.using)).toContain(SYSTEM_BUILD);
  });

  it('with no addon at all, Node 26 runs the JS sampler with one line naming what was looked for', () => {
    const pkg = packageCopy('bare-26');
    const r = run(node26.bin, pkg);
    expect(r.status, r.stderr).toBe(0);
    expect(r.out.sampler).toBe('js');
    expect(r.out.samplerReason).toContain(`prebuild ${path.join(pkg, 'prebuilds', 'linux-x64', 'leak-agent.abi147.node')}: not found`);
    expect(mentioning(r.lines, 'leak-agent.abi147.node').map((l) => l.event)).toEqual(['agent.started']);
    expect(r.lines.filter((l) => l.event === 'agent.error')).toEqual([]);
  });

  it("the host's exit code and output are unchanged when the addon is missing or of the wrong ABI", () => {
    const host = "console.log('hello from the host'); console.error('host stderr line'); process.exitCode = 7";
    const cases: [string, string, Record<string, string>][] = [
      ['missing', packageCopy('host-missing'), {}],
      ['wrong ABI in build/Release', packageCopy('host-wrong-abi', { 'build/Release/leak_agent.node': SYSTEM_BUILD }), {}],
      ['wrong ABI override', packageCopy('host-wrong-override'), { LEAK_AGENT_ADDON_PATH: SYSTEM_BUILD }],
    ];
    for (const [label, pkg, env] of cases) {
      const r = runNode(node26.bin, ['-e', `require(${JSON.stringify(pkg)}); ${host}`], childEnv({ LEAK_AGENT_DIR: path.join(tmp, 'evidence'), ...env }), tmp);
      expect(r.status, `${label}: ${r.stderr}`).toBe(7);
      expect(r.stdout, label).toBe('hello from the host\n');
      // Apart from the agent's JSON lines, stderr is the host's own.
      expect(r.stderr.split('\n').filter((l) => l && !l.startsWith('{')), label).toEqual(['host stderr line']);
      const lines = logLines(r.stderr);
      expect(lines.find((l) => l.event === 'agent.started'), label).toMatchObject({ sampler: 'js' });
      expect(lines.filter((l) => l.event === 'agent.error').length, label).toBe(label === 'wrong ABI override' ? 1 : 0);
    }
  });

  it('a file without the ABI tag is refused without being loaded', () => {
    // A genuine shared object that is not a leak-agent addon: the check is on the file, not its name.
    const foreign = path.join(tmp, 'foreign.node');
    fs.copyFileSync(SYSTEM_BUILD, foreign);
    const bytes = fs.readFileSync(foreign);
    const at = bytes.indexOf('leak-agent-native:');
    expect(at).toBeGreaterThan(0);
    bytes.write('xxxx-xxxxx-xxxxxx', at, 'latin1');
    fs.writeFileSync(foreign, bytes);
    const r = run(process.execPath, ROOT, { LEAK_AGENT_ADDON_PATH: foreign });
    expect(r.out.sampler).toBe('native');
    expect(r.out.mapped).toEqual([SYSTEM_BUILD]);
    const lines = mentioning(r.lines, foreign);
    expect(lines).toHaveLength(1);
    expect(String(lines[0]?.message)).toContain('no leak-agent ABI tag');
  });

  it('the addon itself refuses to start in a Node of another ABI, before touching V8', () => {
    // Defence in depth for a caller that bypasses the loader (process.dlopen of a renamed file).
    const r = runNode(node26.bin, ['-e', `const m={exports:{}};try{process.dlopen(m,${JSON.stringify(SYSTEM_BUILD)});console.log('loaded')}catch(e){console.log(e.message)}`], childEnv());
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toContain(`built for Node ABI ${process.versions.modules}`);
    expect(r.stdout).toContain('this Node needs ABI 147');
  });

  it('every prebuild exports the NODE_MODULE_VERSION it was compiled against, and its tag says the same', () => {
    const abis = fs.readdirSync(PREBUILDS).map((f) => /^leak-agent\.abi(\d+)\.node$/.exec(f)?.[1]).filter(Boolean);
    expect(abis.length).toBeGreaterThanOrEqual(3);
    for (const abi of abis) {
      const file = path.join(PREBUILDS, `leak-agent.abi${abi}.node`);
      expect(fs.readFileSync(file).toString('latin1')).toContain(`leak-agent-native:abi=${abi}:`);
    }
    const r = runNode(process.execPath, ['-e', `const m={exports:{}};process.dlopen(m,${JSON.stringify(SYSTEM_BUILD)});console.log(m.exports.nodeModuleVersion)`], childEnv());
    expect(r.stdout.trim()).toBe(process.versions.modules);
  });
});

describe('one decision about the native addon', () => {
  it('LEAK_AGENT_NATIVE=off: no stage uses native code and no addon is mapped into the process', () => {
    const r = run(process.execPath, ROOT, { LEAK_AGENT_NATIVE: 'off' });
    expect(r.out).toMatchObject({ sampler: 'js', nearOom: 'unavailable', mapped: [] });
    expect(r.out.samplerReason).toContain('LEAK_AGENT_NATIVE=off');
  });

  it('a refused addon is refused for every stage: JS sampler, no near-OOM capture, nothing mapped', () => {
    const pkg = packageCopy('refused-everywhere', { 'build/Release/leak_agent.node': SYSTEM_BUILD });
    const r = run(node26.bin, pkg);
    expect(r.out).toMatchObject({ sampler: 'js', nearOom: 'unavailable', mapped: [] });
    const started = r.lines.find((l) => l.event === 'agent.started') as { nearOom: { reason: string } };
    expect(started.nearOom.reason).toBe('needs the native addon, which is not loaded (see samplerReason)');
  });

  it('an addon that loads serves the sampler and the near-OOM capture from the same file', () => {
    const r = run(process.execPath, ROOT);
    expect(r.out).toMatchObject({ sampler: 'native', nearOom: 'armed', mapped: [SYSTEM_BUILD] });
  });
});
