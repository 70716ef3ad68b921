// Detects a function module's handler style and adapts it to one call: invocation in, plain response out.
import { buildHttpApiEvent, buildRestApiEvent, lambdaResultToResponse, type IncomingInvocation, type PlainResponse } from './lambda.js';
import { executionContext, isWorkersModule, missingHandler, runQueue, runScheduled, type WorkersModule } from './workers.js';
import { buildCloudEventEvent, buildQueueEvent, buildScheduledEvent } from './trigger-events.js';
import { Readable } from 'node:stream';
import { settle } from './response-body.js';
import { isStreamified, runStreamified } from './lambda-streaming.js';
import { cfOf } from './workers-globals.js';
import { azureRegistry, runAzureHttp, runAzureQueue, runAzureTimer, runAzureV3, type AzureRegistry } from './azure-functions.js';
import {
  ContractError,
  fissionRequest,
  fissionResult,
  knativeContext,
  knativeResult,
  openfaasContext,
  openfaasEvent,
  openfaasResult,
  openwhiskParams,
  openwhiskResult,
  vercelRequest,
  vercelResponse,
  type FissionRequest,
} from './peer-contracts.js';

export { ContractError };

export interface FunctionInfo {
  name: string;
  version: string;
  memoryMb: number;
  /** The export that handles calls; '' (or absent): found by shape. */
  handler?: string;
  /** The HTTP event Lambda-style handlers get. Default '2.0'. */
  eventFormat?: '1.0' | '2.0';
  /** The function's own variables and its bindings: Workers handlers get them as `env`. */
  env?: Record<string, unknown>;
  /** The handler contract chosen at deploy (web, lambda, workers, fission); '' or absent: found by shape. */
  style?: string;
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

export type HandlerStyle = 'web' | 'web-fetch' | 'lambda' | 'fission' | 'openwhisk' | 'openfaas' | 'knative' | 'vercel' | 'azure' | 'azure-v4';

type WebHandler = (req: Request, context: WebContext) => unknown;
type FissionHandler = (context: { request: FissionRequest; response: undefined }) => unknown;
type PeerHandler = (...args: unknown[]) => unknown;
type LambdaHandler = (event: unknown, context: unknown, callback?: (err: unknown, result?: unknown) => void) => unknown;

/** The handler a module's exports give, and how to call it. */
export type ResolvedHandler =
  | { style: 'web'; fn: WebHandler }
  | { style: 'web-fetch'; app: WorkersModule }
  | { style: 'lambda'; fn: LambdaHandler }
  | { style: 'fission'; fn: FissionHandler }
  | { style: 'openwhisk' | 'openfaas' | 'knative' | 'vercel' | 'azure'; fn: PeerHandler }
  | { style: 'azure-v4'; registry: AzureRegistry };

/** The contracts `--style` names. */
export const STYLES = ['web', 'lambda', 'workers', 'fission', 'openwhisk', 'openfaas', 'knative', 'vercel', 'azure'] as const;

/** What a web handler gets as its second argument (Netlify's and Vercel's `context`, kept small). */
export interface WebContext {
  requestId: string;
  /** The caller's address, from the platform's x-forwarded-for. */
  ip: string | undefined;
  /** Work to finish after the answer (billed with the call). */
  waitUntil(promise: Promise<unknown>): void;
}

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
  const entrypoint = workersEntrypoint(value);
  if (entrypoint) return { style: 'web-fetch', app: entrypoint };
  if (typeof value === 'object' && value !== null && typeof (value as { handler?: unknown }).handler === 'function') {
    return { style: 'lambda', fn: (value as { handler: LambdaHandler }).handler };
  }
  if (typeof value !== 'function') return undefined;
  if (named || (value as (...args: unknown[]) => unknown).length >= 2) return { style: 'lambda', fn: value as LambdaHandler };
  return { style: 'web', fn: value as WebHandler };
}

/** Exports that name their platform's contract: OpenWhisk's `main(params)`, Knative Functions' `handle(context, body)`. */
const PEER_EXPORTS = [
  ['main', 'openwhisk'],
  ['handle', 'knative'],
] as const;

/**
 * A Workers class (`export default class extends WorkerEntrypoint { fetch(request) {} }`): a new instance
 * per call with its ctx and env, as Cloudflare creates one per request.
 */
function workersEntrypoint(value: unknown): WorkersModule | undefined {
  if (typeof value !== 'function') return undefined;
  const proto = (value as { prototype?: Record<string, unknown> }).prototype;
  if (!proto || !['fetch', 'scheduled', 'queue'].some((name) => typeof proto[name] === 'function')) return undefined;
  const Entrypoint = value as new (ctx: unknown, env: unknown) => Record<string, (...args: unknown[]) => unknown>;
  const method =
    (name: string) =>
    (arg: unknown, env: unknown, ctx: unknown): unknown =>
      new Entrypoint(ctx, env)[name]!(arg);
  const app: WorkersModule = {};
  if (typeof proto.fetch === 'function') app.fetch = method('fetch') as WorkersModule['fetch'];
  if (typeof proto.scheduled === 'function') app.scheduled = method('scheduled') as WorkersModule['scheduled'];
  if (typeof proto.queue === 'function') app.queue = method('queue') as WorkersModule['queue'];
  return app;
}

/** The HTTP methods a module may export a handler for by name (Vercel's and Next.js's route handlers). */
export const METHOD_EXPORTS = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'] as const;

/**
 * `export function GET(request)`, `export async function POST(request)`, …: one web handler that calls the
 * export named for the request's method; HEAD falls back to GET, OPTIONS answers the methods, any other 405.
 */
function byMethodExports(mod: Record<string, unknown>): ResolvedHandler | undefined {
  const handlers = new Map(METHOD_EXPORTS.flatMap((m) => (typeof mod[m] === 'function' ? [[m, mod[m] as (req: Request) => unknown] as const] : [])));
  if (handlers.size === 0) return undefined;
  const allow = [...handlers.keys(), ...(handlers.has('GET') && !handlers.has('HEAD') ? ['HEAD'] : []), ...(handlers.has('OPTIONS') ? [] : ['OPTIONS'])].join(
    ', ',
  );
  const dispatch = (request: Request) => {
    const handler = handlers.get(request.method as (typeof METHOD_EXPORTS)[number]) ?? (request.method === 'HEAD' ? handlers.get('GET') : undefined);
    if (handler) return handler(request);
    if (request.method === 'OPTIONS') return new Response(null, { status: 204, headers: { allow } });
    return new Response(null, { status: 405, headers: { allow } });
  };
  return { style: 'web', fn: dispatch };
}

/** Netlify Functions v2: a default (request, context) handler beside `export const config`. */
const isNetlify = (mod: Record<string, unknown>) => typeof mod.default === 'function' && typeof mod.config === 'object' && mod.config !== null;

/** The handler for a style chosen at deploy (`--style`): the value must have that style's shape. */
function byStyle(value: unknown, style: string): ResolvedHandler | undefined {
  switch (style) {
    case 'workers': {
      const app = isWorkersModule(value) ? value : workersEntrypoint(value);
      return app ? { style: 'web-fetch', app } : undefined;
    }
    case 'lambda':
      if (typeof value === 'object' && value !== null && typeof (value as { handler?: unknown }).handler === 'function') {
        return { style: 'lambda', fn: (value as { handler: LambdaHandler }).handler };
      }
      return typeof value === 'function' ? { style: 'lambda', fn: value as LambdaHandler } : undefined;
    case 'web':
      return typeof value === 'function' ? { style: 'web', fn: value as WebHandler } : undefined;
    case 'fission':
      return typeof value === 'function' ? { style: 'fission', fn: value as FissionHandler } : undefined;
    case 'openwhisk':
    case 'openfaas':
    case 'knative':
    case 'vercel':
    case 'azure':
      return typeof value === 'function' ? { style, fn: value as PeerHandler } : undefined;
    default:
      throw new NoHandlerError(`--style ${style} is not a handler style (${STYLES.join(', ')})`);
  }
}

/** Finds the handler: the export named `wanted` (also on a CommonJS default), else default, else handler. */
export function resolveHandler(mod: Record<string, unknown>, wanted = '', style = ''): ResolvedHandler {
  // Azure Functions v4: the module registered its handlers with app.http/timer/storageQueue while it loaded.
  const azure = azureRegistry();
  if (azure && !wanted && (style === '' || style === 'azure')) return { style: 'azure-v4', registry: azure };
  const shaped = (value: unknown, named: boolean) => (style ? byStyle(value, style) : byShape(value, named));
  if (wanted) {
    const value = wanted === 'default' ? mod.default : wanted in mod ? mod[wanted] : (mod.default as Record<string, unknown> | undefined)?.[wanted];
    if (value === undefined) throw new NoHandlerError(`the module has no export "${wanted}" (its exports: ${exportList(mod)})`);
    const resolved = shaped(value, wanted !== 'default');
    if (!resolved) throw new NoHandlerError(`export "${wanted}" is a ${typeof value}, not a ${style || ''} handler`.replace('  ', ' '));
    return resolved;
  }
  if (!style && isNetlify(mod)) return { style: 'web', fn: mod.default as WebHandler };
  // OpenWhisk's `main` and Knative Functions' `handle` are theirs by name (no other contract uses them).
  for (const [name, peer] of PEER_EXPORTS) {
    if (style && style !== peer) continue;
    if (typeof mod[name] === 'function' && mod.default === undefined && mod.handler === undefined) return { style: peer, fn: mod[name] as PeerHandler };
    // CommonJS (`exports.main = …`, `module.exports = { handle }`), bundled as a default object.
    const cjs = mod.default as Record<string, unknown> | undefined;
    if (typeof cjs === 'object' && cjs !== null && typeof cjs[name] === 'function' && typeof cjs.handler !== 'function')
      return { style: peer, fn: cjs[name] as PeerHandler };
  }
  const resolved = shaped(mod.default, false) ?? shaped(mod.handler, true) ?? (style === '' || style === 'web' ? byMethodExports(mod) : undefined);
  if (!resolved) throw new NoHandlerError(`the module exports no ${style ? `${style} ` : ''}handler (its exports: ${exportList(mod)})`);
  return resolved;
}

/** Which style a module's exports follow; throws NoHandlerError when none. */
export function detectStyle(mod: Record<string, unknown>, wanted = ''): HandlerStyle {
  return resolveHandler(mod, wanted).style;
}

/** Maps what a web-standard handler returned to a plain response. */
export async function webResultToResponse(result: unknown, strict = true): Promise<PlainResponse> {
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
  const shaped = strict ? httpShapedKeys(result) : undefined;
  if (shaped) {
    throw new ContractError(
      `the function returned an object shaped like another platform's HTTP answer ({ ${shaped.join(', ')} }), which a web handler does not give: return a Response (or text, bytes or a value to send as JSON); if it is written for Lambda or OpenWhisk ({ statusCode, body }) deploy it with --style lambda, for Fission ({ status, body }) with --style fission`,
    );
  }
  return { status: 200, headers: [['content-type', 'application/json']], body: Buffer.from(JSON.stringify(result)) };
}

const HTTP_ANSWER_KEYS = new Set(['status', 'statusCode', 'headers', 'body', 'isBase64Encoded', 'cookies', 'multiValueHeaders']);

/** The keys of a plain object made only of HTTP-answer fields with a numeric status, or undefined. */
function httpShapedKeys(result: unknown): string[] | undefined {
  if (typeof result !== 'object' || result === null || Array.isArray(result)) return undefined;
  const proto = Object.getPrototypeOf(result);
  if (proto !== Object.prototype && proto !== null) return undefined;
  const record = result as Record<string, unknown>;
  const keys = Object.keys(record);
  if (!(typeof record.status === 'number' || typeof record.statusCode === 'number')) return undefined;
  return keys.every((k) => HTTP_ANSWER_KEYS.has(k)) ? keys : undefined;
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

/**
 * The answer once waitUntil's work has ended (it is billed with the call, and the container is frozen only
 * after it): a whole answer waits for it; a streamed one is sent as it comes and the work is awaited at its
 * end — work that only ends once the caller has read the stream must not hold the stream back.
 */
async function afterWork(response: PlainResponse, settled: () => Promise<void>): Promise<PlainResponse> {
  if (!response.stream) {
    await settled();
    return response;
  }
  const source = response.stream;
  return {
    ...response,
    stream: (async function* () {
      try {
        yield* source;
      } finally {
        await settled();
      }
    })(),
  };
}

/** A Response from a handler of any style is the web answer it is; anything else is read by the style's own rule. */
async function orWeb(result: unknown, read: (result: unknown) => PlainResponse): Promise<PlainResponse> {
  return result instanceof Response ? webResultToResponse(result) : read(result);
}

/** The client's address, from the platform's x-forwarded-for (its first entry). */
function connectingIp(inv: IncomingInvocation): string | undefined {
  const forwarded = inv.headers['x-forwarded-for'];
  return (Array.isArray(forwarded) ? forwarded[0] : forwarded)?.split(',')[0]?.trim() || undefined;
}

function webContext(inv: IncomingInvocation, waitUntil: (promise: Promise<unknown>) => void): WebContext {
  return { requestId: inv.invocationId, ip: connectingIp(inv), waitUntil };
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
  const resolved = resolveHandler(mod, fn.handler, fn.style);
  const env = fn.env ?? {};
  switch (resolved.style) {
    case 'web': {
      const handler = resolved.fn;
      // A second argument only for handlers that take one (Netlify's and Vercel's context); a one-parameter
      // handler's own optional second parameter keeps its default.
      const takesContext = handler.length >= 2 || fn.style === 'web' || isNetlify(mod);
      // An HTTP-answer-shaped object is refused only when the contract was guessed; chosen, it is JSON.
      const strict = fn.style !== 'web';
      return Object.assign(
        async (inv: IncomingInvocation, ctx: InvocationContext) => {
          if (!takesContext) return webResultToResponse(await (handler as (req: Request) => unknown)(toRequest(inv, ctx.signal)), strict);
          const work = executionContext();
          const response = await webResultToResponse(await handler(toRequest(inv, ctx.signal), webContext(inv, work.ctx.waitUntil)), strict);
          return afterWork(response, work.settled);
        },
        { streamsRequestBody: true },
      );
    }
    case 'fission': {
      const handler = resolved.fn;
      return async (inv: IncomingInvocation) => orWeb(await handler({ request: fissionRequest(inv), response: undefined }), fissionResult);
    }
    case 'openwhisk': {
      const handler = resolved.fn;
      return async (inv: IncomingInvocation) => {
        let result: unknown;
        try {
          result = await handler(openwhiskParams(inv));
        } catch (err) {
          // OpenWhisk answers a rejection with { error } as the application error it carries, as if returned.
          if (typeof err === 'object' && err !== null && !(err instanceof Error) && 'error' in err) return openwhiskResult(err);
          throw err;
        }
        return orWeb(result, openwhiskResult);
      };
    }
    case 'knative': {
      const handler = resolved.fn;
      return async (inv: IncomingInvocation) => {
        const context = knativeContext(inv);
        return orWeb(await handler(context, context.cloudevent ?? context.body), knativeResult);
      };
    }
    case 'vercel': {
      const handler = resolved.fn;
      return async (inv: IncomingInvocation) => {
        const { res, done, answer } = vercelResponse();
        const result = await handler(vercelRequest(inv), res);
        if (result instanceof Response) return webResultToResponse(result);
        // Answered by the time the handler's promise settles, or later (a callback API): the end it gives.
        return answer() ?? done;
      };
    }
    case 'azure': {
      const handler = resolved.fn as (context: unknown, req: unknown) => unknown;
      return async (inv: IncomingInvocation) => runAzureV3(handler, inv, fn.name);
    }
    case 'azure-v4': {
      const { registry } = resolved;
      return Object.assign(
        async (inv: IncomingInvocation, ctx: InvocationContext): Promise<PlainResponse> => {
          if (inv.trigger === 'cron') return runAzureTimer(registry.timer, inv);
          if (inv.trigger === 'queue') return runAzureQueue(registry.queue, inv);
          return webResultToResponse(await runAzureHttp(registry.http, toRequest(inv, ctx.signal), inv));
        },
        { streamsRequestBody: true },
      );
    }
    case 'openfaas': {
      const handler = resolved.fn;
      return async (inv: IncomingInvocation) => {
        const { context, answer } = openfaasContext();
        const result = await handler(openfaasEvent(inv), context);
        return orWeb(result, (r) => openfaasResult(r, answer()));
      };
    }
    case 'web-fetch': {
      const app = resolved.app;
      return Object.assign(
        async (inv: IncomingInvocation, ctx: InvocationContext): Promise<PlainResponse> => {
          if (inv.trigger === 'queue' && app.queue) return runQueue(app, inv, env);
          if (inv.trigger === 'cron' && app.scheduled) return runScheduled(app, inv, env);
          if (!app.fetch) return missingHandler(inv.trigger === 'queue' ? 'queue' : inv.trigger === 'cron' ? 'scheduled' : 'fetch', inv.trigger);
          const work = executionContext();
          const request = toRequest(inv, ctx.signal);
          Object.defineProperty(request, 'cf', { value: cfOf(inv), enumerable: true });
          // Cloudflare's header of the client's address, which Workers code rate-limits and logs by: always the
          // platform's (a client's own would let it choose the address the function trusts).
          const client = connectingIp(inv);
          if (client) request.headers.set('cf-connecting-ip', client);
          else request.headers.delete('cf-connecting-ip');
          const result = await app.fetch(request, env, work.ctx);
          // waitUntil's work ends before the call does: the container is frozen once it has.
          return afterWork(await webResultToResponse(result), work.settled);
        },
        { streamsRequestBody: true },
      );
    }
    case 'lambda': {
      const handler = resolved.fn;
      const format = fn.eventFormat ?? '2.0';
      if (isStreamified(handler)) return (inv, ctx) => runStreamified(handler, lambdaEvent(inv, format), lambdaContext(inv, ctx, fn));
      return async (inv, ctx) => {
        const result = await callLambda(handler, lambdaEvent(inv, format), lambdaContext(inv, ctx, fn));
        // A Response is a web answer, whatever the handler's style.
        return result instanceof Response ? webResultToResponse(result) : lambdaResultToResponse(result);
      };
    }
  }
}
