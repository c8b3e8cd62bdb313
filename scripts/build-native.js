#!/usr/bin/env node
// Builds the native addon once per Node ABI into prebuilds/<platform>-<arch>/leak-agent.abi<N>.node
// and leaves build/Release/leak_agent.node built for the Node running this script.
//
// Why a root script: npm 11 does not run dependencies' install scripts, so a consumer never
// compiles; the package ships these prebuilds instead (package.json "files"). They are built here,
// from `npm install`/`npm ci` (prepare) and before `npm pack`/`npm publish`, not committed: the
// binaries always match the sources, and building is offline-safe because every header comes from
// an npm package or the running Node's own install (node-gyp is always given --nodedir; without it
// node-gyp would try to download headers).
//
// Targets: the running Node (headers next to its binary, e.g. /usr/include/node), plus Node 22,
// 24 and 26 from tools/node-toolchain (installed here on first use with `npm ci --prefix`).
//
//   node scripts/build-native.js            build what is missing or older than the sources
//   node scripts/build-native.js --force    rebuild everything
//   LEAK_AGENT_NATIVE_TARGETS=current       only the running Node (no toolchain download)
'use strict';
const { execFileSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

const root = path.resolve(__dirname, '..');
const toolchain = path.join(root, 'tools', 'node-toolchain');
const prebuildDir = path.join(root, 'prebuilds', `${process.platform}-${process.arch}`);
const force = process.argv.includes('--force');
/** Node majors users run besides the system one; tools/node-toolchain/package.json pins each. */
const TOOLCHAIN_NODES = ['node22', 'node24', 'node26'];
const onlyCurrent = (process.env.LEAK_AGENT_NATIVE_TARGETS || '').trim() === 'current';

function log(msg) {
  process.stderr.write(`[build-native] ${msg}\n`);
}

function run(cmd, args, opts = {}) {
  execFileSync(cmd, args, { cwd: root, stdio: ['ignore', 'inherit', 'inherit'], ...opts });
}

/** The include dir that belongs to the running Node: <prefix>/include/node next to <prefix>/bin/node. */
function currentNodeDir() {
  const candidates = [path.resolve(path.dirname(process.execPath), '..'), process.env.npm_config_nodedir].filter(Boolean);
  for (const dir of candidates) {
    if (fs.existsSync(path.join(dir, 'include', 'node', 'node.h'))) return dir;
  }
  throw new Error(
    `cannot find the headers of the running Node ${process.version} (looked for include/node/node.h under ${candidates.join(', ')}). ` +
      'Install them (Debian: the nodejs package ships /usr/include/node) or set npm_config_nodedir.',
  );
}

function ensureToolchain() {
  const bins = TOOLCHAIN_NODES.map((n) => path.join(toolchain, 'node_modules', n, 'bin', 'node'));
  if (bins.every((b) => fs.existsSync(b))) return;
  log('installing Node 22, 24 and 26 binaries + headers into tools/node-toolchain (npm ci, once)');
  const npmCli = process.env.npm_execpath;
  const args = ['ci', '--prefix', toolchain, '--no-audit', '--no-fund', '--ignore-scripts'];
  if (npmCli && npmCli.endsWith('.js')) run(process.execPath, [npmCli, ...args]);
  else run('npm', args);
}

function describe(bin) {
  const out = execFileSync(bin, ['-p', 'JSON.stringify([process.version, process.versions.modules])'], { encoding: 'utf8' });
  const [version, abi] = JSON.parse(out);
  return { version, abi };
}

function targets() {
  const list = [{ bin: process.execPath, nodedir: currentNodeDir(), current: true }];
  if (!onlyCurrent) {
    ensureToolchain();
    for (const name of TOOLCHAIN_NODES) {
      const dir = path.join(toolchain, 'node_modules', name);
      list.unshift({ bin: path.join(dir, 'bin', 'node'), nodedir: dir, current: false });
    }
  }
  const seen = new Set();
  const unique = [];
  // The running Node goes last so that build/Release is left built for it.
  for (const t of list.reverse()) {
    Object.assign(t, describe(t.bin));
    if (seen.has(t.abi)) continue;
    seen.add(t.abi);
    unique.unshift(t);
  }
  return unique;
}

function newestSource() {
  const files = [path.join(root, 'binding.gyp'), ...fs.readdirSync(path.join(root, 'native')).map((f) => path.join(root, 'native', f))];
  return Math.max(...files.map((f) => fs.statSync(f).mtimeMs));
}

function build(target, sourcesMtime) {
  const out = path.join(prebuildDir, `leak-agent.abi${target.abi}.node`);
  const local = path.join(root, 'build', 'Release', 'leak_agent.node');
  if (!force && fs.existsSync(out) && fs.statSync(out).mtimeMs >= sourcesMtime) {
    log(`Node ${target.version} (ABI ${target.abi}): up to date`);
    // build/Release may hold another ABI's build from this run; the prebuild is the same binary.
    if (target.current) {
      fs.mkdirSync(path.dirname(local), { recursive: true });
      fs.copyFileSync(out, local);
    }
    return;
  }
  log(`Node ${target.version} (ABI ${target.abi}): building with headers from ${target.nodedir}`);
  const gyp = require.resolve('node-gyp/bin/node-gyp.js', { paths: [root] });
  // Under `npm run`, npm exports npm_config_nodedir (its own config, /usr here) and node-gyp lets
  // that environment value win over --nodedir: every ABI would silently get the system headers.
  // Give node-gyp an environment where both say the same thing.
  const env = { ...process.env, npm_config_nodedir: target.nodedir };
  for (const key of Object.keys(env)) if (/^npm_config_(target|runtime|dist_url|disturl)$/i.test(key)) delete env[key];
  run(process.execPath, [gyp, 'rebuild', `--nodedir=${target.nodedir}`, '--jobs=2', '--loglevel=warn'], { env });
  fs.mkdirSync(prebuildDir, { recursive: true });
  // Load it with the Node it was built for: a binary built against the wrong headers fails here
  // (undefined V8 symbol, or an ABI other than this Node's), at build time, not in a user's process.
  execFileSync(target.bin, ['-e', `const m={exports:{}};process.dlopen(m,${JSON.stringify(local)});if(typeof m.exports.drainGcRecords!=='function'||String(m.exports.nodeModuleVersion)!==process.versions.modules)process.exit(3)`], { stdio: 'inherit' });
  fs.copyFileSync(local, out);
  log(`wrote ${path.relative(root, out)} (loads in Node ${target.version})`);
}

function main() {
  const sourcesMtime = newestSource();
  for (const t of targets()) build(t, sourcesMtime);
}

try {
  main();
} catch (err) {
  log(`FAILED: ${err.message}`);
  log('The agent still works without the addon (JS fallback sampler), but this repository\'s tests and the package\'s prebuilds need it.');
  process.exit(1);
}
