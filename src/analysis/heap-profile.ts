/**
 * Top allocation sites of a sampling heap profile (`.heapprofile`, the inspector's
 * `HeapProfiler.SamplingHeapProfile`: a call tree whose nodes carry `selfSize`). Pure.
 */
export interface ProfileCallFrame {
  functionName: string;
  url: string;
  lineNumber: number;
  columnNumber: number;
  scriptId?: string | number;
}

export interface ProfileNode {
  callFrame: ProfileCallFrame;
  selfSize: number;
  id: number;
  children: ProfileNode[];
}

export interface SamplingHeapProfile {
  head: ProfileNode;
  samples?: { size: number; nodeId: number; ordinal: number }[];
}

export interface AllocationSite {
  /** `fn (url:line:column)`, 1-based like a stack trace. */
  site: string;
  functionName: string;
  url: string;
  line: number;
  column: number;
  bytes: number;
  /** Share of all sampled bytes still live when the profile was taken. */
  share: number;
  /** A few callers, innermost first, to tell identical sites apart. */
  callers: string[];
}

export function frameLabel(f: ProfileCallFrame): string {
  const name = f.functionName || '(anonymous)';
  if (!f.url) return name;
  return `${name} (${f.url}:${f.lineNumber + 1}:${f.columnNumber + 1})`;
}

export function isSamplingHeapProfile(x: unknown): x is SamplingHeapProfile {
  const head = (x as { head?: ProfileNode } | null)?.head;
  return !!head && typeof head === 'object' && typeof head.selfSize === 'number' && Array.isArray(head.children) && !!head.callFrame;
}

/** Sums self sizes per source position over the whole tree; largest first. */
export function topAllocationSites(profile: SamplingHeapProfile, limit = 15): AllocationSite[] {
  const sites = new Map<string, AllocationSite>();
  let total = 0;
  const stack: { node: ProfileNode; callers: string[] }[] = [{ node: profile.head, callers: [] }];
  while (stack.length > 0) {
    const { node, callers } = stack.pop() as { node: ProfileNode; callers: string[] };
    const f = node.callFrame;
    const label = frameLabel(f);
    if (node.selfSize > 0) {
      total += node.selfSize;
      const key = `${f.functionName}\u0000${f.url}\u0000${f.lineNumber}\u0000${f.columnNumber}`;
      const site = sites.get(key);
      if (site) site.bytes += node.selfSize;
      else {
        sites.set(key, {
          site: label,
          functionName: f.functionName,
          url: f.url,
          line: f.lineNumber + 1,
          column: f.columnNumber + 1,
          bytes: node.selfSize,
          share: 0,
          callers: callers.slice(0, 4),
        });
      }
    }
    const next = [label, ...callers].slice(0, 5);
    for (const c of node.children ?? []) stack.push({ node: c, callers: next });
  }
  const list = [...sites.values()].sort((a, b) => b.bytes - a.bytes).slice(0, limit);
  for (const s of list) s.share = total > 0 ? s.bytes / total : 0;
  return list;
}
