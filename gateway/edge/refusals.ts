// Answers the edge gives itself, on a bare node:http response: the error shape, and the connections that close
// after a refusal. Node parses (and dispatches) requests pipelined behind a refused one before its answer goes
// out; none of them may run, so such a connection is marked and ends once the refusal is out.
import type { ServerResponse } from 'node:http';
import type { Socket } from 'node:net';

const refusedConnections = new WeakSet<Socket>();

/** Whether an earlier request on this connection was refused: later ones are never answered. */
export function isRefused(socket: Socket): boolean {
  return refusedConnections.has(socket);
}

/** Marks the connection refused; it is closed for good once this answer is out (not half-open). */
export function closeAfterAnswer(socket: Socket, res: ServerResponse): void {
  refusedConnections.add(socket);
  // (An injected request's socket, in tests, has no destroySoon.)
  res.once('finish', () => socket.destroySoon?.());
}

/** Sends `{"error":{"code","message"}}` with a status; `close` ends the connection after it (see closeAfterAnswer). */
export function sendError(
  res: ServerResponse,
  status: number,
  code: string,
  message: string,
  options: { close?: boolean; headers?: Record<string, string> } = {},
): void {
  const body = JSON.stringify({ error: { code, message } });
  const headers: Record<string, string | number> = {
    ...options.headers,
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(body),
  };
  if (options.close) {
    closeAfterAnswer(res.req.socket, res);
    headers.connection = 'close';
  }
  res.writeHead(status, headers);
  res.end(body);
}
