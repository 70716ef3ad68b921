// The gateway ↔ invoker wire format: one binary frame each way, [4-byte JSON length][JSON head][raw body].
// A gateway that relays streams says so (STREAM_HEADER); an answer the function is still writing then comes
// back with `stream: true` in its head and its body as it is written (the HTTP response ends with it, and is
// cut if the call fails mid-way).
import type { InvocationMeta, InvocationRequest, InvocationResponse } from '../../core/invoker.js';

export const INVOKE_PATH = '/v1/invocations';
export const CONTAINERS_PATH = '/v1/containers';
export const CONTAINER_LIST_PATH = '/v1/container-list';

export type RequestHead = Omit<InvocationRequest, 'body'>;

/** Request header of a gateway that relays streamed answers. */
export const STREAM_HEADER = 'x-faas-stream';
/** The error code of an invoker that is shutting down: it took no new call, which may go to another invoker. */
export const DRAINING_CODE = 'INVOKER_DRAINING';

export type ResponseHead =
  | { ok: true; status: number; headers: InvocationResponse['headers']; meta: InvocationMeta; stream?: boolean }
  | { ok: false; error: { code: string; status: number; message: string } };

export function encodeFrame(head: unknown, body: Buffer): Buffer {
  const json = Buffer.from(JSON.stringify(head));
  const prefix = Buffer.allocUnsafe(4);
  prefix.writeUInt32BE(json.length, 0);
  return Buffer.concat([prefix, json, body]);
}

export function decodeFrame<T>(frame: Buffer): { head: T; body: Buffer } {
  if (frame.length < 4) throw new Error('invocation frame too short');
  const length = frame.readUInt32BE(0);
  if (4 + length > frame.length) throw new Error('invocation frame truncated');
  return { head: JSON.parse(frame.subarray(4, 4 + length).toString('utf8')) as T, body: frame.subarray(4 + length) };
}

/** The 4-byte length and JSON head that start a frame (its body follows, whole or streamed). */
export function encodeHead(head: unknown): Buffer {
  const json = Buffer.from(JSON.stringify(head));
  const prefix = Buffer.allocUnsafe(4);
  prefix.writeUInt32BE(json.length, 0);
  return Buffer.concat([prefix, json]);
}

/**
 * Reads a frame's head from a stream of its bytes; resolves with the head and the bytes after it (the
 * start of the body), leaving the rest of the stream unread.
 */
export async function readHead<T>(body: AsyncIterator<Buffer>): Promise<{ head: T; rest: Buffer; done: boolean }> {
  let buffered: Buffer = Buffer.alloc(0);
  for (;;) {
    if (buffered.length >= 4) {
      const length = buffered.readUInt32BE(0);
      if (buffered.length >= 4 + length) {
        return { head: JSON.parse(buffered.subarray(4, 4 + length).toString('utf8')) as T, rest: buffered.subarray(4 + length), done: false };
      }
    }
    const next = await body.next();
    if (next.done) throw new Error('invocation frame truncated');
    buffered = buffered.length === 0 ? next.value : Buffer.concat([buffered, next.value]);
  }
}
