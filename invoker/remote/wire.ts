// The gateway ↔ invoker wire format: one binary frame each way, [4-byte JSON length][JSON head][raw body].
import type { InvocationMeta, InvocationRequest, InvocationResponse } from '../invoker.js';

export const INVOKE_PATH = '/v1/invocations';
export const CONTAINERS_PATH = '/v1/containers';
export const CONTAINER_LIST_PATH = '/v1/container-list';

export type RequestHead = Omit<InvocationRequest, 'body'>;

export type ResponseHead =
  | { ok: true; status: number; headers: InvocationResponse['headers']; meta: InvocationMeta }
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
