// A request body as the triggers take it: whole, as a Buffer, up to a limit; an upload of known length up to a
// larger limit relayed as it arrives (StreamedUpload), so the gateway never holds it; anything larger is 413.
import type { Readable } from 'node:stream';
import { PayloadTooLargeError } from '../../core/errors.js';

/** An upload relayed as it arrives. */
export class StreamedUpload {
  constructor(
    readonly stream: Readable,
    readonly length: number,
  ) {}
}

export interface BodyLimits {
  /** Largest body read whole. */
  maxBodyBytes: number;
  /** Largest upload of known length relayed as a stream; 0 (or ≤ maxBodyBytes): none. */
  maxStreamBytes?: number;
}

export function tooLarge(limitBytes: number): PayloadTooLargeError {
  return new PayloadTooLargeError(`the request body is larger than ${limitBytes} bytes`);
}

/** The body of a request whose headers are in: whole, or relayed (see StreamedUpload); rejects with 413 past the limits. */
export function readBody(req: Readable, headers: Record<string, string | string[] | undefined>, limits: BodyLimits): Promise<Buffer | StreamedUpload> {
  const length = Number(headers['content-length'] ?? 0);
  if (length > limits.maxBodyBytes) {
    if (length <= (limits.maxStreamBytes ?? 0)) return Promise.resolve(new StreamedUpload(req, length));
    return Promise.reject(tooLarge(limits.maxBodyBytes));
  }
  return collect(req, limits.maxBodyBytes);
}

/** Reads a whole body up to limitBytes (413 beyond, and the rest is left unread). */
export function collect(payload: Readable, limitBytes: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > limitBytes) {
        cleanup();
        return reject(tooLarge(limitBytes));
      }
      chunks.push(chunk);
    };
    const onEnd = () => {
      cleanup();
      resolve(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size));
    };
    const onError = (err: Error) => {
      cleanup();
      reject(err);
    };
    const cleanup = () => {
      payload.off('data', onData);
      payload.off('end', onEnd);
      payload.off('error', onError);
      payload.off('close', onClose);
    };
    // A caller that leaves mid-body: Node emits 'aborted'/'close' without 'end' or 'error'.
    const onClose = () => {
      if ((payload as Readable & { complete?: boolean }).complete === false)
        onError(Object.assign(new Error('the caller closed the connection before its body was in'), { code: 'ECONNRESET' }));
    };
    payload.on('data', onData);
    payload.on('end', onEnd);
    payload.on('error', onError);
    payload.on('close', onClose);
  });
}
