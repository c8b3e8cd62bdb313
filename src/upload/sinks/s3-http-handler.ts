/**
 * The HTTP handler the S3 client sends through: node:http(s) on the uploader's unref'd agents, an
 * idle timeout on the socket, nothing else. The SDK's own handler (@smithy/node-http-handler) arms
 * ref'd timers for every request — a whole-request timer, a socket-acquisition warning, 3 s deferrals
 * of its socket listeners — so a host whose work was done stayed alive for as long as a stalled
 * store held a request (test/upload/upload-faults.test.ts, "S3 store down, stalled…"). Here only
 * sockets and socket timeouts exist, and neither keeps the process alive. The SDK still signs,
 * serializes and parses; this only moves bytes.
 */
import * as http from 'node:http';
import * as https from 'node:https';
import type { Readable } from 'node:stream';
import { unrefHttpAgent, unrefHttpsAgent } from '../unref-agent';

/** The parts of the SDK's HttpRequest this handler reads (structural: the SDK types stay optional). */
interface SdkRequest {
  protocol: string;
  hostname: string;
  port?: number;
  method: string;
  path: string;
  query?: Record<string, string | string[] | null>;
  headers: Record<string, string>;
  body?: unknown;
  fragment?: string;
}

interface SdkResponse {
  statusCode: number;
  reason?: string;
  headers: Record<string, string>;
  body: Readable;
}

/** RFC 3986 escaping as the SDK signs it (encodeURIComponent leaves !'()* alone). */
function escape(s: string): string {
  return encodeURIComponent(s).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

export function queryString(query: SdkRequest['query'] = {}): string {
  const parts: string[] = [];
  for (const key of Object.keys(query).sort()) {
    const value = query[key];
    const k = escape(key);
    if (value === null || value === undefined) parts.push(k);
    else if (Array.isArray(value)) for (const v of value) parts.push(`${k}=${escape(v)}`);
    else parts.push(`${k}=${escape(value)}`);
  }
  return parts.join('&');
}

export function unrefRequestHandler(idleTimeoutMs: number): object {
  return {
    metadata: { handlerProtocol: 'http/1.1' },
    updateHttpClientConfig(): void { /* fixed configuration */ },
    httpHandlerConfigs(): Record<string, never> {
      return {};
    },
    destroy(): void { /* the agents are shared by the process */ },
    handle(request: SdkRequest, options: { abortSignal?: AbortSignal } = {}): Promise<{ response: SdkResponse }> {
      return new Promise((resolve, reject) => {
        const { abortSignal } = options;
        const aborted = (): Error => Object.assign(new Error('Request aborted'), { name: 'AbortError' });
        if (abortSignal?.aborted) {
          reject(aborted());
          return;
        }
        const secure = request.protocol === 'https:';
        const qs = queryString(request.query);
        const req = (secure ? https : http).request({
          protocol: request.protocol,
          hostname: request.hostname.replace(/^\[(.*)\]$/, '$1'),
          ...(request.port ? { port: request.port } : {}),
          method: request.method,
          path: `${request.path}${qs ? `?${qs}` : ''}`,
          headers: request.headers,
          agent: secure ? unrefHttpsAgent() : unrefHttpAgent(),
        });
        // Idle, not total: a large part may take minutes, but never stalls silently.
        req.setTimeout(idleTimeoutMs, () => req.destroy(Object.assign(new Error(`no progress for ${idleTimeoutMs} ms`), { name: 'TimeoutError' })));
        req.on('error', reject);
        req.on('response', (res) => {
          const headers: Record<string, string> = {};
          for (const [k, v] of Object.entries(res.headers)) if (v !== undefined) headers[k] = Array.isArray(v) ? v.join(',') : v;
          resolve({ response: { statusCode: res.statusCode ?? 0, ...(res.statusMessage ? { reason: res.statusMessage } : {}), headers, body: res } });
        });
        if (abortSignal) {
          const onAbort = (): void => {
            req.destroy(aborted());
          };
          abortSignal.addEventListener('abort', onAbort, { once: true });
          req.once('close', () => abortSignal.removeEventListener('abort', onAbort));
        }
        const body = request.body;
        if (body === undefined || body === null) req.end();
        else if (typeof (body as Readable).pipe === 'function') {
          (body as Readable).once('error', (err) => req.destroy(err));
          (body as Readable).pipe(req);
        } else if (typeof body === 'string' || body instanceof Uint8Array) req.end(body);
        else req.end(Buffer.from(body as ArrayBuffer));
      });
    },
  };
}
