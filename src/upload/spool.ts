/**
 * The durable spool: `<LEAK_AGENT_DIR>/spool/`. One small JSON entry per artifact, written
 * atomically before any upload starts and removed only after the store confirmed the object.
 * Beside an entry live its compressed staging copy (`<id>.gz`, made just before the first upload
 * attempt) and its lock (`<id>.lock`). All I/O is async and touches only small files, so it never
 * holds the event loop.
 */
import { promises as fsp } from 'node:fs';
import * as path from 'node:path';
import { randomBytes } from 'node:crypto';
import type { EvidenceKind } from '../evidence/manifest-types';
import { ensureTreeDir } from '../evidence/safe-fs';
import { syncDir, writeFileAtomic } from './atomic-file';

export interface StagedCopy {
  /** The gzip copy in the spool; what is actually sent. */
  path: string;
  bytes: number;
  md5: string;
  sha256: string;
  /** LEAK_AGENT_REDACT this copy was made under (absent: as written). */
  redaction?: 'off' | 'strings' | 'all';
  /** The part size the multipart figures below were computed for. */
  partSize: number;
  /** Hex MD5 of each part (sent as Content-MD5 with each UploadPart); one entry when single-part. */
  partMd5s: string[];
  /** S3's ETag for a multipart upload of this copy: md5(concat(md5(part)))-N; null when single-part. */
  multipartEtag: string | null;
}

export interface SpoolEntry {
  schema: 'leak-agent/spool@1';
  id: string;
  createdAt: number;
  episodeId: string | null;
  /** The episode folder whose manifest.json gets this file's URI; null for loose files. */
  episodeDir: string | null;
  kind: EvidenceKind | 'file';
  source: string;
  /** Size of the source when it was recorded; counts toward the spool's byte bound. */
  bytes: number;
  /** Key relative to the sink's prefix (see object-key.ts), fixed at enqueue time. */
  key: string;
  staged: StagedCopy | null;
  /** sha256 of the source as the episode's manifest lists it (absent for loose files and the manifest). */
  sha256?: string;
}

export class Spool {
  readonly dir: string;

  constructor(private readonly agentDir: string) {
    this.dir = path.join(agentDir, 'spool');
  }

  entryPath(id: string): string {
    return path.join(this.dir, `${id}.json`);
  }

  lockPath(id: string): string {
    return path.join(this.dir, `${id}.lock`);
  }

  stagedPath(id: string): string {
    return path.join(this.dir, `${id}.gz`);
  }

  /** The redacted snapshot a staged copy is compressed from; removed once staged. */
  redactedPath(id: string): string {
    return path.join(this.dir, `${id}.redacted.heapsnapshot`);
  }

  /** Ids sort by creation time, so "oldest first" is a string sort. */
  static newId(now: number): string {
    return `${now.toString(36).padStart(9, '0')}-${randomBytes(4).toString('hex')}`;
  }

  async add(entry: SpoolEntry): Promise<void> {
    // Created by the agent, 0700, never through a link or into another user's folder (safe-fs.ts).
    ensureTreeDir(this.agentDir, this.dir);
    await writeFileAtomic(this.entryPath(entry.id), JSON.stringify(entry));
  }

  async update(entry: SpoolEntry): Promise<void> {
    await writeFileAtomic(this.entryPath(entry.id), JSON.stringify(entry));
  }

  /** Every readable entry, oldest first. An unreadable entry (cut short by a crash before rename
   * cannot happen; hand-edited files can) is reported, not fatal. */
  async list(onBad: (file: string, why: string) => void = () => undefined): Promise<SpoolEntry[]> {
    let names: string[];
    try {
      names = await fsp.readdir(this.dir);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw err;
    }
    const entries: SpoolEntry[] = [];
    for (const name of names.filter((n) => n.endsWith('.json')).sort()) {
      const file = path.join(this.dir, name);
      try {
        const entry = JSON.parse(await fsp.readFile(file, 'utf8')) as SpoolEntry;
        if (entry.schema !== 'leak-agent/spool@1' || typeof entry.id !== 'string' || typeof entry.source !== 'string') {
          onBad(file, 'not a leak-agent spool entry');
          continue;
        }
        entries.push(entry);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'ENOENT') continue; // removed meanwhile
        onBad(file, (err as Error).message);
      }
    }
    return entries;
  }

  /** Removes an entry: the JSON first (the commit point), then its staging copy. */
  async remove(id: string): Promise<void> {
    await fsp.rm(this.entryPath(id), { force: true });
    await syncDir(this.dir);
    await fsp.rm(this.stagedPath(id), { force: true });
    await fsp.rm(`${this.stagedPath(id)}.tmp`, { force: true });
    await fsp.rm(this.redactedPath(id), { force: true });
  }

  /** Leftover staging files whose entry is gone (a crash between the two removals). */
  async sweepOrphans(): Promise<void> {
    let names: string[];
    try {
      names = await fsp.readdir(this.dir);
    } catch {
      return;
    }
    const ids = new Set(names.filter((n) => n.endsWith('.json')).map((n) => n.slice(0, -5)));
    for (const n of names) {
      const id = n.replace(/\.(gz|gz\.tmp|redacted\.heapsnapshot(\.partial-\d+|\.result)?)$/, '');
      if (id !== n && !ids.has(id)) await fsp.rm(path.join(this.dir, n), { force: true });
    }
  }
}
