/**
 * Object key layout (documented in docs/upload.md, "Object keys"):
 *
 *   <prefix>/<service>/<host>/<YYYYMMDDTHHMMSSZ>-<pid>-<episodeId>/<file name>.gz
 *
 * - service: OTEL_SERVICE_NAME, else npm_package_name, else the main script's name, else "node"
 * - host: HOSTNAME (the pod name on Kubernetes), else os.hostname()
 * - the time is the episode's (manifest createdAt / verdict time), so every file of one episode,
 *   and its manifest, share one folder whichever process finally uploads them.
 * Each segment is restricted to [A-Za-z0-9._-] so keys are safe in every store and in URLs.
 */
import * as os from 'node:os';
import * as path from 'node:path';

export interface KeyIdentity {
  service: string;
  host: string;
  pid: number;
}

export function currentIdentity(env: Record<string, string | undefined> = process.env): KeyIdentity {
  const main = process.argv[1] ? path.basename(process.argv[1]).replace(/\.[cm]?[jt]s$/, '') : '';
  return {
    service: firstSet(env.OTEL_SERVICE_NAME, env.npm_package_name, main, 'node'),
    host: firstSet(env.HOSTNAME, safeHostname(), 'unknown-host'),
    pid: process.pid,
  };
}

export function segment(text: string): string {
  const s = text.replace(/[^A-Za-z0-9._-]+/g, '_').slice(0, 100);
  return s === '' || s === '.' || s === '..' ? '_' : s;
}

/** 2026-11-25T13:04:05.123Z → 20261125T130405Z */
export function compactTime(epochMs: number): string {
  return new Date(epochMs).toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z');
}

/** The key relative to the sink's prefix. */
export function objectKey(id: KeyIdentity, episodeId: string | null, episodeTime: number, fileName: string): string {
  const folder = `${compactTime(episodeTime)}-${id.pid}-${segment(episodeId ?? 'no-episode')}`;
  return [segment(id.service), segment(id.host), folder, `${segment(fileName)}.gz`].join('/');
}

export function joinKey(prefix: string, key: string): string {
  return prefix === '' ? key : `${prefix.replace(/\/+$/, '')}/${key}`;
}

function firstSet(...values: (string | undefined)[]): string {
  for (const v of values) if (v !== undefined && v.trim() !== '') return v.trim();
  return '_';
}

function safeHostname(): string | undefined {
  try {
    return os.hostname();
  } catch {
    return undefined;
  }
}
