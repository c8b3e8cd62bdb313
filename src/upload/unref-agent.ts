/**
 * HTTP agents whose sockets do not keep the process alive: the agent must never delay a host's
 * exit. An upload cut short that way is not lost — its spool entry is still there for the next
 * process with the same directory.
 */
import * as http from 'node:http';
import * as https from 'node:https';
import type { Duplex } from 'node:stream';

type CreateConnection = (options: object, callback: (err: Error | null, socket: Duplex) => void) => Duplex;

function unrefSockets<T extends http.Agent>(agent: T): T {
  const original = (agent as unknown as { createConnection: CreateConnection }).createConnection.bind(agent);
  (agent as unknown as { createConnection: CreateConnection }).createConnection = (options, callback) => {
    const socket = original(options, callback) as Duplex & { unref?: () => void };
    socket.unref?.();
    return socket;
  };
  // A kept-alive socket is ref'd again by Node when reused for the next request; undo that.
  const reuse = (agent as unknown as { reuseSocket: (s: Duplex & { unref(): void }, r: unknown) => void }).reuseSocket.bind(agent);
  (agent as unknown as { reuseSocket: (s: Duplex & { unref(): void }, r: unknown) => void }).reuseSocket = (socket, req) => {
    reuse(socket, req);
    socket.unref();
  };
  return agent;
}

let httpAgent: http.Agent | undefined;
let httpsAgent: https.Agent | undefined;

export function unrefHttpAgent(): http.Agent {
  httpAgent ??= unrefSockets(new http.Agent({ keepAlive: true, maxSockets: 4 }));
  return httpAgent;
}

export function unrefHttpsAgent(): https.Agent {
  httpsAgent ??= unrefSockets(new https.Agent({ keepAlive: true, maxSockets: 4 }));
  return httpsAgent;
}
