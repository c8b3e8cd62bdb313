#!/usr/bin/env node
// Bench: what `npm install leak-agent` adds to a service's node_modules, bare and with the optional
// peers a feature needs.
//
// Method. `npm pack` of this tree; for each case an empty project in a temp dir, default npm
// settings (install scripts not approved, as npm 11 does for dependencies), `npm install` of the
// tarball with --prefer-offline. The optional peers are installed the way a user would: the bare
// agent is started with the feature configured, and the `install` command from its one
// missing-package log line is run as printed. Sizes are `du` of node_modules: apparent bytes
// (du -sb) and disk usage (du -sk, 4 KiB blocks here), in MB = 10^6 bytes.
//
// Cases: bare; + OTLP export (metrics and alert logs over http/protobuf, the default protocol);
// + S3 upload; + both.
//
//   node bench/install-size.js      (needs `npm run build`; the registry or npm's cache for the peers)
'use strict';
const { execFileSync, spawnSync } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');

const ROOT = path.resolve(__dirname, '..');
const npmEnv = { ...process.env, npm_config_audit: 'false', npm_config_fund: 'false', npm_config_update_notifier: 'false' };

const FEATURES = {
  otlp: { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:9' },
  s3: { LEAK_AGENT_UPLOAD: 's3://evidence-bucket/service' },
};

function du(dir, flag) {
  return Number(execFileSync('du', [flag, dir], { encoding: 'utf8' }).split('\t')[0]);
}

/** The `install` field of the agent's missing-package line when `feature` is configured. */
function installCommandFor(project, feature) {
  const env = { PATH: process.env.PATH, HOME: process.env.HOME, LEAK_AGENT_LOG: 'stderr', LEAK_AGENT_DIR: path.join(project, 'evidence'), ...FEATURES[feature] };
  // The telemetry decision is made on the agent's first tick; a second of life is enough.
  const r = spawnSync(process.execPath, ['-r', 'leak-agent', '-e', 'setTimeout(() => {}, 1500)'], { cwd: project, env, encoding: 'utf8', timeout: 30_000 });
  const line = r.stderr.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l)).find((l) => l.event === 'agent.error' && l.install);
  if (!line) throw new Error(`no missing-package line for ${feature}:\n${r.stderr}`);
  return line.install;
}

function main() {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'leak-agent-install-size-'));
  try {
    const tarball = execFileSync('npm', ['pack', '--ignore-scripts', '--silent', '--pack-destination', tmp], { cwd: ROOT, env: npmEnv, encoding: 'utf8' }).trim().split('\n').pop();
    const tgz = path.join(tmp, tarball);
    console.log(`leak-agent install size — ${new Date().toISOString().slice(0, 10)}, Node ${process.versions.node}, npm ${execFileSync('npm', ['--version'], { encoding: 'utf8' }).trim()}, ${os.cpus()[0].model.trim()}, ${os.platform()}-${os.arch()}`);
    console.log(`tarball ${tarball}: ${(fs.statSync(tgz).size / 1e6).toFixed(2)} MB`);
    const cases = [['bare', []], ['+ OTLP export', ['otlp']], ['+ S3 upload', ['s3']], ['+ OTLP export + S3 upload', ['otlp', 's3']]];
    const rows = [];
    for (const [label, features] of cases) {
      const project = path.join(tmp, label.replace(/\W+/g, '-') || 'bare');
      fs.mkdirSync(project);
      fs.writeFileSync(path.join(project, 'package.json'), '{"name":"consumer","version":"1.0.0","private":true}\n');
      execFileSync('npm', ['install', '--prefer-offline', tgz], { cwd: project, env: npmEnv, stdio: 'ignore' });
      const commands = features.map((f) => installCommandFor(project, f));
      for (const command of commands) execFileSync('sh', ['-c', `${command} --prefer-offline`], { cwd: project, env: npmEnv, stdio: 'ignore' });
      const nm = path.join(project, 'node_modules');
      const packages = fs.readdirSync(nm).flatMap((d) => (d.startsWith('@') ? fs.readdirSync(path.join(nm, d)).map((s) => `${d}/${s}`) : d.startsWith('.') ? [] : [d]));
      rows.push({ label, bytes: du(nm, '-sb'), kb: du(nm, '-sk'), agentBytes: du(path.join(nm, 'leak-agent'), '-sb'), packages: packages.length, commands });
    }
    console.log('');
    console.log('case                         node_modules apparent   on disk   packages   (leak-agent itself, apparent)');
    for (const r of rows) {
      console.log(`${r.label.padEnd(28)} ${(r.bytes / 1e6).toFixed(2).padStart(8)} MB ${(r.kb * 1024 / 1e6).toFixed(2).padStart(10)} MB ${String(r.packages).padStart(8)}   (${(r.agentBytes / 1e6).toFixed(2)} MB)`);
    }
    console.log('');
    for (const r of rows) for (const c of r.commands) console.log(`${r.label}: ${c}`);
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}

main();
