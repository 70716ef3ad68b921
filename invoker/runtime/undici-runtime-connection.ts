// RuntimeConnection with undici keep-alive connections over the sockets the runtime opened to the invoker (the invocation hot path).
import { PassThrough, Transform, type Readable } from 'node:stream';
import { Pool, errors } from 'undici';
import type { IncomingHttpHeaders } from 'undici/types/header.js';
import { HEADER, INIT_PATH, PROTOCOL_HEADER_PREFIX, READY_PATH, type InitBody, type ReadyBody } from '../../runtime-images/node/protocol.js';
import { HOP_BY_HOP_HEADERS } from '../../core/hop-by-hop.js';
import type { InvocationRequest } from '../../core/invoker.js';
import type { SocketSource } from './runtime-listener.js';
import { AnswerReader, type StreamedAnswer, type WholeAnswer } from './runtime-answer.js';
import {
  RuntimeAbortedError,
  RuntimeConnectionError,
  RuntimeResponseTooLargeError,
  RuntimeStreamError,
  RuntimeUploadRefusedError,
  type RuntimeStream,
  type StreamEnd,
  type StreamingOptions,
  RuntimeTimeoutError,
  type RuntimeConnectionOptions,
  type RuntimeConnection,
  type RuntimeConnectionFactory,
  type RuntimeReply,
} from './runtime-connection.js';

/** Headers that describe one hop, never forwarded, plus content-length which undici sets. */
const HOP_BY_HOP = new Set([...HOP_BY_HOP_HEADERS, 'content-length']);

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

/** A thrown error of undici as the runtime connection's own. */
function asRuntimeError(err: unknown, timeoutMs: number): Error {
  if (
    err instanceof RuntimeResponseTooLargeError ||
    err instanceof RuntimeConnectionError ||
    err instanceof RuntimeStreamError ||
    err instanceof RuntimeUploadRefusedError
  )
    return err;
  if (isTimeout(err) || err instanceof RuntimeTimeoutError) return new RuntimeTimeoutError(`no complete answer within ${timeoutMs} ms`, { cause: err });
  return new RuntimeConnectionError((err as Error).message, { cause: err, notDelivered: isConnectFailure(err) });
}

/** How long a request waits for the runtime to open a connection (it keeps spares open, so usually none). */
const DEFAULT_CONNECT_TIMEOUT_MS = 2_000;

/** content-length stays on answers: the gateway drops it (it frames the body itself) except for HEAD. */
function replyHeaders(headers: IncomingHttpHeaders): RuntimeReply['headers'] {
  const out: RuntimeReply['headers'] = {};
  for (const name in headers) {
    const value = headers[name];
    if (value === undefined || (HOP_BY_HOP.has(name) && name !== 'content-length') || name.startsWith(PROTOCOL_HEADER_PREFIX)) continue;
    out[name] = value;
  }
  return out;
}

const DEFAULT_MAX_RESPONSE_BYTES = 6 * 1024 * 1024;
const DEFAULT_MAX_STREAM_BYTES = 1024 * 1024 * 1024;

/**
 * The caller's upload as undici sends it, through a relay undici may destroy (it does when the answer completes
 * before the upload): the caller's own stream is then read to its end and dropped, not destroyed, so the caller
 * gets the answer instead of a reset connection (as nginx's lingering close). A failing upload fails the relay.
 */
function relayUpload(source: Readable): Readable {
  const relay = new PassThrough();
  source.on('error', (err) => relay.destroy(err));
  relay.once('close', () => {
    source.unpipe(relay);
    if (!source.readableEnded) source.resume();
  });
  source.pipe(relay);
  return relay;
}

class UndiciRuntimeConnection implements RuntimeConnection {
  private readonly pool: Pool;
  private readonly maxResponseBytes: number;
  private readonly maxStreamBytes: number;

  constructor(sockets: SocketSource, maxConcurrency: number, options: RuntimeConnectionOptions = {}) {
    this.maxResponseBytes = options.maxResponseBytes ?? DEFAULT_MAX_RESPONSE_BYTES;
    this.maxStreamBytes = options.maxStreamBytes ?? DEFAULT_MAX_STREAM_BYTES;
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

  async warmUp(timeoutMs: number): Promise<void> {
    const res = await this.pool.request({
      path: '/',
      method: 'GET',
      headers: { [HEADER.invocationId]: 'warm-up', [HEADER.deadline]: String(Date.now() + timeoutMs), [HEADER.trigger]: 'http' },
      headersTimeout: timeoutMs,
      bodyTimeout: timeoutMs,
    });
    await res.body.dump();
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

  invoke(request: InvocationRequest, timeoutMs: number): Promise<RuntimeReply> {
    return this.open(request, timeoutMs) as Promise<RuntimeReply>;
  }

  async open(request: InvocationRequest, timeoutMs: number, streaming?: StreamingOptions): Promise<RuntimeReply | RuntimeStream> {
    const headers: Record<string, string | string[]> = {};
    for (const name in request.headers) {
      if (!HOP_BY_HOP.has(name) && !name.startsWith(PROTOCOL_HEADER_PREFIX)) headers[name] = request.headers[name]!;
    }
    const deadline = Date.now() + timeoutMs;
    headers[HEADER.invocationId] = request.invocationId;
    headers[HEADER.deadline] = String(deadline);
    headers[HEADER.trigger] = request.trigger;
    if (request.context) for (const key in request.context) headers[PROTOCOL_HEADER_PREFIX + key] = request.context[key]!;
    // A streamed upload keeps its length (the runtime streams large bodies to the function by it).
    if (request.bodyStream) {
      headers['content-length'] = String(request.bodyStream.length);
      headers[HEADER.streamedBody] = '1';
    }
    const reader = new AnswerReader({ maxBytes: this.maxResponseBytes, deadline, timeoutMs, streams: streaming !== undefined });
    this.pool.dispatch(
      {
        path: request.rawQuery ? `${request.path}?${request.rawQuery}` : request.path,
        method: request.method as 'GET',
        headers,
        body: request.bodyStream ? relayUpload(request.bodyStream.stream) : request.body.length > 0 ? request.body : null,
        headersTimeout: timeoutMs,
        bodyTimeout: timeoutMs,
      },
      reader,
    );
    try {
      const answer = await reader.answer;
      return answer.kind === 'stream' ? this.stream(answer, deadline, timeoutMs, streaming!) : this.whole(answer);
    } catch (err) {
      throw asRuntimeError(err, timeoutMs);
    }
  }

  /** The whole answer as the invoker's reply: the log tail decoded, a failure's kind and message. */
  private whole(res: WholeAnswer): RuntimeReply {
    const body = res.body;
    const errorKind = res.headers[HEADER.error] ?? res.trailers[HEADER.error];
    const logHeader = res.headers[HEADER.logResult] ?? res.trailers[HEADER.logResult];
    const reply: RuntimeReply = {
      status: res.status,
      headers: replyHeaders(res.headers),
      body,
      logs: typeof logHeader === 'string' ? Buffer.from(logHeader, 'base64').toString('utf8') : '',
    };
    if (errorKind === 'init' || errorKind === 'handler' || errorKind === 'contract') {
      let message = body.toString('utf8');
      try {
        message = (JSON.parse(message) as { message?: string }).message ?? message;
      } catch {
        // Not JSON: keep the raw text as the message.
      }
      reply.error = { kind: errorKind, message };
    }
    return reply;
  }

  /**
   * Relays a streamed answer with backpressure: the body errors with RuntimeTimeoutError at the deadline
   * and RuntimeResponseTooLargeError past maxStreamBytes; `beforeEnd` runs (and is awaited) before the
   * last byte is released, so what it records is durable before the answer completes.
   */
  private stream(res: StreamedAnswer, deadline: number, timeoutMs: number, streaming: StreamingOptions): RuntimeStream {
    const maxBytes = this.maxStreamBytes;
    let size = 0;
    let settled = false;
    /** Set when this side cut the stream (deadline, size, broken connection); otherwise the consumer left. */
    let failure: Error | undefined;
    let resolveEnded!: (end: StreamEnd) => void;
    let rejectEnded!: (err: Error) => void;
    const ended = new Promise<StreamEnd>((resolve, reject) => {
      resolveEnded = resolve;
      rejectEnded = reject;
    });
    ended.catch(() => {});
    const body = new Transform({
      transform(chunk: Buffer, _encoding, callback) {
        size += chunk.length;
        if (size > maxBytes) return callback((failure = new RuntimeResponseTooLargeError(`the streamed response passed ${maxBytes} bytes`)));
        callback(null, chunk);
      },
      flush(callback) {
        clearTimeout(timer);
        settled = true;
        const kind = res.trailers[HEADER.error];
        const logHeader = res.trailers[HEADER.logResult];
        const end: StreamEnd = {
          logs: typeof logHeader === 'string' ? Buffer.from(logHeader, 'base64').toString('utf8') : '',
          ...(kind === 'handler' ? { error: 'the function failed while streaming its answer' } : {}),
        };
        resolveEnded(end);
        Promise.resolve(streaming.beforeEnd?.(end)).then(
          () => callback(end.error ? new RuntimeStreamError(end.error) : null),
          (err: Error) => callback(err),
        );
      },
    });
    let upstreamEnded = false;
    res.body.once('end', () => (upstreamEnded = true));
    const timer = setTimeout(
      () => {
        // The runtime finished, or waits on a caller that does not read (the relay's buffer is full): the
        // caller's slowness, not the function's, so its container is not to blame.
        const callerSlow = upstreamEnded || body.readableLength >= body.readableHighWaterMark;
        failure = callerSlow
          ? new RuntimeAbortedError(`the caller did not take the answer within ${timeoutMs} ms`)
          : new RuntimeTimeoutError(`no complete answer within ${timeoutMs} ms`);
        body.destroy(failure);
      },
      Math.max(0, deadline - Date.now()),
    );
    body.once('close', () => {
      clearTimeout(timer);
      if (settled) return;
      settled = true;
      // Destroyed from either side: the caller left (the function's request.signal aborts), the deadline,
      // the size limit, or the runtime's connection broke.
      // Destroyed by the consumer (with or without an error of its own, e.g. a premature close): the caller left.
      rejectEnded(failure ?? new RuntimeAbortedError('the caller went away before the answer was complete'));
      res.body.destroy();
    });
    res.body.on('error', (err: Error) => body.destroy((failure ??= asRuntimeError(err, timeoutMs))));
    res.body.pipe(body);
    return { status: res.status, headers: replyHeaders(res.headers), body, ended };
  }

  async close(): Promise<void> {
    await this.pool.destroy().catch(() => {});
  }
}

export const createRuntimeConnection = (sockets: SocketSource, maxConcurrency: number, options?: RuntimeConnectionOptions): RuntimeConnection =>
  new UndiciRuntimeConnection(sockets, maxConcurrency, options);

/** The factory the pool takes, with these options on every connection. */
export const runtimeConnections =
  (options: RuntimeConnectionOptions): RuntimeConnectionFactory =>
  (sockets, maxConcurrency, more) =>
    createRuntimeConnection(sockets, maxConcurrency, { ...options, ...more });
