/**
 * What the upload stage records beside an episode's evidence:
 *
 * - the confirmed URI of each file in the episode's manifest (`EvidenceFile.uri`), read-modify-write
 *   with an atomic replace so a reader (the CLI, a crash) never sees half a manifest;
 * - `delivered.json`: every object a sink has confirmed for this episode (key, target, sha256 of
 *   the source, URI, time). This is what makes delivery exactly once per episode: the capture stage
 *   rewrites the manifest from its own copy whenever the episode gains a file (the URIs above can
 *   vanish then), and a new process re-shipping the episode must know what already arrived. The
 *   manifest itself is delivered again only when the list of files it describes changed.
 */
import { createHash } from 'node:crypto';
import { promises as fsp } from 'node:fs';
import * as path from 'node:path';
import type { EpisodeManifest } from '../evidence/manifest-types';
import { writeFileAtomic } from './atomic-file';

export function manifestPath(episodeDir: string): string {
  return path.join(episodeDir, 'manifest.json');
}

export function deliveredPath(episodeDir: string): string {
  return path.join(episodeDir, 'delivered.json');
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

export interface DeliveredObject {
  /** The sink it went to (its display form, no credentials): another target gets its own copy. */
  target: string;
  uri: string;
  /** sha256 of the source file as the manifest lists it; null for the manifest and loose files. */
  sha256: string | null;
  /** For the manifest: the digest of the file list it described (see manifestDigest). */
  filesDigest?: string;
  bytes: number;
  at: string;
  /** LEAK_AGENT_REDACT applied to what was sent (`off` for everything but heap snapshots). */
  redaction?: 'off' | 'strings' | 'all';
}

export interface DeliveryRecord {
  schema: 'leak-agent/delivered@1';
  /** By object key. */
  objects: Record<string, DeliveredObject>;
}

export async function readDelivered(episodeDir: string): Promise<DeliveryRecord> {
  try {
    const r = JSON.parse(await fsp.readFile(deliveredPath(episodeDir), 'utf8')) as DeliveryRecord;
    if (r && r.schema === 'leak-agent/delivered@1' && r.objects && typeof r.objects === 'object') return r;
  } catch {
    /* none yet, or unreadable: nothing is known to be delivered */
  }
  return { schema: 'leak-agent/delivered@1', objects: {} };
}

export async function recordDelivered(episodeDir: string, key: string, object: DeliveredObject): Promise<void> {
  const record = await readDelivered(episodeDir);
  record.objects[key] = object;
  await writeFileAtomic(deliveredPath(episodeDir), JSON.stringify(record, null, 2) + '\n');
}

/**
 * Has this key, with this content, already reached this target? Evidence files compare the
 * source's sha256; the manifest compares the file list it describes (its URIs and `updatedAt` change
 * on every rewrite without saying anything new).
 */
export function isDelivered(record: DeliveryRecord, key: string, target: string, sha256: string | null, filesDigest?: string): boolean {
  const o = record.objects[key];
  if (!o || o.target !== target) return false;
  if (filesDigest !== undefined) return o.filesDigest === filesDigest;
  return sha256 !== null && o.sha256 === sha256;
}

/** What a manifest says about its evidence: the files (name, size, sha256) and the deletions. */
export function manifestDigest(m: EpisodeManifest): string {
  const files = m.files.map((f) => `${path.basename(f.path)}\n${f.bytes}\n${f.sha256}`).sort();
  const deleted = (m.deleted ?? []).map((d) => path.basename(d.path)).sort();
  return createHash('sha256').update(JSON.stringify({ files, deleted })).digest('hex');
}
