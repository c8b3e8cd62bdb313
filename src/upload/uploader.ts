/**
 * The upload stage: records artifacts in the durable spool, then ships them one at a time to the
 * configured sink, off the hot path.
 *
 *   enqueue ─> spool entry (atomic) ─> [lock] ─> gzip staging copy ─> sink.put ─> store confirmed
 *           ─> delivery record + URI into the episode manifest ─> entry removed ─> `upload.done`
 *
 * - Exactly once per episode: an artifact already confirmed for this target (the delivery record in
 *   spool/delivered/, same key and content) is neither spooled nor sent again, whichever process ships
 *   the episode and however often; the manifest goes again only when the files it lists changed.
 * - One upload at a time: bounded memory and bandwidth, whatever the backlog.
 * - A retryable failure pauses the whole sink (exponential backoff, full jitter, capped) instead
 *   of hammering a store that is down with every queued entry.
 * - A permanent failure (no bucket, no credentials, 4xx) parks the entry for this process: one
 *   `upload.failed` line with willRetry=false, and the entry stays for the next process.
 * - An episode's manifest is uploaded last, once no other entry of that episode is left.
 * - Timers are unref'd and sockets too: the uploader never keeps the host alive. Nothing here
 *   throws into the host; every public method catches and logs.
 */
import { promises as fsp } from 'node:fs';
import * as path from 'node:path';
import type { EvidenceFile, EvidenceKind } from '../evidence/manifest-types';
import type { AgentLogger } from '../log/logger';
import { backoffDelayMs } from './backoff';
import { NoRoomError, stageCompressed } from './compress';
import { isDelivered, manifestDigest, manifestPath, pruneDelivered, readDelivered, readManifest, recordDelivered, recordUri } from './manifest-update';
import { currentIdentity, objectKey, type KeyIdentity } from './object-key';
import type { UploadOptions } from './options';
import { sinkFor } from './sink-for';
import type { Sink } from './sinks/types';
import { UploadError } from './sinks/types';
import { Spool, type SpoolEntry } from './spool';
import { acquireLock, releaseLock } from './spool-lock';
import { needsRedaction, redactToFile, type RedactMode } from './redaction';

export interface EnqueueRequest {
  episodeId?: string | null;
  /** Folder holding the episode's manifest.json; its files' URIs are recorded there. */
  episodeDir?: string | null;
  /** Epoch ms the episode began, used when there is no manifest; keys group an episode's files under it. */
  episodeTime?: number;
  /** Files to ship; when empty, the files listed in the episode's manifest (those without a URI yet). */
  files?: (string | EvidenceFile)[];
}

/** An episode folder, a list of files, or the full request. */
export type EnqueueInput = string | (string | EvidenceFile)[] | EnqueueRequest;

export interface UploaderDeps {
  dir: string;
  options: UploadOptions;
  logger: AgentLogger;
  env?: Record<string, string | undefined>;
  identity?: KeyIdentity;
  /** Injected in tests only; normally built from `options.target`. */
  sink?: Sink;
}

/** At start, at most this many recent episodes are checked for evidence that never reached the spool. */
const RESUME_EPISODES = 32;

/** How long to leave an entry alone when another live process holds its lock. */
const HELD_ELSEWHERE_RETRY_MS = 5_000;

export class Uploader {
  private readonly spool: Spool;
  private readonly sink: Sink | undefined;
  private readonly identity: KeyIdentity;
  private readonly parked = new Map<string, string>();
  private readonly heldElsewhere = new Map<string, number>();
  private readonly attempts = new Map<string, number>();
  private consecutiveFailures = 0;
  private pausedUntil = 0;
  private timer: NodeJS.Timeout | undefined;
  private pumping = false;
  private again = false;
  private stopped = false;
  private inflight: string | undefined;
  private settledWaiters: (() => void)[] = [];
  private readonly recording = new Set<Promise<number>>();
  private recordChain: Promise<unknown> = Promise.resolve();
  private readonly reportedBad = new Set<string>();
  private counters = { done: 0, failed: 0, dropped: 0, bytes: 0, compressedBytes: 0 };
  /** LEAK_AGENT_REDACT: applied to heap snapshots before they leave the machine (redaction.ts). */
  private readonly redact: RedactMode;

  constructor(private readonly deps: UploaderDeps) {
    this.redact = deps.options.redact;
    this.spool = new Spool(deps.dir);
    this.identity = deps.identity ?? currentIdentity(deps.env ?? process.env);
    const target = deps.options.target;
    this.sink = deps.sink ?? (target ? sinkFor(target, deps.options, deps.env ?? process.env, deps.logger) : undefined);
  }

  /** Resumes whatever a predecessor left in the spool. */
  start(): void {
    void this.serially('start', async () => {
      await this.spool.sweepOrphans();
      await pruneDelivered(this.spool.dir);
      if (this.sink) await this.resumeEpisodes();
      this.kick();
      return 0;
    });
  }

  /** Records the artifacts in the spool (durably) and starts shipping them. Never rejects. */
  enqueue(input: EnqueueInput): Promise<number> {
    return this.serially('enqueue', () => this.record(normalize(input)));
  }

  /** Recording runs one job at a time (two recordings of one episode would both find it unspooled); whenSettled waits for them. */
  private serially(where: string, job: () => Promise<number>): Promise<number> {
    const recording = this.recordChain.then(() => this.guard(where, job, 0));
    this.recordChain = recording;
    this.recording.add(recording);
    void recording.finally(() => this.recording.delete(recording));
    return recording;
  }

  /** Resolves once every enqueue so far is recorded and nothing is left in the spool except
   * entries parked by a permanent failure (or immediately after stop()). */
  async whenSettled(): Promise<void> {
    await Promise.all([...this.recording]);
    return new Promise((resolve) => {
      this.settledWaiters.push(resolve);
      this.kick();
    });
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    for (const w of this.settledWaiters.splice(0)) w();
  }

  status(): Record<string, unknown> {
    return { target: this.sink?.display ?? null, redact: this.redact, parked: this.parked.size, inflight: this.inflight ?? null, ...this.counters };
  }

  // ---- recording -------------------------------------------------------------------------------

  /**
   * A process can die between writing an evidence file (listed in its manifest at once) and
   * recording it in the spool — a SIGTERM right after the pair's second snapshot. At start, the
   * episodes under LEAK_AGENT_DIR whose manifest lists a file that neither has a URI nor is in the
   * delivery record are shipped again: the manifest says what exists, the record what arrived.
   * Files go into the folder their episode's delivered objects already use, so a pair stays together.
   */
  private async resumeEpisodes(): Promise<void> {
    const root = path.join(this.deps.dir, 'episodes');
    let names: string[];
    try {
      names = (await fsp.readdir(root, { withFileTypes: true })).filter((d) => d.isDirectory()).map((d) => d.name);
    } catch {
      return;
    }
    // Bounded: the most recently changed episodes.
    const dated = await Promise.all(names.map(async (n) => ({ n, t: (await fsp.stat(path.join(root, n)).catch(() => undefined))?.mtimeMs ?? 0 })));
    for (const { n } of dated.sort((a, b) => b.t - a.t).slice(0, RESUME_EPISODES)) {
      const episodeDir = path.join(root, n);
      const manifest = await readManifest(episodeDir);
      if (!manifest) continue;
      const delivered = await readDelivered(this.spool.dir, episodeDir);
      const target = this.sink?.display ?? '';
      const pending = manifest.files.filter((f) => f.kind !== 'manifest' && !f.uri &&
        !Object.entries(delivered.objects).some(([key, o]) => o.target === target && o.sha256 === f.sha256 && key.endsWith(`/${path.basename(f.path)}.gz`)));
      if (pending.length === 0) continue;
      const sent = Object.keys(delivered.objects)[0];
      await this.record({ episodeId: manifest.episodeId, episodeDir, files: [] }, sent ? sent.slice(0, sent.lastIndexOf('/')) : undefined);
    }
  }

  private async record(input: EnqueueRequest, keyFolder?: string): Promise<number> {
    let req = input;
    // A single path that is a file, not an episode folder.
    if (req.episodeDir && !req.files?.length && !(await isDirectory(req.episodeDir))) req = { files: [req.episodeDir] };
    const episodeDir = req.episodeDir ? path.resolve(req.episodeDir) : null;
    const manifest = episodeDir ? await readManifest(episodeDir) : undefined;
    const episodeId = req.episodeId ?? manifest?.episodeId ?? null;
    // The manifest's time wins: it is fixed for the episode, so a second verdict of the same episode
    // (or a second enqueue) lands in the same folder and is recognised as already spooled.
    const manifestTime = manifest ? Date.parse(manifest.createdAt) : NaN;
    const episodeTime = Number.isFinite(manifestTime) ? manifestTime : req.episodeTime ?? NaN;
    const time = Number.isFinite(episodeTime) ? episodeTime : Date.now();

    type Wanted = { path: string; kind: EvidenceKind | 'file'; sha256: string | null };
    let files: Wanted[] = (req.files ?? []).map((f) =>
      typeof f === 'string' ? { path: f, kind: 'file' as const, sha256: null } : { path: f.path, kind: f.kind, sha256: f.sha256 ?? null });
    if (files.length === 0 && manifest && episodeDir) {
      files = manifest.files.filter((f) => !f.uri && f.kind !== 'manifest').map((f) => ({ path: path.resolve(episodeDir, f.path), kind: f.kind, sha256: f.sha256 ?? null }));
    }
    const delivered = episodeDir ? await readDelivered(this.spool.dir, episodeDir) : undefined;
    const target = this.sink?.display;
    const existing = await this.spool.list();
    const known = new Set(existing.map((e) => `${e.source}\n${e.key}`));
    // A file already waiting in the spool (under whatever key it was given) is not spooled twice.
    const waitingSources = new Set(existing.map((e) => e.source));
    let added = 0;
    const add = async (source: string, kind: EvidenceKind | 'file', sha256: string | null, filesDigest?: string): Promise<void> => {
      const abs = path.resolve(source);
      let bytes: number;
      try {
        bytes = (await fsp.stat(abs)).size;
      } catch (err) {
        this.fail({ source: abs }, `cannot read ${abs}: ${(err as Error).message}`, 1, false, null);
        return;
      }
      const key = keyFolder ? `${keyFolder}/${objectKey(this.identity, episodeId, time, path.basename(abs)).split('/').pop() as string}` : objectKey(this.identity, episodeId, time, path.basename(abs));
      if (known.has(`${abs}\n${key}`) || waitingSources.has(abs)) return; // already spooled: enqueue is idempotent
      if (delivered && target && isDelivered(delivered, key, target, sha256, filesDigest)) return; // already at the sink
      const now = Date.now();
      const entry: SpoolEntry = {
        schema: 'leak-agent/spool@1', id: Spool.newId(now), createdAt: now, episodeId, episodeDir, kind, source: abs, bytes, key, staged: null,
        ...(sha256 ? { sha256 } : {}),
      };
      await this.spool.add(entry);
      known.add(`${abs}\n${key}`);
      waitingSources.add(abs);
      existing.push(entry);
      added += 1;
      this.deps.logger.log('upload.queued', { id: entry.id, source: abs, key, bytes, episodeId, target: this.sink?.display ?? null });
    };
    for (const f of files) await add(f.path, f.kind, f.sha256);
    // The manifest goes last (see pick()); record it now so a crash cannot forget it.
    if (episodeDir && manifest) await add(manifestPath(episodeDir), 'manifest', null, manifestDigest(manifest));
    await this.enforceBounds(existing);
    if (added > 0) this.kick();
    return added;
  }

  /** Keeps the spool within its count and byte bounds by dropping the oldest entries. */
  private async enforceBounds(entries: SpoolEntry[]): Promise<void> {
    const { spoolMaxFiles, spoolMaxBytes } = this.deps.options;
    const live = [...entries].sort((a, b) => (a.id < b.id ? -1 : 1));
    let bytes = live.reduce((s, e) => s + e.bytes, 0);
    while (live.length > 0 && (live.length > spoolMaxFiles || bytes > spoolMaxBytes)) {
      const victim = live.find((e) => e.id !== this.inflight);
      if (!victim) break;
      live.splice(live.indexOf(victim), 1);
      bytes -= victim.bytes;
      await this.spool.remove(victim.id);
      this.counters.dropped += 1;
      this.deps.logger.log('upload.dropped', {
        id: victim.id, source: victim.source, key: victim.key, episodeId: victim.episodeId, bytes: victim.bytes,
        spoolFiles: live.length, spoolBytes: bytes, maxFiles: spoolMaxFiles, maxBytes: spoolMaxBytes,
        message: `spool full (limits: ${spoolMaxFiles} files, ${spoolMaxBytes} bytes): dropped the oldest entry; ${victim.source} is not uploaded but stays on local disk`,
      });
    }
  }

  // ---- shipping --------------------------------------------------------------------------------

  private kick(): void {
    if (this.stopped) return;
    void this.guard('pump', () => this.pump());
  }

  private schedule(ms: number): void {
    if (this.stopped) return;
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.kick();
    }, Math.max(ms, 1));
    this.timer.unref();
  }

  private async pump(): Promise<void> {
    if (this.pumping) {
      this.again = true;
      return;
    }
    this.pumping = true;
    try {
      do {
        this.again = false;
        while (!this.stopped) {
          const entries = await this.spool.list((file, why) => {
            if (this.reportedBad.has(file)) return; // once per file, not once per pass
            this.reportedBad.add(file);
            this.deps.logger.log('agent.error', { where: 'upload', message: `ignoring unreadable spool entry ${file}: ${why}` });
          });
          const waiting = entries.filter((e) => !this.parked.has(e.id));
          if (waiting.length === 0 || !this.sink) {
            this.settle();
            break;
          }
          const now = Date.now();
          if (now < this.pausedUntil) {
            this.schedule(this.pausedUntil - now);
            break;
          }
          const next = this.pick(waiting, entries, now);
          if (!next) {
            const soonest = Math.min(...[...this.heldElsewhere.values()].filter((t) => t > now));
            if (Number.isFinite(soonest)) this.schedule(soonest - now);
            else this.settle(); // only manifests waiting on parked siblings: nothing this process can do
            break;
          }
          await this.ship(next, this.sink);
        }
      } while (this.again && !this.stopped);
    } finally {
      this.pumping = false;
    }
  }

  /** The oldest ready entry; a manifest only once no other entry of its episode is left (even a parked one). */
  private pick(waiting: SpoolEntry[], all: SpoolEntry[], now: number): SpoolEntry | undefined {
    for (const e of waiting) {
      const heldUntil = this.heldElsewhere.get(e.id);
      if (heldUntil !== undefined && heldUntil > now) continue;
      if (e.kind === 'manifest' && all.some((o) => o.kind !== 'manifest' && o.episodeDir === e.episodeDir)) continue;
      return e;
    }
    return undefined;
  }

  private settle(): void {
    if (this.recording.size > 0) return; // an enqueue in progress will kick the pump again
    for (const w of this.settledWaiters.splice(0)) w();
  }

  private async ship(entry: SpoolEntry, sink: Sink): Promise<void> {
    const lockFile = this.spool.lockPath(entry.id);
    const lock = await acquireLock(lockFile);
    if (!lock.acquired) {
      this.heldElsewhere.set(entry.id, Date.now() + HELD_ELSEWHERE_RETRY_MS);
      return;
    }
    this.heldElsewhere.delete(entry.id);
    this.inflight = entry.id;
    const attempt = (this.attempts.get(entry.id) ?? 0) + 1;
    this.attempts.set(entry.id, attempt);
    const started = Date.now();
    try {
      // Re-read under the lock: another process may have finished (and removed) it meanwhile.
      const current = (await this.spool.list()).find((e) => e.id === entry.id);
      if (!current) return;
      // The manifest is read now, as it will be sent: its digest is what the delivery record keeps.
      const manifest = current.kind === 'manifest' && current.episodeDir ? await readManifest(current.episodeDir) : undefined;
      const filesDigest = manifest ? manifestDigest(manifest) : undefined;
      if (current.episodeDir && (await this.alreadyDelivered(current, sink, filesDigest))) {
        await this.spool.remove(current.id);
        this.attempts.delete(current.id);
        return;
      }
      const redaction: RedactMode = needsRedaction(current.kind, current.source, this.redact) ? this.redact : 'off';
      // A staged copy is reused across retries and restarts, unless it was made under another LEAK_AGENT_REDACT.
      if (!current.staged || (current.staged.redaction ?? 'off') !== redaction || !(await exists(current.staged.path))) {
        if (!(await exists(current.source))) {
          this.fail(current, `source file ${current.source} is gone (deleted before it could be uploaded); entry removed`, attempt, false, null);
          await this.spool.remove(current.id);
          return;
        }
        const redacted = redaction === 'off' ? undefined : this.spool.redactedPath(current.id);
        try {
          if (redacted && redaction !== 'off') await redactToFile(current.source, redacted, redaction, current.bytes);
          const staged = await stageCompressed(redacted ?? current.source, this.spool.stagedPath(current.id), this.deps.options.partSizeBytes, current.bytes, this.deps.options.maxBytesPerSec);
          current.staged = { ...staged, redaction };
        } finally {
          if (redacted) await fsp.rm(redacted, { force: true });
        }
        await this.spool.update(current);
      }
      const result = await sink.put({ key: current.key, staged: current.staged, maxBytesPerSec: this.deps.options.maxBytesPerSec });
      if (current.episodeDir) {
        // Recorded before the spool entry goes: a crash in between finds it delivered and sends nothing twice.
        await recordDelivered(this.spool.dir, current.episodeDir, current.key, {
          target: sink.display, uri: result.uri, sha256: current.sha256 ?? null, bytes: current.bytes, at: new Date().toISOString(), redaction,
          ...(filesDigest ? { filesDigest } : {}),
        }).catch((err: Error) =>
          this.deps.logger.log('agent.error', { where: 'upload', message: `could not record the delivery of ${result.uri} in ${current.episodeDir as string}: ${err.message}` }));
      }
      if (current.episodeDir && current.kind !== 'manifest') {
        await recordUri(current.episodeDir, current.source, result.uri).catch((err: Error) =>
          this.deps.logger.log('agent.error', { where: 'upload', message: `could not record ${result.uri} in ${manifestPath(current.episodeDir as string)}: ${err.message}` }));
      }
      await this.spool.remove(current.id);
      this.consecutiveFailures = 0;
      this.attempts.delete(current.id);
      this.counters.done += 1;
      this.counters.bytes += current.bytes;
      this.counters.compressedBytes += current.staged.bytes;
      this.deps.logger.log('upload.done', {
        uri: result.uri, key: current.key, kind: current.kind, episodeId: current.episodeId, source: current.source,
        bytes: current.bytes, compressedBytes: current.staged.bytes, durationMs: Date.now() - started, attempt, verified: result.verified, redaction,
      });
    } catch (err) {
      const permanent = err instanceof UploadError && err.permanent;
      if (permanent) {
        this.parked.set(entry.id, (err as Error).message);
        this.fail(entry, (err as Error).message, attempt, false, null);
      } else {
        this.consecutiveFailures += 1;
        const delay = backoffDelayMs(this.consecutiveFailures, this.deps.options.retryBaseMs, this.deps.options.retryMaxMs);
        this.pausedUntil = Date.now() + delay;
        const reason = err instanceof NoRoomError || err instanceof UploadError ? err.message : `unexpected: ${(err as Error).message}`;
        this.fail(entry, reason, attempt, true, delay);
      }
    } finally {
      this.inflight = undefined;
      await releaseLock(lockFile).catch(() => undefined);
    }
  }

  /** Confirmed for this target already (by this process before a crash, or by another one)? */
  private async alreadyDelivered(entry: SpoolEntry, sink: Sink, filesDigest: string | undefined): Promise<boolean> {
    if (!entry.episodeDir) return false;
    const record = await readDelivered(this.spool.dir, entry.episodeDir);
    return isDelivered(record, entry.key, sink.display, entry.sha256 ?? null, filesDigest);
  }

  private fail(entry: Partial<SpoolEntry>, reason: string, attempt: number, willRetry: boolean, nextAttemptInMs: number | null): void {
    this.counters.failed += 1;
    this.deps.logger.log('upload.failed', {
      reason, target: this.sink?.display ?? null, id: entry.id ?? null, source: entry.source ?? null, key: entry.key ?? null,
      episodeId: entry.episodeId ?? null, attempt, willRetry, nextAttemptInMs,
      ...(willRetry || !entry.id ? {} : { stays: `in the spool (${this.spool.dir}); retried when the agent next starts` }),
    });
  }

  /** Runs an async job and turns any error into one `agent.error` line: never throws into the host. */
  private async guard<T>(where: string, job: () => Promise<T>, fallback?: T): Promise<T> {
    try {
      return await job();
    } catch (err) {
      try {
        this.deps.logger.log('agent.error', { where: `upload.${where}`, message: (err as Error).message });
      } catch {
        /* nothing left to tell */
      }
      return fallback as T;
    }
  }
}

function normalize(input: EnqueueInput): EnqueueRequest {
  if (typeof input === 'string') {
    const dir = path.basename(input) === 'manifest.json' ? path.dirname(input) : input;
    return { episodeDir: dir };
  }
  if (Array.isArray(input)) return { files: input };
  return input;
}

async function isDirectory(p: string): Promise<boolean> {
  try {
    return (await fsp.stat(p)).isDirectory();
  } catch {
    return false;
  }
}

async function exists(file: string): Promise<boolean> {
  try {
    await fsp.access(file);
    return true;
  } catch {
    return false;
  }
}
