/**
 * The health answer over HTTP: a handler for Node's http (200 for ok and degraded, 503 for critical,
 * the JSON of health() as body) and the optional endpoint (LEAK_AGENT_HEALTH_PORT), which listens
 * on loopback by default and is unref'd so it never keeps the host alive.
 */
import * as http from 'node:http';
import type { AgentLogger } from '../log/logger';
import type { Health } from './pressure';

export type HealthSource = () => Health;

export function statusCode(h: Health): number {
  return h.status === 'critical' ? 503 : 200;
}

/** `(req, res) => void` for http.createServer, Express (`app.get('/health', handler)`) and the like; never throws. */
export function healthHandler(source: HealthSource): (req: http.IncomingMessage, res: http.ServerResponse) => void {
  return (_req, res) => {
    try {
      const h = source();
      const body = JSON.stringify(h);
      res.writeHead(statusCode(h), { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store', 'content-length': Buffer.byteLength(body) });
      res.end(body);
    } catch {
      try {
        if (!res.headersSent) res.writeHead(200, { 'content-type': 'application/json; charset=utf-8' });
        res.end('{"status":"ok","reasons":["health unavailable"],"figures":{}}');
      } catch { /* the connection is gone */ }
    }
  };
}

/** Serves GET /health (and /healthz, /readyz, /livez) on host:port; other paths are 404. */
export function startHealthEndpoint(source: HealthSource, host: string, port: number, logger: AgentLogger): http.Server {
  const handle = healthHandler(source);
  const server = http.createServer((req, res) => {
    const url = (req.url ?? '/').split('?')[0];
    if (req.method === 'GET' && (url === '/health' || url === '/healthz' || url === '/readyz' || url === '/livez')) return handle(req, res);
    res.writeHead(404, { 'content-type': 'text/plain' });
    res.end('not found: GET /health\n');
  });
  server.on('error', (err) => {
    logger.log('agent.error', { where: 'health', message: `health endpoint on ${host}:${port} failed: ${err.message}; no endpoint (health() still answers)` });
  });
  server.on('connection', (socket) => socket.unref());
  server.listen(port, host, () => {
    const a = server.address();
    logger.log('health.listening', { host, port: typeof a === 'object' && a ? a.port : port });
  });
  server.unref();
  return server;
}
