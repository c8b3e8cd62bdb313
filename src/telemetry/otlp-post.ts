/**
 * One OTLP/HTTP export: a POST with bounded retries, under one deadline, that never keeps the host
 * alive.
 *
 * Why not the OpenTelemetry exporters' own transport: it retries on a plain (ref'd) setTimeout
 * for up to the OTLP timeout after every failed export, and its sockets are ref'd, so with a
 * collector that is down, slow or answering 503 a host whose work is done never exits (a new
 * export starts every interval before the last one's retries end). Here every timer and socket is
 * unref'd; an export that is cut short by the host exiting is not lost in any way that matters —
 * metrics are cumulative and the next process starts from its own totals.
 *
 * Not covered: the DNS lookup of a collector given by host name runs in libuv's thread pool and
 * holds the loop until the system resolver answers (loopback and IP endpoints do not look up).
 */
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as https from 'node:https';
import * as zlib from 'node:zlib';
import type { OtlpTarget } from '../config/telemetry-env';

export type PostTarget = Pick<OtlpTarget, 'url' | 'headers'> & Partial<Pick<OtlpTarget, 'compression' | 'tls'>>;

export type PostResult =
  | { ok: true; attempts: number }
  | { ok: false; attempts: number; error: Error & { code?: number | string }; retryable: boolean };

/** Statuses the OTLP specification names as retryable. */
const RETRYABLE_STATUS = new Set([429, 502, 503, 504]);
const RETRYABLE_NETWORK = new Set(['ECONNRESET', 'ECONNREFUSED', 'EPIPE', 'ETIMEDOUT', 'EAI_AGAIN', 'ENETUNREACH', 'EHOSTUNREACH']);
/** At most this many attempts per export, whatever the deadline: a failing collector costs a bounded amount of work. */
export const MAX_ATTEMPTS = 3;
const FIRST_BACKOFF_MS = 250;
/** Only the status matters; a collector that answers megabytes is cut off here. */
const MAX_RESPONSE_BYTES = 64 * 1024;

export class OtlpPoster {
  private readonly inflight = new Set<http.ClientRequest>();
  private readonly sleeps = new Set<() => void>();
  private closed = false;
  private agent: http.Agent | undefined;

  constructor(private readonly target: PostTarget, private readonly contentType: string) {}

  /**
   * One keep-alive agent per exporter; for https with the configured CA and client certificate,
   * read once (a file that cannot be read fails every export with a line naming its variable).
   */
  private agentFor(isHttps: boolean): http.Agent {
    if (this.agent) return this.agent;
    if (!isHttps) {
      this.agent = new http.Agent({ keepAlive: true, maxSockets: 2 });
      return this.agent;
    }
    const pem: { ca?: Buffer; cert?: Buffer; key?: Buffer } = {};
    for (const [key, file] of Object.entries(this.target.tls ?? {}) as ['ca' | 'cert' | 'key', { variable: string; path: string }][]) {
      try {
        pem[key] = fs.readFileSync(file.path);
      } catch (err) {
        throw new Error(`cannot read ${file.variable} file ${file.path}: ${(err as Error).message}`);
      }
    }
    this.agent = new https.Agent({ keepAlive: true, maxSockets: 2, ...pem });
    return this.agent;
  }

  /** Sends `body`, retrying retryable failures, until success, MAX_ATTEMPTS or `deadlineMs` from now. Never rejects. */
  async post(body: Uint8Array, deadlineMs: number): Promise<PostResult> {
    const end = Date.now() + deadlineMs;
    let backoff = FIRST_BACKOFF_MS;
    for (let attempt = 1; ; attempt += 1) {
      const left = end - Date.now();
      const result = await this.once(body, Math.max(1, left));
      if (result.ok) return { ok: true, attempts: attempt };
      const wait = result.retryAfterMs ?? backoff;
      backoff *= 2;
      if (!result.retryable || attempt >= MAX_ATTEMPTS || this.closed || Date.now() + wait >= end) {
        return { ok: false, attempts: attempt, error: result.error, retryable: result.retryable };
      }
      await this.sleep(wait);
    }
  }

  /** Aborts every request in flight and every pending retry; later posts fail at once. */
  close(): void {
    this.closed = true;
    for (const req of this.inflight) req.destroy(new Error('exporter shut down'));
    for (const wake of this.sleeps) wake();
    this.agent?.destroy();
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const wake = () => { clearTimeout(timer); this.sleeps.delete(wake); resolve(); };
      const timer = setTimeout(wake, ms);
      timer.unref();
      this.sleeps.add(wake);
    });
  }

  private once(body: Uint8Array, timeoutMs: number): Promise<{ ok: true } | { ok: false; error: Error & { code?: number | string }; retryable: boolean; retryAfterMs?: number }> {
    return new Promise((resolve) => {
      if (this.closed) {
        resolve({ ok: false, error: new Error('exporter shut down'), retryable: false });
        return;
      }
      let settled = false;
      const finish = (r: Parameters<typeof resolve>[0]) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        this.inflight.delete(req);
        resolve(r);
      };
      const url = new URL(this.target.url);
      const isHttps = url.protocol === 'https:';
      let agent: http.Agent;
      try {
        agent = this.agentFor(isHttps);
      } catch (err) {
        resolve({ ok: false, error: err as Error, retryable: false });
        return;
      }
      const gzip = this.target.compression === 'gzip';
      const payload = gzip ? zlib.gzipSync(body) : Buffer.from(body.buffer, body.byteOffset, body.byteLength);
      const request = isHttps ? https.request : http.request;
      let req: http.ClientRequest;
      try {
        req = request(url, {
          method: 'POST',
          agent,
          headers: {
            ...this.target.headers,
            'content-type': this.contentType,
            'content-length': String(payload.byteLength),
            ...(gzip ? { 'content-encoding': 'gzip' } : {}),
          },
        }, (res) => {
          let received = 0;
          res.on('data', (chunk: Buffer) => {
            received += chunk.length;
            if (received > MAX_RESPONSE_BYTES) res.destroy();
          });
          const status = res.statusCode ?? 0;
          const done = () => {
            if (status >= 200 && status < 300) {
              finish({ ok: true });
              return;
            }
            const retryable = RETRYABLE_STATUS.has(status);
            const error = Object.assign(new Error(`HTTP ${status}${res.statusMessage ? ` ${res.statusMessage}` : ''}${retryable ? ' (a retryable status)' : ''}`), { code: status });
            finish({ ok: false, error, retryable, ...retryAfter(res.headers['retry-after']) });
          };
          res.on('end', done);
          res.on('close', done);
          res.on('error', done);
        });
      } catch (err) {
        // A header value Node refuses (a character outside Latin-1, say) throws here, not as an 'error' event.
        resolve({ ok: false, error: err as Error, retryable: false });
        return;
      }
      // Unref'd on every assignment: the agent refs a kept-alive socket again each time it reuses it.
      req.on('socket', (socket) => socket.unref());
      const timer = setTimeout(() => req.destroy(Object.assign(new Error(`request timed out after ${timeoutMs} ms`), { code: 'ETIMEDOUT' })), timeoutMs);
      timer.unref();
      this.inflight.add(req);
      req.on('error', (err: Error & { code?: string }) => {
        finish({ ok: false, error: err, retryable: err.code !== undefined && RETRYABLE_NETWORK.has(err.code) });
      });
      req.end(payload);
    });
  }
}

/** `Retry-After` in seconds (the HTTP-date form is rare from collectors and read as absent). */
function retryAfter(header: string | string[] | undefined): { retryAfterMs?: number } {
  const text = Array.isArray(header) ? header[0] : header;
  if (text === undefined || !/^\d{1,6}$/.test(text.trim())) return {};
  return { retryAfterMs: Number(text.trim()) * 1000 };
}
