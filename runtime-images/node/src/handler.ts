// Detects a function module's handler style and adapts it to one call: invocation in, plain response out.
import { buildHttpApiEvent, buildRestApiEvent, lambdaResultToResponse, type IncomingInvocation, type PlainResponse } from './lambda.js';
import { executionContext, isWorkersModule, missingHandler, runQueue, runScheduled, type WorkersModule } from './workers.js';
import { buildCloudEventEvent, buildQueueEvent, buildScheduledEvent } from './trigger-events.js';
import { Readable } from 'node:stream';
import { settle } from './response-body.js';
import { isStreamified, runStreamified } from './lambda-streaming.js';

export interface FunctionInfo {
  name: string;
  version: string;
  memoryMb: number;
  /** The export that handles calls; '' (or absent): found by shape. */
  handler?: string;
  /** The HTTP event Lambda-style handlers get. Default '2.0'. */
  eventFormat?: '1.0' | '2.0';
  /** The function's own variables: Workers handlers get them as `env`. */
  env?: Record<string, string>;
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

/** The handler a module's exports give, and how to call it. */
export type ResolvedHandler = { style: 'web'; fn: WebHandler } | { style: 'web-fetch'; app: WorkersModule } | { style: 'lambda'; fn: LambdaHandler };

const ACCEPTED =
  'export default a function (request) => Response or { fetch, scheduled, queue } (Workers), or a Lambda handler (export const handler = async (event, context) => …), or name the export with --handler';

export class NoHandlerError extends Error {
  constructor(reason: string) {
    super(`${reason}; ${ACCEPTED}`);
  }
}

const exportList = (mod: Record<string, unknown>) => Object.keys(mod).join(', ') || 'none';

/**
 * A handler by its shape: an object with fetch/scheduled/queue is a Workers module; one with a handler
 * function is a CommonJS Lambda module; a function taking (event, context[, callback]) or exported by
 * name is a Lambda handler; a default function of at most one parameter is a web handler.
 */
function byShape(value: unknown, named: boolean): ResolvedHandler | undefined {
  if (isWorkersModule(value)) return { style: 'web-fetch', app: value };
  if (typeof value === 'object' && value !== null && typeof (value as { handler?: unknown }).handler === 'function') {
    return { style: 'lambda', fn: (value as { handler: LambdaHandler }).handler };
  }
  if (typeof value !== 'function') return undefined;
  if (named || (value as (...args: unknown[]) => unknown).length >= 2) return { style: 'lambda', fn: value as LambdaHandler };
  return { style: 'web', fn: value as WebHandler };
}

/** Finds the handler: the export named `wanted` (also on a CommonJS default), else default, else handler. */
export function resolveHandler(mod: Record<string, unknown>, wanted = ''): ResolvedHandler {
  if (wanted) {
    const value = wanted === 'default' ? mod.default : wanted in mod ? mod[wanted] : (mod.default as Record<string, unknown> | undefined)?.[wanted];
    if (value === undefined) throw new NoHandlerError(`the module has no export "${wanted}" (its exports: ${exportList(mod)})`);
    const resolved = byShape(value, wanted !== 'default');
    if (!resolved) throw new NoHandlerError(`export "${wanted}" is a ${typeof value}, not a handler`);
    return resolved;
  }
  const resolved = byShape(mod.default, false) ?? byShape(mod.handler, true);
  if (!resolved) throw new NoHandlerError(`the module exports no handler (its exports: ${exportList(mod)})`);
  return resolved;
}

/** Which style a module's exports follow; throws NoHandlerError when none. */
export function detectStyle(mod: Record<string, unknown>, wanted = ''): HandlerStyle {
  return resolveHandler(mod, wanted).style;
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

/** The event a Lambda-style handler gets: API Gateway (HTTP API 2.0, or REST 1.0) for HTTP and async calls, else the trigger's own. */
export function lambdaEvent(inv: IncomingInvocation, format: '1.0' | '2.0' = '2.0'): unknown {
  switch (inv.trigger) {
    case 'queue':
      return buildQueueEvent(inv, inv.context);
    case 'event':
      return buildCloudEventEvent(inv, inv.context);
    case 'cron':
      return buildScheduledEvent(inv, inv.context);
    default:
      return format === '1.0' ? buildRestApiEvent(inv) : buildHttpApiEvent(inv);
  }
}

/** Builds the one invoke function for a loaded module. */
export function adapt(mod: Record<string, unknown>, fn: FunctionInfo): Invoke {
  const resolved = resolveHandler(mod, fn.handler);
  const env = fn.env ?? {};
  switch (resolved.style) {
    case 'web': {
      const handler = resolved.fn;
      return Object.assign(async (inv: IncomingInvocation, ctx: InvocationContext) => webResultToResponse(await handler(toRequest(inv, ctx.signal))), {
        streamsRequestBody: true,
      });
    }
    case 'web-fetch': {
      const app = resolved.app;
      return Object.assign(
        async (inv: IncomingInvocation, ctx: InvocationContext): Promise<PlainResponse> => {
          if (inv.trigger === 'queue' && app.queue) return runQueue(app, inv, env);
          if (inv.trigger === 'cron' && app.scheduled) return runScheduled(app, inv, env);
          if (!app.fetch) return missingHandler(inv.trigger === 'queue' ? 'queue' : inv.trigger === 'cron' ? 'scheduled' : 'fetch', inv.trigger);
          const work = executionContext();
          const result = await app.fetch(toRequest(inv, ctx.signal), env, work.ctx);
          const response = await webResultToResponse(result);
          // waitUntil's work ends before the call does: the container is frozen once it has.
          await work.settled();
          return response;
        },
        { streamsRequestBody: true },
      );
    }
    case 'lambda': {
      const handler = resolved.fn;
      const format = fn.eventFormat ?? '2.0';
      if (isStreamified(handler)) return (inv, ctx) => runStreamified(handler, lambdaEvent(inv, format), lambdaContext(inv, ctx, fn));
      return async (inv, ctx) => lambdaResultToResponse(await callLambda(handler, lambdaEvent(inv, format), lambdaContext(inv, ctx, fn)));
    }
  }
}
