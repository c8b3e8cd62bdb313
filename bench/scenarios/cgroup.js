'use strict';
/**
 * A real memory cgroup per scenario child, like a container's: created under this process's own
 * memory cgroup (v1 or v2), given a limit and no swap, removed after the child exits. Needs root.
 * (Same method as test/helpers/cgroup.ts, in plain JS for the bench scripts.)
 */
const fs = require('node:fs');
const path = require('node:path');

function ownMemoryCgroup() {
  const text = fs.readFileSync('/proc/self/cgroup', 'utf8');
  for (const line of text.split('\n')) {
    const [, controllers, cgPath] = line.split(':');
    if (controllers && controllers.split(',').includes('memory') && cgPath !== undefined) {
      const dir = path.join('/sys/fs/cgroup/memory', cgPath);
      if (fs.existsSync(path.join(dir, 'memory.limit_in_bytes'))) return { version: 1, dir };
    }
  }
  const v2 = /^0::(.*)$/m.exec(text);
  if (v2 && fs.existsSync(path.join('/sys/fs/cgroup', v2[1], 'cgroup.controllers'))) return { version: 2, dir: path.join('/sys/fs/cgroup', v2[1]) };
  throw new Error('no memory cgroup found for this process (/proc/self/cgroup)');
}

const created = new Set();

/** Creates a child cgroup limited to `limitBytes`; returns { dir, procs, oomKills(), remove() }. */
function createCgroup(name, limitBytes) {
  if (process.getuid && process.getuid() !== 0) throw new Error('memory cgroups need root');
  const own = ownMemoryCgroup();
  const dir = path.join(own.dir, `${name}-${process.pid}-${Date.now()}-${created.size}`);
  fs.mkdirSync(dir);
  created.add(dir);
  if (own.version === 1) {
    fs.writeFileSync(path.join(dir, 'memory.limit_in_bytes'), String(limitBytes));
    try { fs.writeFileSync(path.join(dir, 'memory.swappiness'), '0'); } catch { /* not fatal */ }
  } else {
    fs.writeFileSync(path.join(dir, 'memory.max'), String(limitBytes));
    try { fs.writeFileSync(path.join(dir, 'memory.swap.max'), '0'); } catch { /* no swap controller */ }
  }
  return {
    dir,
    procs: path.join(dir, 'cgroup.procs'),
    oomKills() {
      const m = /oom_kill (\d+)/.exec(fs.readFileSync(path.join(dir, own.version === 1 ? 'memory.oom_control' : 'memory.events'), 'utf8'));
      return m ? Number(m[1]) : 0;
    },
    remove() { removeDir(dir); },
  };
}

function removeDir(dir) {
  for (let i = 0; i < 50; i++) {
    try { fs.rmdirSync(dir); created.delete(dir); return; } catch (err) {
      if (err.code === 'ENOENT') { created.delete(dir); return; }
      const until = Date.now() + 100;
      while (Date.now() < until) { /* exiting tasks leave the group within moments */ }
    }
  }
}

/** The cgroup.procs file of this process's own memory cgroup (where helpers that must not count go). */
function ownProcsFile() { return path.join(ownMemoryCgroup().dir, 'cgroup.procs'); }

/** Removes every cgroup still left (on exit or interrupt). */
function removeAll() { for (const dir of [...created]) removeDir(dir); }

module.exports = { createCgroup, ownProcsFile, removeAll };
