/**
 * One leak episode's directory, `<LEAK_AGENT_DIR>/episodes/<episodeId>/` (0700), and its
 * `manifest.json`: the files written so far with their size and sha256, the verdict, the process,
 * the container and the service.
 *
 * The manifest is rewritten atomically, synchronously, around every file: a file being written is
 * listed under `writing` before its first byte, and under `files` (with size and sha256) in the
 * same turn of the event loop as it takes its final name. A process that dies at any point leaves a
 * manifest that names every file beside it. Other writers of the manifest (the uploader's URIs,
 * retention's deletions) are merged from disk before each rewrite, never overwritten.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { LeakVerdict } from '../detect/verdict';
import type { ContainerMemory } from '../process/container';
import type { EpisodeManifest, EvidenceFile, EvidenceKind } from './manifest-types';
import { ensurePrivateDir, sha256Of, writeFileAtomic } from './private-files';
import type { ServiceInfo } from './service-info';

/** Episode ids come from the detector; keep the directory name to a safe alphabet whatever they hold. */
export function episodeDirName(episodeId: string): string {
  const safe = episodeId.replace(/[^A-Za-z0-9._-]/g, '_').replace(/^\.+/, '_').slice(0, 128);
  return safe === '' ? 'episode' : safe;
}

/** Where an episode's files go: known before anything is written, so the alert can name them. */
export function episodeDirFor(root: string, episodeId: string): string {
  return path.join(root, 'episodes', episodeDirName(episodeId));
}

/** The names of an episode's files; the n-th profile and snapshot of the episode (1 or 2). */
export const EPISODE_FILES = {
  heapsnapshot: (n: number) => `heap-${n}.heapsnapshot`,
  heapprofile: (n: number) => `allocations-${n}.heapprofile`,
  pprof: (n: number) => `allocations-${n}.pb.gz`,
  series: () => 'series.json',
  manifest: () => 'manifest.json',
} as const;

export class Episode {
  readonly dir: string;
  private readonly manifest: EpisodeManifest;

  constructor(root: string, verdict: LeakVerdict, service: ServiceInfo, container: ContainerMemory | undefined) {
    this.dir = episodeDirFor(root, verdict.episodeId);
    ensurePrivateDir(this.dir, root);
    const now = new Date().toISOString();
    this.manifest = {
      schema: 'leak-agent/episode@1',
      episodeId: verdict.episodeId,
      createdAt: now,
      updatedAt: now,
      service: { name: service.name, version: service.version },
      process: { pid: process.pid, node: process.version, host: os.hostname(), argv0: process.argv0 },
      container: container
        ? { limit: container.limit, usage: container.usage, cgroup: container.version, oomKills: container.oomKills }
        : null,
      verdict,
      files: [],
      writing: [],
    };
    this.writeManifest();
  }

  get id(): string {
    return this.manifest.episodeId;
  }

  get manifestPath(): string {
    return this.pathFor(EPISODE_FILES.manifest());
  }

  pathFor(name: string): string {
    return path.join(this.dir, name);
  }

  /** Lists `file` as being written (before its first byte reaches the disk). */
  beginFile(kind: EvidenceKind, file: string): void {
    const writing = (this.manifest.writing ??= []).filter((w) => w.path !== file);
    writing.push({ kind, path: file, startedAt: new Date().toISOString() });
    this.manifest.writing = writing;
    this.writeManifest();
  }

  /** Records a complete file under its final name, with its size and sha256; it is no longer `writing`. */
  completeFile(kind: EvidenceKind, file: string, bytes: number, sha256: string): EvidenceFile {
    const entry: EvidenceFile = { kind, path: file, bytes, sha256 };
    const existing = this.manifest.files.findIndex((f) => f.path === file);
    if (existing >= 0) this.manifest.files[existing] = entry;
    else this.manifest.files.push(entry);
    this.manifest.writing = (this.manifest.writing ?? []).filter((w) => w.path !== file);
    this.writeManifest();
    return { ...entry };
  }

  /** A file that was begun and will not exist (the write failed and left nothing). */
  abandonFile(file: string): void {
    this.manifest.writing = (this.manifest.writing ?? []).filter((w) => w.path !== file);
    this.writeManifest();
  }

  /** Writes small evidence (profiles, series) atomically and records it in the same turn. */
  writeFile(kind: EvidenceKind, name: string, data: string | Uint8Array): EvidenceFile {
    const file = this.pathFor(name);
    writeFileAtomic(file, data);
    return this.completeFile(kind, file, typeof data === 'string' ? Buffer.byteLength(data) : data.byteLength, sha256Of(data));
  }

  files(): EvidenceFile[] {
    return this.manifest.files.map((f) => ({ ...f }));
  }

  writeManifest(): string {
    this.mergeFromDisk();
    this.manifest.updatedAt = new Date().toISOString();
    const file = this.manifestPath;
    writeFileAtomic(file, JSON.stringify(this.manifest, null, 2) + '\n');
    return file;
  }

  /**
   * Keeps what others recorded in the file since our last write: a file's URI (the uploader) and
   * files the disk budget removed (retention). Synchronous, so nothing of ours interleaves.
   */
  private mergeFromDisk(): void {
    let disk: EpisodeManifest;
    try {
      disk = JSON.parse(fs.readFileSync(this.manifestPath, 'utf8')) as EpisodeManifest;
    } catch {
      return; // not written yet, or unreadable: ours is the only record
    }
    if (disk?.episodeId !== this.manifest.episodeId || !Array.isArray(disk.files)) return;
    const uris = new Map(disk.files.filter((f) => typeof f?.uri === 'string').map((f) => [f.path, f.uri as string]));
    for (const f of this.manifest.files) {
      const uri = uris.get(f.path);
      if (uri !== undefined && f.uri === undefined) f.uri = uri;
    }
    if (Array.isArray(disk.deleted) && disk.deleted.length > 0) {
      const gone = new Set(disk.deleted.map((d) => d.path));
      this.manifest.files = this.manifest.files.filter((f) => !gone.has(f.path));
      const known = new Set((this.manifest.deleted ?? []).map((d) => d.path));
      this.manifest.deleted = [...(this.manifest.deleted ?? []), ...disk.deleted.filter((d) => !known.has(d.path))];
    }
  }
}
