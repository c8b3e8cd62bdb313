/**
 * What the gate needs to know about earlier snapshots, kept on disk so that a process that crashes
 * and restarts every few minutes cannot take a snapshot on every start: `snapshot-ledger.json`
 * under LEAK_AGENT_DIR holds the times of the snapshots of the last 24 h (bounded), and the
 * inventory lists the snapshot files there, oldest first, for the disk budget's retention.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { writeFileAtomic } from './private-files';
import { READ_NOFOLLOW } from './safe-fs';

const DAY_MS = 86_400_000;
/** The per-day limit is validated to at most 1000, so this bound never loses a relevant entry. */
const MAX_ENTRIES = 1000;

export class SnapshotLedger {
  private readonly file: string;

  constructor(private readonly dir: string) {
    this.file = path.join(dir, 'snapshot-ledger.json');
  }

  /** Snapshot times of the last 24 h; an unreadable or corrupt ledger counts as empty. */
  read(now = Date.now()): number[] {
    try {
      const parsed = JSON.parse(readNoFollow(this.file)) as { writes?: unknown };
      if (!Array.isArray(parsed.writes)) return [];
      return parsed.writes.filter((t): t is number => typeof t === 'number' && t > now - DAY_MS && t <= now + 60_000);
    } catch {
      return [];
    }
  }

  record(at: number): void {
    const writes = [...this.read(at), at].slice(-MAX_ENTRIES);
    writeFileAtomic(this.file, JSON.stringify({ schema: 'leak-agent/snapshot-ledger@1', writes }) + '\n');
  }

  /** Snapshot files under the directory (episodes and on-demand), oldest first. */
  inventory(): { path: string; bytes: number; mtimeMs: number }[] {
    const found: { path: string; bytes: number; mtimeMs: number }[] = [];
    const scan = (dir: string, depth: number): void => {
      let entries: fs.Dirent[];
      try {
        entries = fs.readdirSync(dir, { withFileTypes: true });
      } catch {
        return;
      }
      for (const e of entries) {
        const p = path.join(dir, e.name);
        if (e.isDirectory() && depth > 0) scan(p, depth - 1);
        else if (e.isFile() && e.name.endsWith('.heapsnapshot')) {
          try {
            const st = fs.statSync(p);
            found.push({ path: p, bytes: st.size, mtimeMs: st.mtimeMs });
          } catch {
            /* vanished meanwhile */
          }
        }
      }
    };
    // <dir>/episodes/<id>/*.heapsnapshot and <dir>/on-demand/*.heapsnapshot
    scan(path.join(this.dir, 'episodes'), 1);
    scan(path.join(this.dir, 'on-demand'), 0);
    return found.sort((a, b) => a.mtimeMs - b.mtimeMs);
  }
}

function readNoFollow(file: string): string {
  const fd = fs.openSync(file, READ_NOFOLLOW);
  try {
    return fs.readFileSync(fd, 'utf8');
  } finally {
    fs.closeSync(fd);
  }
}
