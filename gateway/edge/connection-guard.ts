// Applies the connection table's decisions to real sockets, for every route: a new connection is admitted,
// refused or makes room (connection-table.ts decides), a request being received is `waiting` (and its body
// may not stall), one being handled is `busy`. No framework: the function trigger calls it directly, the
// management API through fastify hooks (plugins/connection-limits.ts).
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { ConnectionTable, clientKey, type ConnectionLimits } from './connection-table.js';

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

export class ConnectionGuard {
  private readonly table: ConnectionTable<Socket>;

  constructor(
    private readonly limits: EdgeLimits,
    private readonly events: ConnectionEvents = {},
  ) {
    this.table = new ConnectionTable<Socket>(limits);
  }

  /** Admits (or refuses, or makes room for) every connection the server accepts. */
  attach(server: Server): void {
    server.on('connection', (socket: Socket) => {
      const admission = this.table.admit(socket, clientKey(socket.remoteAddress));
      if (admission.kind === 'refuse') {
        this.events.onShed?.(admission.reason);
        socket.destroy();
        return;
      }
      if (admission.kind === 'evict') {
        this.events.onShed?.('evicted');
        admission.victim.destroy();
      }
      socket.once('close', () => this.table.closed(socket));
    });
  }

  /** A request is being received on its connection: evictable until handled, and its body may not stall. */
  receiving(req: IncomingMessage, res: ServerResponse): void {
    const socket = req.socket;
    this.table.waiting(socket);
    res.once('close', () => {
      if (!socket.destroyed) this.table.waiting(socket);
    });
    // Injected requests (tests) have no real socket (and no timeout to set).
    if (!hasBody(req) || typeof socket.setTimeout !== 'function') return;
    // Node's own socket timeout closes the connection after this long without a byte of the body (nothing is
    // answered: a client that stalls mid-body is not waiting for one). Cleared once the body is in — unless the
    // answer went first (a body read only to be dropped): Node has set the keep-alive timeout by then.
    socket.setTimeout(this.limits.bodyIdleTimeoutMs);
    const clear = () => {
      if (!socket.destroyed && !res.writableFinished) socket.setTimeout(0);
    };
    req.once('end', clear);
    req.once('close', clear);
  }

  /** The request is in (or, for a relayed upload, being read by the function): its connection is not evicted. */
  handling(socket: Socket): void {
    this.table.busy(socket);
  }
}

export function hasBody(req: IncomingMessage): boolean {
  if (req.headers['transfer-encoding'] !== undefined) return true;
  const length = req.headers['content-length'];
  return length !== undefined && length !== '0';
}
