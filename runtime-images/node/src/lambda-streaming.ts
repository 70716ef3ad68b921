// Lambda response streaming as Lambda's Node.js runtime offers it: the global `awslambda` with
// `streamifyResponse(async (event, responseStream, context) => …)` and
// `HttpResponseStream.from(responseStream, { statusCode, headers, cookies })`.
import { PassThrough, type Writable } from 'node:stream';
import type { PlainResponse } from './lambda.js';

const STREAMING = Symbol.for('aws.lambda.runtime.handler.streaming');
const PRELUDE = Symbol('faas.httpResponsePrelude');

type StreamingHandler = (event: unknown, responseStream: Writable, context: unknown) => unknown;

interface Prelude {
  statusCode?: number;
  headers?: Record<string, string>;
  cookies?: string[];
}

export function isStreamified(handler: unknown): handler is StreamingHandler {
  return typeof handler === 'function' && (handler as unknown as Record<symbol, unknown>)[STREAMING] === 'response';
}

const awslambda = {
  streamifyResponse<T extends StreamingHandler>(handler: T): T {
    (handler as unknown as Record<symbol, unknown>)[STREAMING] = 'response';
    return handler;
  },
  HttpResponseStream: {
    /** Attaches the status and headers to the stream; they go out before its first byte. */
    from(stream: Writable, prelude: Prelude): Writable {
      (stream as unknown as Record<symbol, unknown>)[PRELUDE] = prelude;
      return stream;
    },
  },
};

(globalThis as { awslambda?: unknown }).awslambda = awslambda;

/**
 * Calls a streamified handler with a response stream; resolves with the status and headers once the
 * handler wrote its first byte, ended the stream or returned, and streams the rest.
 */
export async function runStreamified(handler: StreamingHandler, event: unknown, context: unknown): Promise<PlainResponse> {
  const responseStream = new PassThrough();
  const ran = Promise.resolve().then(() => handler(event, responseStream, context));
  // A handler that returns without ending its stream has finished writing (as Lambda treats it).
  ran.then(
    () => responseStream.writableEnded || responseStream.end(),
    (err: unknown) => responseStream.destroy(err instanceof Error ? err : new Error(String(err))),
  );
  await Promise.race([
    new Promise<void>((resolve) => {
      responseStream.once('readable', resolve);
      responseStream.once('end', resolve);
      responseStream.once('close', resolve);
    }),
    ran.then(() => undefined),
  ]);
  // A handler that failed before writing anything fails the call as a plain throw would.
  if (responseStream.readableLength === 0 && responseStream.errored) throw responseStream.errored;
  const prelude = (responseStream as unknown as Record<symbol, Prelude | undefined>)[PRELUDE] ?? {};
  const headers: Array<[string, string]> = Object.entries(prelude.headers ?? {}).map(([k, v]) => [k.toLowerCase(), String(v)]);
  if (!headers.some(([k]) => k === 'content-type')) headers.push(['content-type', 'application/octet-stream']);
  for (const cookie of prelude.cookies ?? []) headers.push(['set-cookie', cookie]);
  return { status: prelude.statusCode ?? 200, headers, body: Buffer.alloc(0), stream: responseStream };
}
