/**
 * The Prometheus pull endpoint's HTTP server. The exporter package's own server builds its base
 * URL as `http://${host}:${port}/` — unbracketed for an IPv6 host, so every request on `[::1]`
 * fails URL parsing and gets 400 — and serves any method. This one serves `GET` and `HEAD` on
 * `/metrics` only (405 with `Allow` for other methods, 404 for other paths), listens on IPv4 or
 * IPv6 alike, and is unref'd: a scrape endpoint never keeps the host alive.
 */
import * as http from 'node:http';
import type { PrometheusExporter } from '@opentelemetry/exporter-prometheus';

export const METRICS_PATH = '/metrics';

export interface PrometheusEndpoint {
  /** Resolves once listening; rejects with the listen error (EADDRINUSE, EACCES …). */
  listening: Promise<void>;
  url: string;
  close(): Promise<void>;
}

export function servePrometheus(exporter: PrometheusExporter, host: string, port: number): PrometheusEndpoint {
  const server = http.createServer((req, res) => {
    const pathname = (req.url ?? '/').split('?')[0];
    if (pathname !== METRICS_PATH) {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found: the agent serves /metrics only\n');
      return;
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET, HEAD', 'content-type': 'text/plain' }).end('method not allowed\n');
      return;
    }
    // Node drops the body of a HEAD response by itself; the status and headers are the same as GET's.
    exporter.getMetricsRequestHandler(req, res);
  });
  server.unref();
  // Scrapers keep connections open; those must not keep the host alive either.
  server.on('connection', (socket) => socket.unref());
  const listening = new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen({ host, port }, () => resolve());
  });
  return {
    listening,
    url: `http://${host.includes(':') ? `[${host}]` : host}:${port}${METRICS_PATH}`,
    close: () => new Promise((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
}
