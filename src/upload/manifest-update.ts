/**
 * Writes a confirmed URI into the episode's manifest (`EvidenceFile.uri`), read-modify-write with an
 * atomic replace so a reader (the CLI, a crash) never sees half a manifest.
 */
import { promises as fsp } from 'node:fs';
import * as path from 'node:path';
import type { EpisodeManifest } from '../evidence/manifest-types';
import { writeFileAtomic } from './atomic-file';

export function manifestPath(episodeDir: string): string {
  return path.join(episodeDir, 'manifest.json');
}

export async function readManifest(episodeDir: string): Promise<EpisodeManifest | undefined> {
  try {
    const m = JSON.parse(await fsp.readFile(manifestPath(episodeDir), 'utf8')) as EpisodeManifest;
    return m && Array.isArray(m.files) ? m : undefined;
  } catch {
    return undefined;
  }
}

/** Returns false when the manifest is missing or does not list the file (nothing to record). */
export async function recordUri(episodeDir: string, source: string, uri: string): Promise<boolean> {
  const manifest = await readManifest(episodeDir);
  if (!manifest) return false;
  const target = path.resolve(source);
  const file = manifest.files.find((f) => path.resolve(episodeDir, f.path) === target);
  if (!file) return false;
  file.uri = uri;
  manifest.updatedAt = new Date().toISOString();
  await writeFileAtomic(manifestPath(episodeDir), JSON.stringify(manifest, null, 2));
  return true;
}
