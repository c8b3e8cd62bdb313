/**
 * The addon loader (src/native/addon.ts) in real child processes: the explicit override wins, a bad
 * override falls through to the prebuild, and a package copy with no usable addon runs on the JS
 * fallback with one message that names every file tried and what to do.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { childEnv, logLines, nodeBinaries, ROOT, runNode } from './native-helpers';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'leak-agent-loader-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

function startLines(pkg: string, env: Record<string, string>): Record<string, unknown>[] {
  const r = runNode(process.execPath, ['-e', `require(${JSON.stringify(pkg)})`], childEnv({ LEAK_AGENT_DIR: path.join(tmp, 'evidence'), ...env }));
  expect(r.status).toBe(0);
  return logLines(r.stderr);
}

function started(pkg: string, env: Record<string, string>): Record<string, unknown> {
  const line = startLines(pkg, env).find((l) => l.event === 'agent.started');
  expect(line).toBeDefined();
  return line as Record<string, unknown>;
}

describe('native addon loader', () => {
  it('LEAK_AGENT_ADDON_PATH is tried first', () => {
    const local = path.join(ROOT, 'build', 'Release', 'leak_agent.node');
    const line = started(ROOT, { LEAK_AGENT_ADDON_PATH: local });
    expect(line).toMatchObject({ sampler: 'native', samplerReason: `native addon loaded from ${local}` });
  });

  it('a broken override is reported in one agent.error line and falls through to the prebuild for this Node', () => {
    const bogus = path.join(tmp, 'not-an-addon.node');
    fs.writeFileSync(bogus, 'this is not a shared object');
    const lines = startLines(ROOT, { LEAK_AGENT_ADDON_PATH: bogus });
    const line = lines.find((l) => l.event === 'agent.started');
    expect(line?.sampler).toBe('native');
    expect(line?.samplerReason).toMatch(new RegExp(`prebuilds/linux-x64/leak-agent\\.abi${process.versions.modules}\\.node$`));
    const errors = lines.filter((l) => l.event === 'agent.error');
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatchObject({ where: 'native', variable: 'LEAK_AGENT_ADDON_PATH', value: bogus });
    expect(String(errors[0]?.message)).toContain('no leak-agent ABI tag');
  });

  it('with no usable addon, one message names every candidate and the fix, and the JS fallback runs', () => {
    // A copy of the package as a consumer would have it, minus the binaries.
    const pkg = path.join(tmp, 'pkg');
    fs.cpSync(path.join(ROOT, 'dist'), path.join(pkg, 'dist'), { recursive: true });
    fs.copyFileSync(path.join(ROOT, 'package.json'), path.join(pkg, 'package.json'));
    const lines = startLines(pkg, { LEAK_AGENT_ADDON_PATH: path.join(tmp, 'missing.node') });
    const line = lines.find((l) => l.event === 'agent.started') as Record<string, unknown>;
    expect(line.sampler).toBe('js');
    const reason = String(line.samplerReason);
    // The operator's own setting gets its own line; the start line points at it.
    expect(lines.filter((l) => l.event === 'agent.error').map((l) => l.message)).toEqual([
      `LEAK_AGENT_ADDON_PATH=${path.join(tmp, 'missing.node')} was refused: not found; using the JS sampler`,
    ]);
    expect(reason).toContain('LEAK_AGENT_ADDON_PATH refused (see its agent.error line)');
    expect(reason).toContain(`prebuild ${path.join(pkg, 'prebuilds', 'linux-x64', `leak-agent.abi${process.versions.modules}.node`)}: not found`);
    expect(reason).toContain(`local build ${path.join(pkg, 'build', 'Release', 'leak_agent.node')}: not found`);
    expect(reason).toMatch(/Fix: run on a Node with a shipped prebuild .*`npm run build:native`.* LEAK_AGENT_ADDON_PATH/);
    expect(line.nearOom).toMatchObject({ state: 'unavailable' });
  });
});

describe('the packed package', () => {
  it('installs without compiling and loads its prebuild on Node 20, 22, 24 and 26', () => {
    // What a consumer gets: `npm pack` of this tree (prebuilds included via "files"), installed
    // into an empty project with install scripts off, as npm 11 does for dependencies.
    const consumer = path.join(tmp, 'consumer');
    fs.mkdirSync(consumer, { recursive: true });
    fs.writeFileSync(path.join(consumer, 'package.json'), '{"name":"consumer","version":"1.0.0","private":true}\n');
    const npmEnv = { ...process.env, npm_config_audit: 'false', npm_config_fund: 'false', npm_config_update_notifier: 'false' };
    const packed = execFileSync('npm', ['pack', '--ignore-scripts', '--silent', '--pack-destination', consumer], { cwd: ROOT, env: npmEnv, encoding: 'utf8' }).trim().split('\n').pop() as string;
    // --prefer-offline, not --offline: a consumer's install resolves the dependency ranges, which needs
    // the registry's package metadata, and an `npm ci` from our lockfile caches only tarballs (seen on a
    // fresh machine: ENOTCACHED for @aws-sdk/client-s3). The registry is reachable wherever tests run.
    execFileSync('npm', ['install', '--ignore-scripts', '--prefer-offline', '--no-package-lock', `./${packed}`], { cwd: consumer, env: npmEnv, stdio: 'ignore' });
    const installed = path.join(consumer, 'node_modules', 'leak-agent');
    expect(fs.existsSync(path.join(installed, 'build'))).toBe(false);
    for (const node of nodeBinaries()) {
      const r = runNode(node.bin, ['-e', "require('leak-agent')"], childEnv({ LEAK_AGENT_DIR: path.join(tmp, 'consumer-evidence') }), consumer);
      expect(r.status).toBe(0);
      const line = logLines(r.stderr).find((l) => l.event === 'agent.started');
      expect(line, `${node.label}: ${r.stderr}`).toMatchObject({ sampler: 'native', nearOom: { state: 'armed' } });
      expect(String(line?.samplerReason)).toContain(path.join(installed, 'prebuilds', 'linux-x64'));
    }
  });
});
