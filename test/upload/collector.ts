/**
 * A plain node:http collector on loopback for the PUT sink, with the misbehaviours a real network
 * has. It records every body it acknowledged with a 2xx, per path, so a test can say "exactly once".
 */
import { createHash } from 'node:crypto';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';

export type Behaviour =
  | { kind: 'ok' }
  | { kind: 'fail-first'; count: number } // answers 500 to the first `count` requests
  | { kind: 'slow'; chunkDelayMs: number; answerDelayMs: number } // reads slowly, answers late
  | { kind: 'cut-first'; count: number } // closes the connection mid-body on the first `count` requests
  | { kind: 'stall-first'; afterBytes: number } // stops reading the first request after some bytes
  | { kind: 'forbid' }; // answers 403 to everything (a wrong token)

export interface Collector {
  /** Starts listening (for a collector created down, with delayListenMs = Infinity). */
  listen(): Promise<void>;
  port: number;
  url: string;
  /** Acknowledged bodies per path (without the query string). */
  stored: Map<string, Buffer[]>;
  requests: number;
  /** Bytes received so far by the request currently stalled (stall-first). */
  stalledBytes: () => number;
  headersSeen: http.IncomingHttpHeaders[];
  close(): Promise<void>;
}

export async function startCollector(behaviour: Behaviour, port = 0, delayListenMs = 0): Promise<Collector> {
  const stored = new Map<string, Buffer[]>();
  const headersSeen: http.IncomingHttpHeaders[] = [];
  let requests = 0;
  let stalled = 0;
  const server = http.createServer((req, res) => {
    requests += 1;
    const n = requests;
    headersSeen.push(req.headers);
    const chunks: Buffer[] = [];
    let received = 0;
    req.on('data', (chunk: Buffer) => {
      chunks.push(chunk);
      received += chunk.length;
      if (behaviour.kind === 'cut-first' && n <= behaviour.count) req.socket.destroy();
      if (behaviour.kind === 'slow') {
        req.pause();
        setTimeout(() => req.resume(), behaviour.chunkDelayMs);
      }
      if (behaviour.kind === 'stall-first' && n === 1) {
        stalled = received;
        if (received >= behaviour.afterBytes) req.pause(); // never resumed: the sender's window fills up
      }
    });
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      const md5 = createHash('md5').update(body).digest('base64');
      const answer = (): void => {
        if (behaviour.kind === 'forbid') {
          res.writeHead(403).end('bad token');
          return;
        }
        if (behaviour.kind === 'fail-first' && n <= behaviour.count) {
          res.writeHead(500).end('collector is having a bad day');
          return;
        }
        if (req.headers['content-md5'] !== md5 || Number(req.headers['content-length']) !== body.length) {
          res.writeHead(400).end('body does not match Content-MD5 / Content-Length');
          return;
        }
        const key = new URL(req.url ?? '/', 'http://x').pathname;
        stored.set(key, [...(stored.get(key) ?? []), body]);
        res.writeHead(201, { etag: `"${createHash('md5').update(body).digest('hex')}"` }).end();
      };
      if (behaviour.kind === 'slow') setTimeout(answer, behaviour.answerDelayMs);
      else answer();
    });
  });
  const listen = (): Promise<void> => new Promise((resolve) => server.listen(port, '127.0.0.1', () => resolve()));
  if (delayListenMs === Infinity) {
    // "Down until the test says so": the port refuses connections until listen() is called.
  } else if (delayListenMs > 0) {
    // "Down for a while, then back": the port refuses connections until the timer fires.
    setTimeout(() => void listen(), delayListenMs);
  } else {
    await listen();
    port = (server.address() as AddressInfo).port;
  }
  return {
    listen,
    port,
    url: `http://127.0.0.1:${port}/ingest`,
    stored,
    get requests() {
      return requests;
    },
    stalledBytes: () => stalled,
    headersSeen,
    close: () => new Promise((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
}
