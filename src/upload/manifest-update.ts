/**
 * What the upload stage records about an episode's evidence:
 *
 * - the confirmed URI of each file in the episode's manifest (`EvidenceFile.uri`), read-modify-write
 *   with an atomic replace so a reader (the CLI, a crash) never sees half a manifest;
 * - the delivery record, `<LEAK_AGENT_DIR>/spool/delivered/<episode>.json`: every object a target
 *   has confirmed for this episode (key, target, sha256 of the source, URI, redaction, time). This is
 *   what makes delivery exactly once per episode: a URI says a file went somewhere, not to which
 *   target nor with which content, and a new process re-shipping the episode must know what already
 *   arrived where. The manifest itself is delivered again only when the list of files it describes
 *   changed. The record lives in the spool, not in the episode folder, which holds only files its
 *   manifest lists.
 */
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import { promises as fsp } from 'node:fs';
import * as path from 'node:path';
import type { EpisodeManifest } from '../evidence/manifest-types';
import { writeFileAtomic as writeFileAtomicNow } from '../evidence/private-files';
import { ensureTreeDir } from '../evidence/safe-fs';
import { writeFileAtomic } from './atomic-file';

export function manifestPath(episodeDir: string): string {
  return path.join(episodeDir, 'manifest.json');
}

/** `<spool>/delivered/<episode folder name>-<hash of its path>.json`: one record per episode folder. */
export function deliveredPath(spoolDir: string, episodeDir: string): string {
  const abs = path.resolve(episodeDir);
  const tag = createHash('sha256').update(abs).digest('hex').slice(0, 12);
  return path.join(spoolDir, 'delivered', `${path.basename(abs).replace(/[^A-Za-z0-9._-]/g, '_').slice(0, 100)}-${tag}.json`);
}

export async function readManifest(episodeDir: string): Promise<EpisodeManifest | undefined> {
  try {
    const m = JSON.parse(await fsp.readFile(manifestPath(episodeDir), 'utf8')) as EpisodeManifest;
    return m && Array.isArray(m.files) ? m : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Returns false when the manifest is missing or does not list the file (nothing to record).
 * One synchronous read-modify-write: the episode rewrites the same file synchronously, and an
 * await between our read and our write would let a file it adds meanwhile vanish from the manifest
 * (until its next write) when our stale copy replaces its own. The manifest is a few KB.
 */
export async function recordUri(episodeDir: string, source: string, uri: string): Promise<boolean> {
  let manifest: EpisodeManifest;
  try {
    manifest = JSON.parse(fs.readFileSync(manifestPath(episodeDir), 'utf8')) as EpisodeManifest;
  } catch {
    return false;
  }
  if (!manifest || !Array.isArray(manifest.files)) return false;
  const target = path.resolve(source);
  const file = manifest.files.find((f) => path.resolve(episodeDir, f.path) === target);
  if (!file) return false;
  file.uri = uri;
  manifest.updatedAt = new Date().toISOString();
  writeFileAtomicNow(manifestPath(episodeDir), JSON.stringify(manifest, null, 2) + '\n');
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
  /** The episode folder this record is about (a record whose folder is gone is pruned). */
  episodeDir: string;
  /** By object key. */
  objects: Record<string, DeliveredObject>;
}

export async function readDelivered(spoolDir: string, episodeDir: string): Promise<DeliveryRecord> {
  try {
    const r = JSON.parse(await fsp.readFile(deliveredPath(spoolDir, episodeDir), 'utf8')) as DeliveryRecord;
    if (r && r.schema === 'leak-agent/delivered@1' && r.objects && typeof r.objects === 'object') return r;
  } catch {
    /* none yet, or unreadable: nothing is known to be delivered */
  }
  return { schema: 'leak-agent/delivered@1', episodeDir: path.resolve(episodeDir), objects: {} };
}

export async function recordDelivered(spoolDir: string, episodeDir: string, key: string, object: DeliveredObject): Promise<void> {
  const record = await readDelivered(spoolDir, episodeDir);
  record.objects[key] = object;
  const file = deliveredPath(spoolDir, episodeDir);
  ensureTreeDir(path.dirname(spoolDir), path.dirname(file));
  await writeFileAtomic(file, JSON.stringify(record, null, 2) + '\n');
}

/** Removes the records of episode folders that no longer exist (bounded: one small file per live episode). */
export async function pruneDelivered(spoolDir: string): Promise<void> {
  const dir = path.join(spoolDir, 'delivered');
  let names: string[];
  try {
    names = await fsp.readdir(dir);
  } catch {
    return;
  }
  for (const n of names.filter((x) => x.endsWith('.json'))) {
    const file = path.join(dir, n);
    try {
      const r = JSON.parse(await fsp.readFile(file, 'utf8')) as Partial<DeliveryRecord>;
      if (typeof r.episodeDir === 'string') await fsp.access(r.episodeDir);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') await fsp.rm(file, { force: true });
    }
  }
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
