// How the invoker talks to the runtime server inside one container (HTTP over the connections the runtime opened to the invoker).
import type { InitBody, ReadyBody } from '../../runtime-images/node/protocol.js';
import type { InvocationRequest } from '../../core/invoker.js';
import type { SocketSource } from './runtime-listener.js';

/** What the runtime answered for one invocation. */
export interface RuntimeReply {
  status: number;
  /** Lower-case names; several set-cookie as an array. Protocol headers (x-faas-*) removed. */
  headers: Record<string, string | string[]>;
  body: Buffer;
  /** Console output of this invocation (tail, at most 4 KiB), decoded from x-faas-log-result. */
  logs: string;
  /** Present when the function failed: 'init' = module failed to load, 'handler' = handler threw. */
  /** 'contract': it returned what fits no contract of its style (answered 502). */
  error?: { kind: 'init' | 'handler' | 'contract'; message: string };
}

/** The invocation did not finish within its timeout; the connection is left unusable. */
export class RuntimeTimeoutError extends Error {
  override name = 'RuntimeTimeoutError';
}

/** The runtime's answer is larger than the connection's limit; reading stopped there and the connection was dropped. */
export class RuntimeResponseTooLargeError extends Error {
  override name = 'RuntimeResponseTooLargeError';
}

/** The runtime refused a streamed upload unread: its handler takes bodies whole. The function did not run. */
export class RuntimeUploadRefusedError extends Error {
  override name = 'RuntimeUploadRefusedError';
}

/** A streamed answer was cut short because its caller went away (the function's request.signal aborts). */
export class RuntimeAbortedError extends Error {
  override name = 'RuntimeAbortedError';
}

/** The function failed after its first streamed byte (the runtime said so in a trailer). */
export class RuntimeStreamError extends Error {
  override name = 'RuntimeStreamError';
}

/** How a streamed answer ended, from the runtime's trailers. */
export interface StreamEnd {
  /** Console output of this invocation (tail, at most 4 KiB). */
  logs: string;
  /** Set when the function failed after its first byte. */
  error?: string;
}

export interface StreamingOptions {
  /** Runs before the answer's end is released downstream (awaited): to make a usage record durable first. */
  beforeEnd?(end: StreamEnd): void | Promise<void>;
}

/** An answer the function is still writing: relayed as it comes. */
export interface RuntimeStream {
  status: number;
  headers: Record<string, string | string[]>;
  /**
   * The body with backpressure. Errors with RuntimeTimeoutError at the call's deadline, with
   * RuntimeResponseTooLargeError past the stream limit; destroying it aborts the call in the runtime.
   */
  body: import('node:stream').Readable;
  /** Resolves when the body ended (log tail, failure after the first byte); rejects when it was cut short. */
  ended: Promise<StreamEnd>;
}

/** No connection, or it reset or closed: the container is gone or its runtime died. */
export class RuntimeConnectionError extends Error {
  override name = 'RuntimeConnectionError';

  /** True when no connection could be made, so the request surely did not reach the function. */
  readonly notDelivered: boolean;

  constructor(message: string, options?: { cause?: unknown; notDelivered?: boolean }) {
    super(message, options);
    this.notDelivered = options?.notDelivered ?? false;
  }
}

export interface RuntimeConnection {
  /** Resolves once GET /_faas/ready answers 200; rejects with RuntimeTimeoutError after timeoutMs. */
  waitReady(timeoutMs: number): Promise<void>;
  /** Assigns a function to a prewarmed runtime and resolves once its module has loaded (or failed to). */
  init(body: InitBody, timeoutMs: number): Promise<ReadyBody>;
  /**
   * One call to a prewarmed runtime's built-in no-op handler, so the runtime's own invocation path is
   * compiled before a function's first call needs it (optional: runtimes without it skip the step).
   */
  warmUp?(timeoutMs: number): Promise<void>;
  /**
   * Sends the invocation; rejects with RuntimeTimeoutError (no complete answer within timeoutMs, however
   * slowly it is written), RuntimeResponseTooLargeError or RuntimeConnectionError.
   */
  invoke(request: InvocationRequest, timeoutMs: number): Promise<RuntimeReply>;
  /**
   * Like invoke, but an answer the runtime streams (the function is still writing it) comes back as a
   * RuntimeStream as soon as its headers arrive; a whole answer as a RuntimeReply.
   */
  open(request: InvocationRequest, timeoutMs: number, streaming: StreamingOptions): Promise<RuntimeReply | RuntimeStream>;
  close(): Promise<void>;
}

/** An HTTP client (up to `maxConcurrency` keep-alive connections) over the connections a runtime opens to its listener. */
export type RuntimeConnectionFactory = (sockets: SocketSource, maxConcurrency: number, options?: { connectTimeoutMs?: number }) => RuntimeConnection;

export interface RuntimeConnectionOptions {
  /** Largest response body read from the runtime, bytes. Default 6 MiB (as Lambda). */
  maxResponseBytes?: number;
  /** Largest streamed response, bytes (relayed with backpressure, never held whole). Default 1 GiB. */
  maxStreamBytes?: number;
  /**
   * Longest wait for the runtime to open a connection while it is alive (a runtime busy with synchronous
   * work dials late); one whose connections are all gone is given up on after 250 ms. Default 2 000;
   * the pool passes the function's timeout.
   */
  connectTimeoutMs?: number;
}
