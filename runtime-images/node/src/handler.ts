// Detects a function module's handler style and adapts it to one call: invocation in, plain response out.
import { buildHttpApiEvent, lambdaResultToResponse, type IncomingInvocation, type PlainResponse } from './lambda.js';
import { buildCloudEventEvent, buildQueueEvent, buildScheduledEvent } from './trigger-events.js';
import { Readable } from 'node:stream';
import { settle } from './response-body.js';
import { isStreamified, runStreamified } from './lambda-streaming.js';

export interface FunctionInfo {
  name: string;
  version: string;
  memoryMb: number;
}

export interface InvocationContext {
  /** Epoch ms after which the invoker gives up. */
  deadline: number;
  /** Aborted when the caller goes away before the answer is complete. */
  signal?: AbortSignal;
}

export type Invoke = ((inv: IncomingInvocation, ctx: InvocationContext) => Promise<PlainResponse>) & {
  /** The handler reads its request body as a stream (web standard): large uploads are not held whole. */
  streamsRequestBody?: boolean;
};

export type HandlerStyle = 'web' | 'web-fetch' | 'lambda';

type WebHandler = (req: Request) => unknown;
type LambdaHandler = (event: unknown, context: unknown, callback?: (err: unknown, result?: unknown) => void) => unknown;

export class NoHandlerError extends Error {
  constructor() {
    super('module exports no handler: export default a function or { fetch }, or export const handler');
  }
}

/** Which style a module's exports follow; throws NoHandlerError when none. */
export function detectStyle(mod: Record<string, unknown>): HandlerStyle {
  const def = mod.default;
  if (typeof def === 'function') return 'web';
  if (typeof def === 'object' && def !== null && typeof (def as { fetch?: unknown }).fetch === 'function') return 'web-fetch';
  if (typeof mod.handler === 'function') return 'lambda';
  // A CommonJS bundle imported as ESM puts module.exports on default.
  if (typeof def === 'object' && def !== null && typeof (def as { handler?: unknown }).handler === 'function') return 'lambda';
  throw new NoHandlerError();
}

/** Maps what a web-standard handler returned to a plain response. */
export async function webResultToResponse(result: unknown): Promise<PlainResponse> {
  if (result instanceof Response) {
    const headers: Array<[string, string]> = [];
    result.headers.forEach((value, name) => {
      if (name !== 'set-cookie') headers.push([name, value]);
    });
    for (const cookie of result.headers.getSetCookie()) headers.push(['set-cookie', cookie]);
    const body = await settle(result.body);
    return 'whole' in body ? { status: result.status, headers, body: body.whole } : { status: result.status, headers, body: EMPTY, stream: body.stream };
  }
  if (result === undefined || result === null) return { status: 204, headers: [], body: Buffer.alloc(0) };
  if (typeof result === 'string') {
    return { status: 200, headers: [['content-type', 'text/plain; charset=utf-8']], body: Buffer.from(result) };
  }
  if (result instanceof Uint8Array) {
    return { status: 200, headers: [['content-type', 'application/octet-stream']], body: Buffer.from(result) };
  }
  return { status: 200, headers: [['content-type', 'application/json']], body: Buffer.from(JSON.stringify(result)) };
}

const EMPTY = Buffer.alloc(0);

export function toRequest(inv: IncomingInvocation, signal?: AbortSignal): Request {
  const host = (Array.isArray(inv.headers.host) ? inv.headers.host[0] : inv.headers.host) ?? 'localhost';
  const proto = inv.headers['x-forwarded-proto'] === 'https' ? 'https' : 'http';
  const url = `${proto}://${host}${inv.path}${inv.rawQuery ? `?${inv.rawQuery}` : ''}`;
  const headers = new Headers();
  for (const [name, value] of Object.entries(inv.headers)) {
    if (value === undefined) continue;
    if (Array.isArray(value)) for (const v of value) headers.append(name, v);
    else headers.set(name, value);
  }
  const bodyless = inv.method === 'GET' || inv.method === 'HEAD';
  const body = bodyless ? undefined : inv.bodyStream ? Readable.toWeb(inv.bodyStream) : inv.body.length > 0 ? inv.body : undefined;
  return new Request(url, { method: inv.method, headers, ...(signal ? { signal } : {}), ...(body ? { body, duplex: 'half' } : {}) } as RequestInit);
}

function lambdaContext(inv: IncomingInvocation, ctx: InvocationContext, fn: FunctionInfo) {
  return {
    awsRequestId: inv.invocationId,
    invocationId: inv.invocationId,
    functionName: fn.name,
    functionVersion: fn.version,
    memoryLimitInMB: String(fn.memoryMb),
    invokedFunctionArn: `arn:faas:function:${fn.name}:${fn.version}`,
    callbackWaitsForEmptyEventLoop: true,
    getRemainingTimeInMillis: () => Math.max(0, ctx.deadline - Date.now()),
  };
}

function callLambda(handler: LambdaHandler, event: unknown, context: unknown): Promise<unknown> {
  if (handler.length < 3) return Promise.resolve(handler(event, context));
  return new Promise((resolve, reject) => {
    const maybe = handler(event, context, (err, result) => (err ? reject(err) : resolve(result)));
    if (maybe && typeof (maybe as Promise<unknown>).then === 'function') (maybe as Promise<unknown>).then(resolve, reject);
  });
}

/** The event a Lambda-style handler gets: API Gateway HTTP API 2.0 for HTTP and async calls, else the trigger's own. */
export function lambdaEvent(inv: IncomingInvocation): unknown {
  switch (inv.trigger) {
    case 'queue':
      return buildQueueEvent(inv, inv.context);
    case 'event':
      return buildCloudEventEvent(inv, inv.context);
    case 'cron':
      return buildScheduledEvent(inv, inv.context);
    default:
      return buildHttpApiEvent(inv);
  }
}

/** Builds the one invoke function for a loaded module. */
export function adapt(mod: Record<string, unknown>, fn: FunctionInfo): Invoke {
  const style = detectStyle(mod);
  switch (style) {
    case 'web': {
      const handler = mod.default as WebHandler;
      return Object.assign(async (inv: IncomingInvocation, ctx: InvocationContext) => webResultToResponse(await handler(toRequest(inv, ctx.signal))), {
        streamsRequestBody: true,
      });
    }
    case 'web-fetch': {
      const app = mod.default as { fetch: WebHandler };
      return Object.assign(async (inv: IncomingInvocation, ctx: InvocationContext) => webResultToResponse(await app.fetch(toRequest(inv, ctx.signal))), {
        streamsRequestBody: true,
      });
    }
    case 'lambda': {
      const handler = (typeof mod.handler === 'function' ? mod.handler : (mod.default as { handler: unknown }).handler) as LambdaHandler;
      if (isStreamified(handler)) return (inv, ctx) => runStreamified(handler, lambdaEvent(inv), lambdaContext(inv, ctx, fn));
      return async (inv, ctx) => lambdaResultToResponse(await callLambda(handler, lambdaEvent(inv), lambdaContext(inv, ctx, fn)));
    }
  }
}
