/**
 * Container memory limit, usage and OOM history from cgroup v2 or v1.
 *
 * The cgroup of this process is found through /proc/self/cgroup and looked up under the cgroup
 * mount (normally /sys/fs/cgroup). Every path is relative to a root that tests can point at a
 * fixture tree. Reading never throws: an unreadable or absent cgroup is `undefined`.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';

export interface ContainerMemory {
  version: 1 | 2;
  /** The cgroup directory the figures were read from. */
  path: string;
  /** Byte limit, or null when the cgroup has no limit ("max" or the v1 page-rounded huge value). */
  limit: number | null;
  usage: number;
  /** OOM kills recorded for this cgroup (v2 memory.events oom_kill, v1 memory.oom_control oom_kill). */
  oomKills: number | null;
  /** Times the limit was hit (v2 `max`, v1 memory.failcnt). */
  limitHits: number | null;
}

export interface CgroupRoots {
  /** Where /proc/self/cgroup is read from. */
  procSelfCgroup: string;
  /** Mount point of the cgroup filesystem(s). */
  cgroupRoot: string;
}

const DEFAULT_ROOTS: CgroupRoots = { procSelfCgroup: '/proc/self/cgroup', cgroupRoot: '/sys/fs/cgroup' };

/**
 * v1 reports "no limit" as PAGE_COUNTER_MAX * page size (9223372036854771712 on 4 KiB pages);
 * anything at or above 2^62 bytes is not a real limit on any machine that exists.
 */
const V1_UNLIMITED_THRESHOLD = 2 ** 62;

function readText(file: string): string | undefined {
  try {
    return fs.readFileSync(file, 'utf8').trim();
  } catch {
    return undefined;
  }
}

function readNumber(file: string): number | undefined {
  const text = readText(file);
  if (text === undefined || !/^\d+$/.test(text)) return undefined;
  return Number(text);
}

/** Parses flat-keyed files such as memory.events and memory.oom_control ("key value" lines). */
export function parseKeyValues(text: string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const line of text.split('\n')) {
    const [key, value] = line.trim().split(/\s+/);
    if (key && value !== undefined && /^\d+$/.test(value)) out[key] = Number(value);
  }
  return out;
}

/** Lines of /proc/self/cgroup: "hierarchy-id:controllers:path". */
function cgroupPaths(procText: string): { v2?: string; v1Memory?: string } {
  const result: { v2?: string; v1Memory?: string } = {};
  for (const line of procText.split('\n')) {
    const match = /^(\d+):([^:]*):(.*)$/.exec(line.trim());
    if (!match) continue;
    const [, id, controllers, cgPath] = match as unknown as [string, string, string, string];
    if (id === '0' && controllers === '') result.v2 = cgPath;
    else if (controllers.split(',').includes('memory')) result.v1Memory = cgPath;
  }
  return result;
}

/** Candidate directories for a cgroup path: the path itself, then up to the mount (a container often sees "/"). */
function candidates(mount: string, cgPath: string): string[] {
  const dirs: string[] = [];
  let p = cgPath;
  for (;;) {
    dirs.push(path.join(mount, p));
    if (p === '/' || p === '' || p === '.') break;
    p = path.posix.dirname(p);
  }
  return dirs;
}

function readV1(dir: string): ContainerMemory | undefined {
  const limitRaw = readNumber(path.join(dir, 'memory.limit_in_bytes'));
  const usage = readNumber(path.join(dir, 'memory.usage_in_bytes'));
  if (limitRaw === undefined || usage === undefined) return undefined;
  const oomText = readText(path.join(dir, 'memory.oom_control'));
  const oom = oomText === undefined ? undefined : parseKeyValues(oomText);
  return {
    version: 1,
    path: dir,
    limit: limitRaw >= V1_UNLIMITED_THRESHOLD ? null : limitRaw,
    usage,
    oomKills: oom?.oom_kill ?? null,
    limitHits: readNumber(path.join(dir, 'memory.failcnt')) ?? null,
  };
}

function readV2(dir: string): ContainerMemory | undefined {
  const max = readText(path.join(dir, 'memory.max'));
  const usage = readNumber(path.join(dir, 'memory.current'));
  if (max === undefined || usage === undefined) return undefined;
  const eventsText = readText(path.join(dir, 'memory.events'));
  const events = eventsText === undefined ? undefined : parseKeyValues(eventsText);
  return {
    version: 2,
    path: dir,
    limit: max === 'max' || !/^\d+$/.test(max) ? null : Number(max),
    usage,
    oomKills: events?.oom_kill ?? null,
    limitHits: events?.max ?? null,
  };
}

/**
 * Reads the memory cgroup of this process. Where the process's own cgroup has no limit but an
 * ancestor does (v1 hierarchies, nested v2 groups), the tightest limit found walking up wins,
 * because that is the one that will OOM-kill us.
 */
export function readContainerMemory(roots: CgroupRoots = DEFAULT_ROOTS): ContainerMemory | undefined {
  const procText = readText(roots.procSelfCgroup);
  if (procText === undefined) return undefined;
  const paths = cgroupPaths(procText);
  const attempts: { read: (dir: string) => ContainerMemory | undefined; dirs: string[] }[] = [];
  if (paths.v2 !== undefined) {
    // Pure v2 mounts the unified hierarchy at the root; hybrid systems at <root>/unified.
    for (const mount of [roots.cgroupRoot, path.join(roots.cgroupRoot, 'unified')]) {
      attempts.push({ read: readV2, dirs: candidates(mount, paths.v2) });
    }
  }
  if (paths.v1Memory !== undefined) {
    attempts.push({ read: readV1, dirs: candidates(path.join(roots.cgroupRoot, 'memory'), paths.v1Memory) });
  }
  for (const attempt of attempts) {
    let own: ContainerMemory | undefined;
    let tightest: number | null = null;
    for (const dir of attempt.dirs) {
      const reading = attempt.read(dir);
      if (!reading) continue;
      own ??= reading;
      if (reading.limit !== null && (tightest === null || reading.limit < tightest)) tightest = reading.limit;
    }
    if (own) return { ...own, limit: tightest };
  }
  return undefined;
}
