/**
 * Real child memory cgroups for tests (cgroup v1 here, v2 where the machine has it): created under
 * this process's own memory cgroup, given a limit, and removed afterwards. Needs root; callers skip
 * with the printed reason when `createChildCgroup` returns a string.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';

export interface ChildCgroup {
  version: 1 | 2;
  dir: string;
  /** Shell prefix that moves the shell into the cgroup, then runs the command: `sh -c "<prefix> exec node …"`. */
  enterPrefix: string;
  oomKills(): number;
  remove(): void;
}

function ownCgroupDir(): { version: 1 | 2; dir: string } | string {
  let text: string;
  try {
    text = fs.readFileSync('/proc/self/cgroup', 'utf8');
  } catch (err) {
    return `cannot read /proc/self/cgroup: ${(err as Error).message}`;
  }
  for (const line of text.split('\n')) {
    const [, controllers, cgPath] = line.split(':');
    if (controllers !== undefined && controllers.split(',').includes('memory') && cgPath !== undefined) {
      const dir = path.join('/sys/fs/cgroup/memory', cgPath);
      if (fs.existsSync(path.join(dir, 'memory.limit_in_bytes'))) return { version: 1, dir };
    }
  }
  const v2 = /^0::(.*)$/m.exec(text);
  if (v2 && fs.existsSync(path.join('/sys/fs/cgroup', v2[1] as string, 'cgroup.controllers'))) {
    return { version: 2, dir: path.join('/sys/fs/cgroup', v2[1] as string) };
  }
  return 'no writable memory cgroup found for this process';
}

export function createChildCgroup(name: string, limitBytes: number): ChildCgroup | string {
  if (process.getuid?.() !== 0) return 'not running as root: cannot create a child memory cgroup';
  const own = ownCgroupDir();
  if (typeof own === 'string') return own;
  const dir = path.join(own.dir, `${name}-${process.pid}-${Date.now()}`);
  try {
    fs.mkdirSync(dir);
    if (own.version === 1) {
      fs.writeFileSync(path.join(dir, 'memory.limit_in_bytes'), String(limitBytes));
      // Without swap limits a v1 group may swap instead of OOM-killing; keep the test deterministic.
      try { fs.writeFileSync(path.join(dir, 'memory.swappiness'), '0'); } catch { /* not fatal */ }
    } else {
      fs.writeFileSync(path.join(dir, 'memory.max'), String(limitBytes));
      try { fs.writeFileSync(path.join(dir, 'memory.swap.max'), '0'); } catch { /* no swap controller */ }
    }
  } catch (err) {
    try { fs.rmdirSync(dir); } catch { /* never created */ }
    return `cannot create a child memory cgroup under ${own.dir}: ${(err as Error).message}`;
  }
  return {
    version: own.version,
    dir,
    enterPrefix: `echo $$ > ${path.join(dir, 'cgroup.procs')} &&`,
    oomKills() {
      const file = own.version === 1 ? 'memory.oom_control' : 'memory.events';
      const m = /oom_kill (\d+)/.exec(fs.readFileSync(path.join(dir, file), 'utf8'));
      return m ? Number(m[1]) : 0;
    },
    remove() {
      // A cgroup can be removed once no process is left in it; give killed children a moment.
      for (let i = 0; i < 50; i++) {
        try {
          fs.rmdirSync(dir);
          return;
        } catch {
          const until = Date.now() + 100;
          while (Date.now() < until) { /* brief wait for exiting tasks */ }
        }
      }
    },
  };
}
