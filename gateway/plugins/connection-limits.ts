// The gateway's limits per connection: how many a client and all clients may hold open (edge/connection-table.ts
// decides who is kept), and how long a request body may go without a byte. Node's own headersTimeout,
// requestTimeout and keepAliveTimeout bound the other phases (set in app.ts from the same EdgeLimits).
import type { IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import type { FastifyInstance } from 'fastify';
import { ConnectionTable, clientKey, type ConnectionLimits } from '../edge/connection-table.js';

/** Every bound the HTTP edge puts on a client; values and the peers' defaults in the README (Threat model). */
export interface EdgeLimits extends ConnectionLimits {
  /** Request line and headers must arrive within this, ms. */
  headersTimeoutMs: number;
  /** The longest gap between two pieces of a request body, ms. */
  bodyIdleTimeoutMs: number;
  /** A whole request (headers and body) must arrive within this, ms; a function's run is not counted. */
  requestTimeoutMs: number;
  /** An idle keep-alive connection is closed after this, ms. */
  keepAliveTimeoutMs: number;
}

export interface ConnectionEvents {
  /** A connection was refused, or closed to make room for a new one. */
  onShed?: (reason: 'client_limit' | 'total_limit' | 'evicted') => void;
}

export function registerConnectionLimits(app: FastifyInstance, limits: EdgeLimits, events: ConnectionEvents = {}): void {
  const table = new ConnectionTable<Socket>(limits);
  const server = app.server;
  server.on('connection', (socket: Socket) => {
    const admission = table.admit(socket, clientKey(socket.remoteAddress));
    if (admission.kind === 'refuse') {
      events.onShed?.(admission.reason);
      socket.destroy();
      return;
    }
    if (admission.kind === 'evict') {
      events.onShed?.('evicted');
      admission.victim.destroy();
    }
    socket.once('close', () => table.closed(socket));
  });
  // First of the onRequest hooks (registered before the edge's): the request is being received.
  app.addHook('onRequest', async (request, reply) => {
    const req = request.raw;
    const socket = req.socket;
    table.waiting(socket);
    reply.raw.once('close', () => {
      if (!socket.destroyed) table.waiting(socket);
    });
    // app.inject's requests have no real socket (and no timeout to set).
    if (!hasBody(req) || typeof socket.setTimeout !== 'function') return;
    // Node's own socket timeout closes the connection after this long without a byte of the body (nothing is
    // answered: a client that stalls mid-body is not waiting for one). Cleared once the body is in — unless the
    // answer went first (a body read only to be dropped): Node has set the keep-alive timeout by then.
    socket.setTimeout(limits.bodyIdleTimeoutMs);
    const clear = () => {
      if (!socket.destroyed && !reply.raw.writableFinished) socket.setTimeout(0);
    };
    req.once('end', clear);
    req.once('close', clear);
  });
  // Past the body parser: the request is being handled (for a relayed upload, it is being read by the function).
  app.addHook('preHandler', async (request) => {
    table.busy(request.raw.socket);
  });
}

function hasBody(req: IncomingMessage): boolean {
  if (req.headers['transfer-encoding'] !== undefined) return true;
  const length = req.headers['content-length'];
  return length !== undefined && length !== '0';
}
