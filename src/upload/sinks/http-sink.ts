/**
 * `http(s)://…` sink: one PUT per object, streamed from the staged gzip copy with a known
 * Content-Length and a Content-MD5 the receiver can check. The key is appended to the URL's path,
 * or replaces `{key}` when the URL contains it; the query string is kept (tokens). No dependency:
 * node:http/https only.
 *
 * Confirmation: a 2xx answer. When the answer also carries a checksum we understand (an MD5-shaped
 * ETag, `x-amz-checksum-sha256`, `Content-MD5`), it must match ours or the attempt counts as failed.
 */
import { createReadStream } from 'node:fs';
import * as http from 'node:http';
import * as https from 'node:https';
import type { PutRequest, PutResult, Sink } from './types';
import { UploadError } from './types';
import { Throttle } from '../throttle';
import { unrefHttpAgent, unrefHttpsAgent } from '../unref-agent';

export interface HttpSinkOptions {
  url: string;
  display: string;
  headers: Readonly<Record<string, string>>;
  idleTimeoutMs: number;
}

/** 4xx answers that are worth retrying; every other 4xx means the request itself is wrong. */
const RETRYABLE_4XX = new Set([408, 409, 423, 425, 429]);

export function objectUrl(base: string, key: string): string {
  const encoded = key.split('/').map(encodeURIComponent).join('/');
  if (base.includes('{key}')) return base.replace(/\{key\}/g, encoded);
  const url = new URL(base);
  url.pathname = `${url.pathname.replace(/\/+$/, '')}/${encoded}`;
  return url.href;
}

export function createHttpSink(opts: HttpSinkOptions): Sink {
  return {
    display: opts.display,
    put: (req) => put(opts, req),
  };
}

function put(opts: HttpSinkOptions, req: PutRequest): Promise<PutResult> {
  const target = objectUrl(opts.url, req.key);
  const url = new URL(target);
  const secure = url.protocol === 'https:';
  const { staged } = req;
  const headers: Record<string, string> = {
    'content-type': 'application/gzip',
    'content-length': String(staged.bytes),
    'content-md5': Buffer.from(staged.md5, 'hex').toString('base64'),
    ...opts.headers,
  };
  const display = `${url.protocol}//${url.host}${url.pathname}`;

  return new Promise<PutResult>((resolve, reject) => {
    let settled = false;
    const finish = (err: UploadError | null, result?: PutResult): void => {
      if (settled) return;
      settled = true;
      if (err) reject(err);
      else resolve(result as PutResult);
    };
    const request = (secure ? https : http).request(url, {
      method: 'PUT',
      headers,
      agent: secure ? unrefHttpsAgent() : unrefHttpAgent(),
    });
    // Idle timeout, not a total one: a 1 GB body may take minutes but must never stall silently.
    request.setTimeout(opts.idleTimeoutMs, () => {
      request.destroy(new Error(`no progress for ${opts.idleTimeoutMs} ms`));
    });
    request.on('socket', (socket) => socket.unref());
    request.on('error', (err) => finish(new UploadError(`PUT ${display}: ${describe(err)}`, false)));
    request.on('response', (res) => {
      const status = res.statusCode ?? 0;
      // Keep at most a little of the answer for the log; drain the rest so the socket can be reused.
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        if (body.length < 300) body += chunk.slice(0, 300 - body.length);
      });
      res.on('error', (err) => finish(new UploadError(`PUT ${display}: response cut short: ${describe(err)}`, false)));
      res.on('end', () => {
        if (status >= 200 && status < 300) {
          const check = verify(res.headers, staged.md5, staged.sha256);
          if (check.ok) finish(null, { uri: display, verified: check.how });
          else finish(new UploadError(`PUT ${display}: ${check.problem}`, false));
          return;
        }
        // Redirects are not followed (a body cannot be replayed blindly to another host): fix the URL.
        const permanent = (status >= 300 && status < 400) || (status >= 400 && status < 500 && !RETRYABLE_4XX.has(status));
        const snippet = body.replace(/\s+/g, ' ').trim();
        const hint = status >= 300 && status < 400 ? `; redirects are not followed (Location: ${res.headers.location ?? 'none'})` : '';
        finish(new UploadError(`PUT ${display}: HTTP ${status}${snippet ? ` (${snippet})` : ''}${hint}`, permanent));
      });
    });
    const file = createReadStream(staged.path, { highWaterMark: 256 * 1024 });
    file.on('error', (err) => {
      request.destroy(err);
      finish(new UploadError(`reading ${staged.path}: ${err.message}`, false));
    });
    // pipe() honours backpressure: at most a couple of chunks are in memory at any time.
    file.pipe(new Throttle(req.maxBytesPerSec)).pipe(request);
  });
}

type Check = { ok: true; how: string } | { ok: false; problem: string };

function verify(headers: http.IncomingHttpHeaders, md5Hex: string, sha256Hex: string): Check {
  const sha = header(headers, 'x-amz-checksum-sha256');
  if (sha !== undefined) {
    const ours = Buffer.from(sha256Hex, 'hex').toString('base64');
    return sha === ours ? { ok: true, how: 'x-amz-checksum-sha256' } : { ok: false, problem: `store reported sha256 ${sha}, expected ${ours}` };
  }
  const md5 = header(headers, 'content-md5');
  if (md5 !== undefined) {
    const ours = Buffer.from(md5Hex, 'hex').toString('base64');
    return md5 === ours ? { ok: true, how: 'content-md5' } : { ok: false, problem: `store reported Content-MD5 ${md5}, expected ${ours}` };
  }
  const etag = header(headers, 'etag')?.replace(/^W\//, '').replace(/"/g, '').toLowerCase();
  // Only an ETag shaped like an MD5 is an MD5; anything else (multipart, opaque) proves nothing.
  if (etag !== undefined && /^[0-9a-f]{32}$/.test(etag)) {
    return etag === md5Hex ? { ok: true, how: 'etag=md5' } : { ok: false, problem: `store reported ETag ${etag}, expected MD5 ${md5Hex}` };
  }
  return { ok: true, how: '2xx' };
}

function header(headers: http.IncomingHttpHeaders, name: string): string | undefined {
  const v = headers[name];
  return Array.isArray(v) ? v[0] : v;
}

function describe(err: Error): string {
  const code = (err as NodeJS.ErrnoException).code;
  return code && !err.message.includes(code) ? `${err.message} (${code})` : err.message;
}
