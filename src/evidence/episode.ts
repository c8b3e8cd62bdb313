/**
 * One leak episode's directory, `<LEAK_AGENT_DIR>/episodes/<episodeId>/` (0700), and its
 * `manifest.json`: the files written so far with their size and sha256, the verdict, the process,
 * the container and the service. The manifest is rewritten atomically after every file, so a
 * process that dies mid-episode still leaves a manifest that matches the files beside it.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { LeakVerdict } from '../detect/verdict';
import type { ContainerMemory } from '../process/container';
import type { EpisodeManifest, EvidenceFile, EvidenceKind } from './manifest-types';
import { ensurePrivateDir, sha256File, writeFileAtomic } from './private-files';
import type { ServiceInfo } from './service-info';

/** Episode ids come from the detector; keep the directory name to a safe alphabet whatever they hold. */
export function episodeDirName(episodeId: string): string {
  const safe = episodeId.replace(/[^A-Za-z0-9._-]/g, '_').replace(/^\.+/, '_').slice(0, 128);
  return safe === '' ? 'episode' : safe;
}

export class Episode {
  readonly dir: string;
  private readonly manifest: EpisodeManifest;

  constructor(root: string, verdict: LeakVerdict, service: ServiceInfo, container: ContainerMemory | undefined) {
    this.dir = path.join(root, 'episodes', episodeDirName(verdict.episodeId));
    ensurePrivateDir(this.dir);
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
    };
  }

  get id(): string {
    return this.manifest.episodeId;
  }

  pathFor(name: string): string {
    return path.join(this.dir, name);
  }

  /** Records a file already written into the episode directory, then rewrites the manifest. */
  async addFile(kind: EvidenceKind, file: string): Promise<EvidenceFile> {
    const entry: EvidenceFile = { kind, path: file, bytes: fs.statSync(file).size, sha256: await sha256File(file) };
    const existing = this.manifest.files.findIndex((f) => f.path === file);
    if (existing >= 0) this.manifest.files[existing] = entry;
    else this.manifest.files.push(entry);
    this.writeManifest();
    return entry;
  }

  /** Writes small evidence (profiles, series) atomically and records it. */
  async writeFile(kind: EvidenceKind, name: string, data: string | Uint8Array): Promise<EvidenceFile> {
    const file = this.pathFor(name);
    writeFileAtomic(file, data);
    return this.addFile(kind, file);
  }

  files(): EvidenceFile[] {
    return this.manifest.files.map((f) => ({ ...f }));
  }

  writeManifest(): string {
    this.manifest.updatedAt = new Date().toISOString();
    const file = this.pathFor('manifest.json');
    writeFileAtomic(file, JSON.stringify(this.manifest, null, 2) + '\n');
    return file;
  }
}
