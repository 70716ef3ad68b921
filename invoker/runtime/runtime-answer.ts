// Reads the runtime's answer to one invocation straight from undici's dispatch callbacks: a whole answer
// into one Buffer, a streamed one (when the caller relays streams) into a Readable with backpressure.
// undici's request() builds a body stream, an async iterator and a promise per chunk for every answer:
// ~10 µs of CPU per call on this host (no-op calls over a unix socket, measured 2026-12-07), where most
// answers arrive as one chunk with their headers.
import { Readable } from 'node:stream';
import type { Dispatcher } from 'undici';
import type { IncomingHttpHeaders } from 'undici/types/header.js';
import { HEADER } from '../../runtime-images/node/protocol.js';
import { RuntimeAbortedError, RuntimeResponseTooLargeError, RuntimeTimeoutError, RuntimeUploadRefusedError } from './runtime-connection.js';

/** An answer read to its end. */
export interface WholeAnswer {
  kind: 'whole';
  status: number;
  headers: IncomingHttpHeaders;
  trailers: IncomingHttpHeaders;
  body: Buffer;
}

/** An answer the function is still writing: its body as it comes; `trailers` is filled when it ends. */
export interface StreamedAnswer {
  kind: 'stream';
  status: number;
  headers: IncomingHttpHeaders;
  trailers: IncomingHttpHeaders;
  body: Readable;
}

export interface AnswerReaderOptions {
  /** Largest whole answer, bytes. */
  maxBytes: number;
  /** Epoch ms: the whole answer (or a streamed one's headers) by then, however slowly it is written. */
  deadline: number;
  timeoutMs: number;
  /** Whether a streamed answer is handed over as a stream; otherwise it is read whole. */
  streams: boolean;
}

/**
 * The protocol's rule: the runtime streams (chunked, its log tail in trailers) what the function is still
 * writing; a whole answer carries its length, a failure its x-faas-error.
 */
export function isStreamed(headers: IncomingHttpHeaders): boolean {
  return headers['content-length'] === undefined && headers[HEADER.error] === undefined;
}

const EMPTY = Buffer.alloc(0);

/** One invocation's answer, as a dispatch handler; `answer` settles with it or with what went wrong. */
export class AnswerReader implements Dispatcher.DispatchHandler {
  readonly answer: Promise<WholeAnswer | StreamedAnswer>;
  private resolve!: (answer: WholeAnswer | StreamedAnswer) => void;
  private reject!: (err: Error) => void;
  private controller: Dispatcher.DispatchController | undefined;
  /** A reason to abort that came before undici handed over the request's controller. */
  private pendingAbort: Error | undefined;
  private readonly timer: NodeJS.Timeout;
  private status = 0;
  private headers: IncomingHttpHeaders = {};
  private readonly trailers: IncomingHttpHeaders = {};
  private chunks: Buffer[] = [];
  private size = 0;
  /** The runtime refused a streamed upload (x-faas-error: too-large): its answer is read and dropped. */
  private refused = false;
  private stream: Readable | undefined;
  private ended = false;

  constructor(private readonly options: AnswerReaderOptions) {
    this.answer = new Promise((resolve, reject) => {
      this.resolve = resolve;
      this.reject = reject;
    });
    // undici's headersTimeout does not run while an upload is still being written, and its bodyTimeout
    // bounds only the gap between chunks: this bounds the whole exchange (a stream's relay has its own).
    this.timer = setTimeout(
      () => this.abort(new RuntimeTimeoutError(`no complete answer within ${options.timeoutMs} ms`)),
      Math.max(0, options.deadline - Date.now()),
    );
  }

  /** Cuts the call short; the answer rejects with `reason` (at once, even while it waits for a connection). */
  abort(reason: Error): void {
    if (this.controller) {
      this.controller.abort(reason);
      return;
    }
    this.pendingAbort = reason;
    this.reject(reason);
  }

  onRequestStart(controller: Dispatcher.DispatchController): void {
    this.controller = controller;
    if (this.pendingAbort) controller.abort(this.pendingAbort);
  }

  onResponseStart(controller: Dispatcher.DispatchController, status: number, headers: IncomingHttpHeaders): void {
    if (status < 200) return;
    this.status = status;
    this.headers = headers;
    if (this.options.streams && isStreamed(headers)) {
      clearTimeout(this.timer);
      const body = new Readable({
        // As undici's own body stream: fewer pauses of the connection than the default 16 KiB.
        highWaterMark: 64 * 1024,
        read: () => controller.resume(),
        destroy: (err, callback) => {
          // Destroyed before its end (the caller left, the relay's deadline): the runtime's call is cut too.
          if (!this.ended) controller.abort(err ?? new RuntimeAbortedError('the caller went away before the answer was complete'));
          callback(err);
        },
      });
      // An error before the relay listens (it does once the answer's await resumes) must not go unheard.
      body.on('error', () => {});
      this.stream = body;
      this.resolve({ kind: 'stream', status, headers, trailers: this.trailers, body });
      return;
    }
    const length = Number(headers['content-length'] ?? 0);
    if (length > this.options.maxBytes) {
      controller.abort(new RuntimeResponseTooLargeError(`the response is ${length} bytes, more than ${this.options.maxBytes}`));
      return;
    }
    this.refused = headers[HEADER.error] === 'too-large';
  }

  onResponseData(controller: Dispatcher.DispatchController, chunk: Buffer): void {
    if (this.stream) {
      if (!this.stream.push(chunk)) controller.pause();
      return;
    }
    if (this.refused) return;
    this.size += chunk.length;
    if (this.size > this.options.maxBytes) {
      controller.abort(new RuntimeResponseTooLargeError(`the response is larger than ${this.options.maxBytes} bytes`));
      return;
    }
    this.chunks.push(chunk);
  }

  onResponseEnd(_controller: Dispatcher.DispatchController, trailers: IncomingHttpHeaders): void {
    Object.assign(this.trailers, trailers);
    this.ended = true;
    if (this.stream) {
      this.stream.push(null);
      return;
    }
    clearTimeout(this.timer);
    if (this.refused) {
      this.reject(new RuntimeUploadRefusedError('the function takes its request body whole'));
      return;
    }
    const chunks = this.chunks;
    const body = chunks.length === 1 ? chunks[0]! : chunks.length === 0 ? EMPTY : Buffer.concat(chunks, this.size);
    this.resolve({ kind: 'whole', status: this.status, headers: this.headers, trailers: this.trailers, body });
  }

  onResponseError(_controller: Dispatcher.DispatchController, err: Error): void {
    clearTimeout(this.timer);
    this.ended = true;
    if (this.stream) this.stream.destroy(err);
    else this.reject(err);
  }
}
