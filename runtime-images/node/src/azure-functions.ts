// Azure Functions' Node programming models, adapted to one call:
// - v4: `app.http(name, { methods, route, handler: (request, context) => HttpResponseInit })`, `app.timer`,
//   `app.storageQueue` / `app.serviceBusQueue`, registered at load through the `@azure/functions` module
//   `faas deploy` resolves to the platform's own (cli/platform-modules.ts), which fills AZURE_REGISTRY_KEY.
// - v3: `module.exports = async function (context, req) { context.res = { status, body } }` (`--style azure`):
//   the answer is context.res, or the value returned, or what context.done(err, value) gives.
// What fits neither contract is a ContractError (502), never a guess.
import type { IncomingInvocation, PlainResponse } from './lambda.js';
import { ContractError, describeValue } from './peer-contracts.js';
import { messagesOf } from './workers.js';

/** The global the `@azure/functions` module registers into. Shared with cli/platform-modules.ts. */
export const AZURE_REGISTRY_KEY = 'faas.azure.app';

interface Registration {
  name: string;
  handler: (...args: unknown[]) => unknown;
  methods?: string[];
  route?: string;
}

export interface AzureRegistry {
  http: Registration[];
  timer: Registration[];
  queue: Registration[];
}

/** What the module registered with `app.*` while it loaded, or undefined when it registered nothing. */
export function azureRegistry(): AzureRegistry | undefined {
  const registry = (globalThis as Record<symbol, AzureRegistry | undefined>)[Symbol.for(AZURE_REGISTRY_KEY)];
  if (!registry || registry.http.length + registry.timer.length + registry.queue.length === 0) return undefined;
  return registry;
}

const first = (value: string | string[] | undefined) => (Array.isArray(value) ? value[0] : value);

function invocationContext(inv: IncomingInvocation, functionName: string, trigger: string) {
  const log = (...args: unknown[]) => console.log(...args);
  return {
    invocationId: inv.invocationId,
    functionName,
    extraInputs: { get: () => undefined, set: () => {} },
    extraOutputs: { get: () => undefined, set: () => {} },
    retryContext: inv.context.attempt ? { retryCount: Number(inv.context.attempt) - 1, maxRetryCount: -1 } : undefined,
    traceContext: undefined,
    triggerMetadata: { ...inv.context },
    options: { trigger: { type: trigger, name: functionName }, extraInputs: [], extraOutputs: [] },
    log,
    trace: (...args: unknown[]) => console.debug(...args),
    debug: (...args: unknown[]) => console.debug(...args),
    info: log,
    warn: (...args: unknown[]) => console.warn(...args),
    error: (...args: unknown[]) => console.error(...args),
  };
}

// ---- v4 HTTP routing: `route` templates as Azure writes them ({id}, {id:int}, {id?}, {*rest}) ----

/** The route parameters when `path` (below the function, without /api) matches `template`, else undefined. */
export function matchRoute(template: string, path: string): Record<string, string> | undefined {
  const want = template.split('/').filter(Boolean);
  const have = path.split('/').filter(Boolean);
  const params: Record<string, string> = {};
  for (let i = 0; i < want.length; i++) {
    const part = want[i]!;
    const param = /^\{(\*)?([A-Za-z_][A-Za-z0-9_]*)(?::[^}?]*)?(\?)?\}$/.exec(part);
    if (!param) {
      if (have[i]?.toLowerCase() !== part.toLowerCase()) return undefined;
      continue;
    }
    const [, rest, name, optional] = param;
    const constraint = /:([a-z]+)/i.exec(part)?.[1]?.toLowerCase();
    if (rest) {
      params[name!] = have.slice(i).map(decodeURIComponent).join('/');
      return params;
    }
    if (have[i] === undefined) {
      if (!optional) return undefined;
      continue;
    }
    const value = decodeURIComponent(have[i]!);
    // Azure's route constraints: a value that does not fit matches no route (404), never reaches the handler.
    if (constraint && !fitsConstraint(value, constraint)) return undefined;
    params[name!] = value;
  }
  return have.length <= want.length ? params : undefined;
}

const CONSTRAINTS: Record<string, (value: string) => boolean> = {
  int: (v) => /^-?\d+$/.test(v),
  long: (v) => /^-?\d+$/.test(v),
  alpha: (v) => /^[A-Za-z]+$/.test(v),
  bool: (v) => /^(true|false)$/i.test(v),
  guid: (v) => /^\{?[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}\}?$/i.test(v),
  decimal: (v) => v.trim() !== '' && Number.isFinite(Number(v)),
  double: (v) => v.trim() !== '' && Number.isFinite(Number(v)),
  float: (v) => v.trim() !== '' && Number.isFinite(Number(v)),
  datetime: (v) => !Number.isNaN(Date.parse(v)),
};

/** Whether a route value fits an Azure route constraint (`int`, `alpha`, `guid`, …; others are not checked). */
function fitsConstraint(value: string, constraint: string): boolean {
  return CONSTRAINTS[constraint]?.(value) ?? true;
}

/** The registration a request is for, with its route parameters; one registration takes every path. */
function routeOf(http: Registration[], inv: IncomingInvocation): { registration: Registration; params: Record<string, string> } | undefined {
  if (http.length === 1 && !http[0]!.route) return { registration: http[0]!, params: {} };
  // As Azure serves them under /api/<route> (the route defaults to the function's name); /api is optional here.
  const path = inv.path.replace(/^\/api(?=\/|$)/, '');
  for (const registration of http) {
    const params = matchRoute(registration.route ?? registration.name, path);
    if (params) return { registration, params };
  }
  return undefined;
}

function toAzureRequest(request: Request, params: Record<string, string>): Request {
  Object.defineProperties(request, {
    query: { value: new URL(request.url).searchParams, enumerable: true },
    params: { value: params, enumerable: true },
    user: { value: null, enumerable: true },
  });
  return request;
}

interface Cookie {
  name: string;
  value: string;
  domain?: string;
  path?: string;
  expires?: Date | number;
  secure?: boolean;
  httpOnly?: boolean;
  sameSite?: 'Strict' | 'Lax' | 'None';
  maxAge?: number;
}

function setCookie(c: Cookie): string {
  let text = `${c.name}=${c.value}`;
  if (c.domain) text += `; Domain=${c.domain}`;
  if (c.path) text += `; Path=${c.path}`;
  if (c.expires !== undefined) text += `; Expires=${new Date(c.expires).toUTCString()}`;
  if (c.maxAge !== undefined) text += `; Max-Age=${c.maxAge}`;
  if (c.secure) text += '; Secure';
  if (c.httpOnly) text += '; HttpOnly';
  if (c.sameSite) text += `; SameSite=${c.sameSite}`;
  return text;
}

const BODY_TYPES = (body: unknown) =>
  typeof body === 'string' || body instanceof Uint8Array || body instanceof ArrayBuffer || body instanceof ReadableStream || body instanceof URLSearchParams;

/** v4's HttpResponseInit (`status`, `body`, `jsonBody`, `headers`, `cookies`) as a Response. */
export function azureV4Response(result: unknown): Response {
  if (result instanceof Response) return result;
  if (result === undefined || result === null) return new Response(null, { status: 200 });
  if (typeof result !== 'object') {
    throw new ContractError(
      `an Azure Functions v4 HTTP handler returns { status?, body?, jsonBody?, headers?, cookies? }; it returned ${describeValue(result)}`,
    );
  }
  const init = result as { status?: unknown; body?: unknown; jsonBody?: unknown; headers?: ConstructorParameters<typeof Headers>[0]; cookies?: Cookie[] };
  const status = init.status ?? 200;
  if (typeof status !== 'number' || !Number.isInteger(status) || status < 200 || status > 599)
    throw new ContractError(`the function returned status ${JSON.stringify(status)}; a number from 200 to 599 was expected`);
  const headers = new Headers(init.headers);
  let body: ConstructorParameters<typeof Response>[0] = null;
  if (init.jsonBody !== undefined) {
    body = JSON.stringify(init.jsonBody);
    if (!headers.has('content-type')) headers.set('content-type', 'application/json');
  } else if (init.body !== undefined && init.body !== null) {
    if (!BODY_TYPES(init.body))
      throw new ContractError(
        `the function returned a body that is ${describeValue(init.body)}; Azure's body is text, bytes or a stream — an object goes in jsonBody`,
      );
    body = init.body as ConstructorParameters<typeof Response>[0];
  }
  for (const cookie of init.cookies ?? []) headers.append('set-cookie', setCookie(cookie));
  return new Response(status === 204 || status === 304 ? null : body, { status, headers });
}

/** Calls the v4 HTTP registration the request's path and method are for (404 / 405 when none is). */
export async function runAzureHttp(http: Registration[], request: Request, inv: IncomingInvocation): Promise<Response> {
  if (http.length === 0) return new Response('the module registered no app.http() handler for HTTP calls', { status: 501 });
  const routed = routeOf(http, inv);
  if (!routed) {
    const routes = http.map((r) => `/${r.route ?? r.name}`).join(', ');
    return Response.json(
      { error: { code: 'NO_ROUTE', message: `no Azure function of this module serves ${inv.path} (its routes: ${routes})` } },
      { status: 404 },
    );
  }
  const { registration, params } = routed;
  const methods = registration.methods?.map((m) => m.toUpperCase());
  if (methods && !methods.includes(inv.method) && !(inv.method === 'HEAD' && methods.includes('GET'))) {
    return new Response(null, { status: 405, headers: { allow: methods.join(', ') } });
  }
  const result = await registration.handler(toAzureRequest(request, params), invocationContext(inv, registration.name, 'httpTrigger'));
  return azureV4Response(result);
}

/** A cron tick for every `app.timer` registration (the schedule itself is the deploy's --schedule). */
export async function runAzureTimer(timers: Registration[], inv: IncomingInvocation): Promise<PlainResponse> {
  if (timers.length === 0) return noRegistration('app.timer', 'cron');
  const now = new Date(Date.parse(inv.context['scheduled-at'] ?? '') || inv.receivedAt);
  const timer = { isPastDue: false, schedule: { adjustForDST: true }, scheduleStatus: { last: now.toISOString(), next: '', lastUpdated: now.toISOString() } };
  for (const registration of timers) await registration.handler(timer, invocationContext(inv, registration.name, 'timerTrigger'));
  return { status: 204, headers: [], body: Buffer.alloc(0) };
}

/** Each queue message to every `app.storageQueue` / `app.serviceBusQueue` registration (a throw retries the call). */
export async function runAzureQueue(queues: Registration[], inv: IncomingInvocation): Promise<PlainResponse> {
  if (queues.length === 0) return noRegistration('app.storageQueue', 'queue');
  for (const message of messagesOf(inv)) {
    for (const registration of queues) await registration.handler(message.body, invocationContext(inv, registration.name, 'queueTrigger'));
  }
  return { status: 204, headers: [], body: Buffer.alloc(0) };
}

function noRegistration(what: string, trigger: string): PlainResponse {
  return {
    status: 501,
    headers: [['content-type', 'text/plain; charset=utf-8']],
    body: Buffer.from(`the module registered no ${what}() handler for ${trigger} calls`),
  };
}

// ---- v3: (context, req) with context.res ----

function v3Request(inv: IncomingInvocation) {
  const text = inv.body.toString('utf8');
  let body: unknown = text === '' ? undefined : text;
  if (text && /json/i.test(first(inv.headers['content-type']) ?? '')) {
    try {
      body = JSON.parse(text);
    } catch {
      // Azure keeps the text when it is not JSON after all.
    }
  }
  const host = first(inv.headers.host) ?? 'localhost';
  const url = `http://${host}${inv.path}${inv.rawQuery ? `?${inv.rawQuery}` : ''}`;
  return {
    method: inv.method,
    url,
    originalUrl: url,
    headers: Object.fromEntries(Object.entries(inv.headers).map(([k, v]) => [k, first(v)])),
    query: Object.fromEntries(new URLSearchParams(inv.rawQuery)),
    params: {},
    body,
    rawBody: text,
  };
}

/** v3's response object (`{ status, body, headers, cookies, isRaw }`; an object body as JSON). */
export function azureV3Response(res: unknown): PlainResponse {
  if (res === undefined || res === null) return { status: 204, headers: [], body: Buffer.alloc(0) };
  if (typeof res !== 'object')
    throw new ContractError(`an Azure Functions v3 function answers through context.res = { status, body }; it gave ${describeValue(res)}`);
  const r = res as { status?: unknown; statusCode?: unknown; body?: unknown; headers?: Record<string, unknown>; cookies?: Cookie[] };
  const status = r.status ?? r.statusCode ?? 200;
  if (typeof status !== 'number' || !Number.isInteger(status) || status < 100 || status > 599)
    throw new ContractError(`the function returned status ${JSON.stringify(status)}; a number from 100 to 599 was expected`);
  const headers: Array<[string, string]> = Object.entries(r.headers ?? {}).map(([k, v]) => [k.toLowerCase(), String(v)]);
  for (const cookie of r.cookies ?? []) headers.push(['set-cookie', setCookie(cookie)]);
  let body: Buffer;
  if (r.body === undefined || r.body === null) body = Buffer.alloc(0);
  else if (typeof r.body === 'string') {
    body = Buffer.from(r.body);
    // Azure's v3 host answers text without a content type as text/plain.
    if (body.length > 0 && !headers.some(([k]) => k === 'content-type')) headers.push(['content-type', 'text/plain; charset=utf-8']);
  } else if (r.body instanceof Uint8Array) body = Buffer.from(r.body);
  else {
    body = Buffer.from(JSON.stringify(r.body));
    if (!headers.some(([k]) => k === 'content-type')) headers.push(['content-type', 'application/json; charset=utf-8']);
  }
  return { status, headers, body };
}

/** Runs a v3 function: the answer is context.res, else the value returned (or given to context.done). */
export async function runAzureV3(handler: (context: unknown, req: unknown) => unknown, inv: IncomingInvocation, name: string): Promise<PlainResponse> {
  const req = v3Request(inv);
  let done: (err: unknown, value?: unknown) => void = () => {};
  const finished = new Promise<unknown>((resolve, reject) => {
    done = (err, value) => (err ? reject(err) : resolve(value));
  });
  const log = Object.assign((...args: unknown[]) => console.log(...args), {
    error: (...args: unknown[]) => console.error(...args),
    warn: (...args: unknown[]) => console.warn(...args),
    info: (...args: unknown[]) => console.info(...args),
    verbose: (...args: unknown[]) => console.debug(...args),
  });
  const context: Record<string, unknown> = {
    invocationId: inv.invocationId,
    executionContext: { invocationId: inv.invocationId, functionName: name, functionDirectory: '/fn' },
    bindings: { req },
    bindingData: { ...req.query, invocationId: inv.invocationId },
    req,
    res: undefined,
    log,
    done: (err?: unknown, value?: unknown) => done(err, value),
  };
  const returned = handler(context, req);
  // An async function's promise; a function returning a value, that value; otherwise (as Azure's v3 host
  // requires of functions that are not async) what it gives context.done, however late.
  const value = returned && typeof (returned as Promise<unknown>).then === 'function' ? await returned : returned !== undefined ? returned : await finished;
  const given = value !== undefined && typeof value === 'object' && value !== null && 'res' in (value as object) ? (value as { res: unknown }).res : value;
  return azureV3Response(context.res ?? given);
}
