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

function started(pkg: string, env: Record<string, string>): Record<string, unknown> {
  const r = runNode(process.execPath, ['-e', `require(${JSON.stringify(pkg)})`], childEnv({ LEAK_AGENT_DIR: path.join(tmp, 'evidence'), ...env }));
  expect(r.status).toBe(0);
  const line = logLines(r.stderr).find((l) => l.event === 'agent.started');
  expect(line).toBeDefined();
  return line as Record<string, unknown>;
}

describe('native addon loader', () => {
  it('LEAK_AGENT_ADDON_PATH is tried first', () => {
    const local = path.join(ROOT, 'build', 'Release', 'leak_agent.node');
    const line = started(ROOT, { LEAK_AGENT_ADDON_PATH: local });
    expect(line).toMatchObject({ sampler: 'native', samplerReason: `native addon loaded from ${local}` });
  });

  it('a broken override falls through to the prebuild for this Node', () => {
    const bogus = path.join(tmp, 'not-an-addon.node');
    fs.writeFileSync(bogus, 'this is not a shared object');
    const line = started(ROOT, { LEAK_AGENT_ADDON_PATH: bogus });
    expect(line.sampler).toBe('native');
    expect(line.samplerReason).toMatch(new RegExp(`prebuilds/linux-x64/leak-agent\\.abi${process.versions.modules}\\.node$`));
  });

  it('with no usable addon, one message names every candidate and the fix, and the JS fallback runs', () => {
    // A copy of the package as a consumer would have it, minus the binaries.
    const pkg = path.join(tmp, 'pkg');
    fs.cpSync(path.join(ROOT, 'dist'), path.join(pkg, 'dist'), { recursive: true });
    fs.copyFileSync(path.join(ROOT, 'package.json'), path.join(pkg, 'package.json'));
    const line = started(pkg, { LEAK_AGENT_ADDON_PATH: path.join(tmp, 'missing.node') });
    expect(line.sampler).toBe('js');
    const reason = String(line.samplerReason);
    expect(reason).toContain(`LEAK_AGENT_ADDON_PATH ${path.join(tmp, 'missing.node')}: not found`);
    expect(reason).toContain(`prebuild ${path.join(pkg, 'prebuilds', 'linux-x64', `leak-agent.abi${process.versions.modules}.node`)}: not found`);
    expect(reason).toContain(`local build ${path.join(pkg, 'build', 'Release', 'leak_agent.node')}: not found`);
    expect(reason).toMatch(/Fix: run `npm run build:native`/);
    expect(line.nearOom).toMatchObject({ state: 'unavailable' });
  });
});

describe('the packed package', () => {
  it('installs without compiling and loads its prebuild on Node 20, 22 and 24', () => {
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
