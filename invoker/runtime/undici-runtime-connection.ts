// RuntimeConnection with undici keep-alive connections over the sockets the runtime opened to the invoker (the invocation hot path).
import { Pool, errors, type Dispatcher } from 'undici';
import type { IncomingHttpHeaders } from 'undici/types/header.js';
import { HEADER, INIT_PATH, PROTOCOL_HEADER_PREFIX, READY_PATH, type InitBody, type ReadyBody } from '../../runtime-images/node/protocol.js';
import type { InvocationRequest } from '../invoker.js';
import type { SocketSource } from './runtime-listener.js';
import {
  RuntimeConnectionError,
  RuntimeResponseTooLargeError,
  RuntimeTimeoutError,
  type RuntimeConnectionOptions,
  type RuntimeConnection,
  type RuntimeConnectionFactory,
  type RuntimeReply,
} from './runtime-connection.js';

/** Headers that describe one hop, never forwarded (RFC 9110 §7.6.1), plus content-length which undici sets. */
const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'transfer-encoding',
  'upgrade',
  'te',
  'trailer',
  'content-length',
]);

const READY_POLL_MS = 2;

function isTimeout(err: unknown): boolean {
  return (
    err instanceof errors.HeadersTimeoutError ||
    err instanceof errors.BodyTimeoutError ||
    (err as { name?: string })?.name === 'AbortError' ||
    (err as { name?: string })?.name === 'TimeoutError' ||
    err instanceof errors.RequestAbortedError
  );
}

/** No connection could be had: the runtime is gone (or never came). */
function isConnectFailure(err: unknown): boolean {
  const code = (err as { code?: string }).code;
  return code === 'ERUNTIMEABSENT' || code === 'ERUNTIMEREMOVED';
}

/** How long a request waits for the runtime to open a connection (it keeps spares open, so usually none). */
const DEFAULT_CONNECT_TIMEOUT_MS = 2_000;

function replyHeaders(headers: IncomingHttpHeaders): RuntimeReply['headers'] {
  const out: RuntimeReply['headers'] = {};
  for (const name in headers) {
    const value = headers[name];
    if (value === undefined || HOP_BY_HOP.has(name) || name.startsWith(PROTOCOL_HEADER_PREFIX)) continue;
    out[name] = value;
  }
  return out;
}

const DEFAULT_MAX_RESPONSE_BYTES = 6 * 1024 * 1024;

/**
 * Reads a whole body, failing past `maxBytes` or at `deadline` (epoch ms): undici's bodyTimeout bounds
 * only the gap between chunks, so a runtime writing a byte now and then would never time out.
 */
async function readBody(body: Dispatcher.ResponseData['body'], deadline: number, maxBytes: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  const timer = setTimeout(() => body.destroy(new RuntimeTimeoutError('the answer was not complete in time')), Math.max(0, deadline - Date.now()));
  try {
    for await (const chunk of body as AsyncIterable<Buffer>) {
      size += chunk.length;
      if (size > maxBytes) {
        body.destroy();
        throw new RuntimeResponseTooLargeError(`the response is larger than ${maxBytes} bytes`);
      }
      chunks.push(chunk);
    }
  } finally {
    clearTimeout(timer);
  }
  return chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size);
}

class UndiciRuntimeConnection implements RuntimeConnection {
  private readonly pool: Pool;
  private readonly maxResponseBytes: number;

  constructor(sockets: SocketSource, maxConcurrency: number, options: RuntimeConnectionOptions = {}) {
    this.maxResponseBytes = options.maxResponseBytes ?? DEFAULT_MAX_RESPONSE_BYTES;
    const connectTimeoutMs = options.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS;
    this.pool = new Pool('http://runtime', {
      // The runtime connected to us: undici's "connect" takes one of those connections.
      connect: (_options, callback) => {
        sockets.take(connectTimeoutMs).then(
          (socket) => callback(null, socket),
          (err: Error) => callback(err, null),
        );
      },
      connections: maxConcurrency,
      pipelining: 1,
      keepAliveTimeout: 600_000,
      keepAliveMaxTimeout: 600_000,
    });
  }

  async waitReady(timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      try {
        const res = await this.pool.request({ path: READY_PATH, method: 'GET', headers: { [HEADER.control]: '1' }, headersTimeout: timeoutMs });
        await res.body.dump();
        if (res.statusCode === 200) return;
      } catch (err) {
        // Removed while starting: no runtime will ever connect.
        if ((err as { code?: string }).code === 'ERUNTIMEREMOVED') throw new RuntimeConnectionError('the container was removed while starting', { cause: err });
        // The runtime has not connected yet: try again.
      }
      if (Date.now() >= deadline) throw new RuntimeTimeoutError(`runtime not ready after ${timeoutMs} ms`);
      await new Promise((resolve) => setTimeout(resolve, READY_POLL_MS));
    }
  }

  async init(body: InitBody, timeoutMs: number): Promise<ReadyBody> {
    try {
      const res = await this.pool.request({
        path: INIT_PATH,
        method: 'POST',
        headers: { 'content-type': 'application/json', [HEADER.control]: '1' },
        body: JSON.stringify(body),
        headersTimeout: timeoutMs,
        bodyTimeout: timeoutMs,
      });
      const text = await res.body.text();
      if (res.statusCode !== 200) throw new RuntimeConnectionError(`init answered ${res.statusCode}: ${text}`);
      return JSON.parse(text) as ReadyBody;
    } catch (err) {
      if (isTimeout(err)) throw new RuntimeTimeoutError(`init not done within ${timeoutMs} ms`, { cause: err });
      if (err instanceof RuntimeConnectionError) throw err;
      throw new RuntimeConnectionError((err as Error).message, { cause: err });
    }
  }

  async invoke(request: InvocationRequest, timeoutMs: number): Promise<RuntimeReply> {
    const headers: Record<string, string | string[]> = {};
    for (const name in request.headers) {
      if (!HOP_BY_HOP.has(name) && !name.startsWith(PROTOCOL_HEADER_PREFIX)) headers[name] = request.headers[name]!;
    }
    headers[HEADER.invocationId] = request.invocationId;
    headers[HEADER.deadline] = String(Date.now() + timeoutMs);
    headers[HEADER.trigger] = request.trigger;
    if (request.context) for (const key in request.context) headers[PROTOCOL_HEADER_PREFIX + key] = request.context[key]!;
    const deadline = Date.now() + timeoutMs;
    try {
      const res = await this.pool.request({
        path: request.rawQuery ? `${request.path}?${request.rawQuery}` : request.path,
        method: request.method as 'GET',
        headers,
        body: request.body.length > 0 ? request.body : null,
        // undici's own timers (no AbortSignal and timer per request on the hot path).
        headersTimeout: timeoutMs,
        bodyTimeout: timeoutMs,
      });
      const length = Number(res.headers['content-length'] ?? 0);
      if (length > this.maxResponseBytes) {
        res.body.destroy();
        throw new RuntimeResponseTooLargeError(`the response is ${length} bytes, more than ${this.maxResponseBytes}`);
      }
      const body = await readBody(res.body, deadline, this.maxResponseBytes);
      const errorKind = res.headers[HEADER.error];
      const logHeader = res.headers[HEADER.logResult];
      const reply: RuntimeReply = {
        status: res.statusCode,
        headers: replyHeaders(res.headers),
        body,
        logs: typeof logHeader === 'string' ? Buffer.from(logHeader, 'base64').toString('utf8') : '',
      };
      if (errorKind === 'init' || errorKind === 'handler') {
        let message = body.toString('utf8');
        try {
          message = (JSON.parse(message) as { message?: string }).message ?? message;
        } catch {
          // Not JSON: keep the raw text as the message.
        }
        reply.error = { kind: errorKind, message };
      }
      return reply;
    } catch (err) {
      if (err instanceof RuntimeResponseTooLargeError) throw err;
      if (isTimeout(err) || err instanceof RuntimeTimeoutError) {
        throw new RuntimeTimeoutError(`no complete answer within ${timeoutMs} ms`, { cause: err });
      }
      throw new RuntimeConnectionError((err as Error).message, { cause: err, notDelivered: isConnectFailure(err) });
    }
  }

  async close(): Promise<void> {
    await this.pool.destroy().catch(() => {});
  }
}

export const createRuntimeConnection = (sockets: SocketSource, maxConcurrency: number, options?: RuntimeConnectionOptions): RuntimeConnection =>
  new UndiciRuntimeConnection(sockets, maxConcurrency, options);

/** The factory the pool takes, with these options on every connection. */
export const runtimeConnections = (options: RuntimeConnectionOptions): RuntimeConnectionFactory => (sockets, maxConcurrency, more) =>
  createRuntimeConnection(sockets, maxConcurrency, { ...options, ...more });
