// The handler contracts of the other open-source platforms, each adapted to one call (invocation in, plain
// response out): OpenWhisk actions (`main(params)`), Knative Functions (`handle(context, body)`), OpenFaaS's
// Node templates (`(event, context)` with `context.status().succeed()`) and Fission (`(context)` answering
// `{ status, headers, body }`). What a handler returns is read as its platform defines it; anything else is
// a ContractError (502), never a guess.
import type { IncomingInvocation, PlainResponse } from './lambda.js';
import { binaryAnswer, cloudEventOf, isCloudEvent } from './cloudevents.js';
import { settle } from './response-body.js';

/**
 * A result that fits no contract of the handler's style: answered 502 naming what came back and what was
 * expected, never guessed into a 200.
 */
export class ContractError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ContractError';
  }
}

export function describeValue(value: unknown): string {
  if (value === null || value === undefined) return String(value);
  if (typeof value !== 'object') return `a ${typeof value}`;
  if (Array.isArray(value)) return 'an array';
  const name = Object.getPrototypeOf(value)?.constructor?.name;
  return name && name !== 'Object' ? `a ${name}` : `an object with ${Object.keys(value).join(', ') || 'no keys'}`;
}

const first = (value: string | string[] | undefined) => (Array.isArray(value) ? value[0] : value);

/** The body as its content type says: parsed JSON, else text ('' when none). */
function parsedBody(inv: IncomingInvocation): unknown {
  const text = inv.body.toString('utf8');
  if (text && /json/i.test(first(inv.headers['content-type']) ?? '')) {
    try {
      return JSON.parse(text);
    } catch {
      return text;
    }
  }
  return text;
}

const queryOf = (inv: IncomingInvocation) => Object.fromEntries(new URLSearchParams(inv.rawQuery));

/** A body of any kind as bytes, with the content type a JSON value gets when none is set. */
function bodyBytes(raw: unknown, headers: Array<[string, string]>, base64 = false): Buffer {
  if (raw === undefined || raw === null) return Buffer.alloc(0);
  if (typeof raw === 'string') return Buffer.from(raw, base64 ? 'base64' : 'utf8');
  if (raw instanceof Uint8Array) return Buffer.from(raw);
  if (!headers.some(([k]) => k === 'content-type')) headers.push(['content-type', 'application/json']);
  return Buffer.from(JSON.stringify(raw));
}

const headerList = (headers: unknown): Array<[string, string]> =>
  Object.entries((headers ?? {}) as Record<string, unknown>).map(([k, v]) => [k.toLowerCase(), String(v)]);

/** `{ statusCode?, headers?, body? }` when the result has any of them, else the whole value as JSON. */
function httpOrJson(result: unknown, status: (r: Record<string, unknown>) => unknown = (r) => r.statusCode): PlainResponse {
  if (result === undefined || result === null) return { status: 204, headers: [], body: Buffer.alloc(0) };
  if (typeof result === 'string') return { status: 200, headers: [['content-type', 'text/plain; charset=utf-8']], body: Buffer.from(result) };
  if (typeof result !== 'object') throw new ContractError(`the function returned ${describeValue(result)}; an object or text was expected`);
  const r = result as Record<string, unknown>;
  const code = status(r);
  if (code !== undefined || 'body' in r || 'headers' in r) {
    if (code !== undefined && (typeof code !== 'number' || code < 100 || code > 599))
      throw new ContractError(`the function returned status ${JSON.stringify(code)}; a number from 100 to 599 was expected`);
    const headers = headerList(r.headers);
    return { status: (code as number | undefined) ?? 200, headers, body: bodyBytes(r.body, headers) };
  }
  return { status: 200, headers: [['content-type', 'application/json']], body: Buffer.from(JSON.stringify(result)) };
}

// ---- OpenWhisk: main(params) of a web action ----

/** A web action's params: the query and a JSON body's fields, and the request as __ow_* fields. */
export function openwhiskParams(inv: IncomingInvocation): Record<string, unknown> {
  const body = parsedBody(inv);
  const fields = typeof body === 'object' && body !== null && !Array.isArray(body) ? (body as Record<string, unknown>) : {};
  return {
    ...queryOf(inv),
    ...fields,
    __ow_method: inv.method.toLowerCase(),
    __ow_headers: Object.fromEntries(Object.entries(inv.headers).map(([k, v]) => [k, first(v)])),
    __ow_path: inv.path === '/' ? '' : inv.path,
    __ow_query: inv.rawQuery,
    __ow_body: inv.body.length ? (Object.keys(fields).length ? inv.body.toString('base64') : inv.body.toString('utf8')) : '',
  };
}

const TEXTUAL = /^(text\/|application\/(json|xml|javascript|x-www-form-urlencoded)|[^;]*\+(json|xml))/i;

/**
 * A web action's result: `{ statusCode, headers, body }` (a string body of a binary content type is base64,
 * decoded as OpenWhisk's controller does), `{ error: … }` answered from the error (500 unless it says), or any
 * other object as JSON (as `.json` answers it).
 */
export function openwhiskResult(result: unknown): PlainResponse {
  const r = result as Record<string, unknown> | null;
  if (typeof r === 'object' && r !== null && 'error' in r) {
    const error = r.error;
    const answer = typeof error === 'object' && error !== null ? (error as Record<string, unknown>) : { body: { error } };
    return httpOrJson({ statusCode: 500, ...answer });
  }
  const answer = httpOrJson(result);
  const type = answer.headers.find(([k]) => k === 'content-type')?.[1];
  const body = typeof r === 'object' && r !== null ? r.body : undefined;
  if (type && !TEXTUAL.test(type) && typeof body === 'string') return { ...answer, body: Buffer.from(body, 'base64') };
  return answer;
}

// ---- Knative Functions: handle(context, body), or handle(context, cloudevent) ----

/**
 * Knative's context; a request carrying a CloudEvent (ce-* headers, or application/cloudevents+json, and
 * the platform's own events) gives it as `context.cloudevent`, and the handler gets it in place of the body.
 */
export function knativeContext(inv: IncomingInvocation) {
  const cloudevent = cloudEventOf(inv);
  return {
    method: inv.method,
    httpVersion: '1.1',
    headers: inv.headers,
    query: queryOf(inv),
    body: cloudevent ? cloudevent.data : parsedBody(inv),
    ...(cloudevent ? { cloudevent } : {}),
    log: console,
  };
}

/** A CloudEvent returned is answered in binary mode; anything else as Knative's HTTP answer. */
export const knativeResult = (result: unknown): PlainResponse => (isCloudEvent(result) ? binaryAnswer(result) : httpOrJson(result));

// ---- OpenFaaS Node templates: (event, context) with context.status(n).headers({}).succeed(value) ----

export function openfaasEvent(inv: IncomingInvocation) {
  return { body: parsedBody(inv), headers: inv.headers, method: inv.method, query: queryOf(inv), path: inv.path };
}

export interface OpenFaasContext {
  status(code: number): OpenFaasContext;
  headers(headers: Record<string, string>): OpenFaasContext;
  succeed(value: unknown): OpenFaasContext;
  fail(value: unknown): OpenFaasContext;
}

/** The context an OpenFaaS handler answers through, and the answer it gave. */
export function openfaasContext(): { context: OpenFaasContext; answer(): PlainResponse | undefined } {
  let status = 200;
  let headers: Record<string, string> = {};
  let answered: { value: unknown; failed: boolean } | undefined;
  const context: OpenFaasContext = {
    status(code) {
      status = code;
      return context;
    },
    headers(value) {
      headers = { ...headers, ...value };
      return context;
    },
    succeed(value) {
      answered = { value, failed: false };
      return context;
    },
    fail(value) {
      answered = { value, failed: true };
      return context;
    },
  };
  return {
    context,
    answer() {
      if (!answered) return undefined;
      const list = headerList(headers);
      const body = answered.failed
        ? Buffer.from(String(answered.value instanceof Error ? answered.value.message : answered.value))
        : bodyBytes(answered.value, list);
      // As the template's Express answers text: text/html.
      if (body.length > 0 && !list.some(([k]) => k === 'content-type') && (answered.failed || typeof answered.value === 'string'))
        list.push(['content-type', 'text/html; charset=utf-8']);
      return { status: answered.failed && status < 400 ? 500 : status, headers: list, body };
    },
  };
}

/** What an OpenFaaS handler returned (its context, after succeed or fail) as an answer. */
export function openfaasResult(result: unknown, answer: PlainResponse | undefined): PlainResponse {
  if (answer) return answer;
  throw new ContractError(`an OpenFaaS handler answers with context.succeed(value) (or context.fail); it returned ${describeValue(result)} without either`);
}

// ---- Fission: (context) answering { status, headers, body } ----

/** Fission's Node request, as its handlers read it (an Express request's common fields). */
export interface FissionRequest {
  method: string;
  url: string;
  path: string;
  query: Record<string, string>;
  headers: Record<string, string | string[] | undefined>;
  /** Parsed JSON for a JSON body, else the text ('' when none). */
  body: unknown;
  get(name: string): string | undefined;
}

export function fissionRequest(inv: IncomingInvocation): FissionRequest {
  return {
    method: inv.method,
    url: `${inv.path}${inv.rawQuery ? `?${inv.rawQuery}` : ''}`,
    path: inv.path,
    query: queryOf(inv),
    headers: inv.headers,
    body: parsedBody(inv),
    get: (name: string) => first(inv.headers[name.toLowerCase()]),
  };
}

/** Fission's answer `{ status, headers?, body? }`: a body object is sent as JSON. */
export function fissionResult(result: unknown): PlainResponse {
  const answer = result as { status?: unknown } | null;
  if (typeof answer !== 'object' || answer === null || typeof answer.status !== 'number') {
    throw new ContractError(`a Fission function returns { status, headers?, body? }; it returned ${describeValue(result)}`);
  }
  return httpOrJson(result, (r) => r.status);
}

// ---- Vercel's Node functions: (req, res) with Vercel's helpers ----

/** Vercel's request: Node's fields plus query, cookies and the parsed body. */
export function vercelRequest(inv: IncomingInvocation) {
  const cookies = Object.fromEntries(
    (first(inv.headers.cookie) ?? '')
      .split(';')
      .map((pair) => pair.trim())
      .filter(Boolean)
      .map((pair) => {
        const at = pair.indexOf('=');
        return at === -1 ? [pair, ''] : [pair.slice(0, at), decodeURIComponent(pair.slice(at + 1))];
      }),
  );
  return {
    method: inv.method,
    url: `${inv.path}${inv.rawQuery ? `?${inv.rawQuery}` : ''}`,
    headers: inv.headers,
    query: queryOf(inv),
    cookies,
    body: parsedBody(inv) === '' ? undefined : parsedBody(inv),
  };
}

/**
 * Vercel's response helpers (status, setHeader, writeHead, json, send, redirect, write, end); the answer once
 * it has ended — or, once it writes, a stream of what it writes (whole if it ends by the next turn of the
 * event loop), as Vercel streams a Node function's res.write.
 */
export function vercelResponse(): { res: Record<string, unknown>; done: Promise<PlainResponse>; answer(): PlainResponse | undefined } {
  let statusCode = 200;
  const headers = new Map<string, string>();
  let answered: PlainResponse | undefined;
  let finish: (answer: PlainResponse) => void = () => {};
  const done = new Promise<PlainResponse>((resolve) => (finish = resolve));
  /** Set from the first write: what is written goes into it, end() closes it. */
  let writing: ReadableStreamDefaultController<Uint8Array> | undefined;
  let ended = false;
  const end = (body: Buffer) => {
    if (ended) return;
    ended = true;
    if (writing) {
      if (body.length > 0) writing.enqueue(body);
      writing.close();
      return;
    }
    answered = { status: statusCode, headers: [...headers], body };
    finish(answered);
  };
  const write = (chunk: string | Uint8Array) => {
    if (ended) throw new Error('res.write after res.end');
    const bytes = typeof chunk === 'string' ? Buffer.from(chunk) : Buffer.from(chunk);
    if (!writing) {
      const readable = new ReadableStream<Uint8Array>({ start: (controller) => (writing = controller) });
      const status = statusCode;
      const list = [...headers];
      void settle(readable).then((body) =>
        finish('whole' in body ? { status, headers: list, body: body.whole } : { status, headers: list, body: Buffer.alloc(0), stream: body.stream }),
      );
    }
    if (bytes.length > 0) writing!.enqueue(bytes);
    return true;
  };
  const res: Record<string, unknown> = {
    get statusCode() {
      return statusCode;
    },
    set statusCode(code: number) {
      statusCode = code;
    },
    status(code: number) {
      statusCode = code;
      return res;
    },
    setHeader(name: string, value: string | number | string[]) {
      headers.set(name.toLowerCase(), Array.isArray(value) ? value.join(', ') : String(value));
      return res;
    },
    getHeader: (name: string) => headers.get(name.toLowerCase()),
    json(value: unknown) {
      if (!headers.has('content-type')) headers.set('content-type', 'application/json; charset=utf-8');
      end(Buffer.from(JSON.stringify(value)));
      return res;
    },
    send(value: unknown) {
      if (typeof value === 'object' && value !== null && !(value instanceof Uint8Array)) return (res.json as (v: unknown) => unknown)(value);
      if (!headers.has('content-type')) headers.set('content-type', value instanceof Uint8Array ? 'application/octet-stream' : 'text/html; charset=utf-8');
      end(value instanceof Uint8Array ? Buffer.from(value) : Buffer.from(String(value ?? '')));
      return res;
    },
    redirect(statusOrUrl: number | string, url?: string) {
      statusCode = typeof statusOrUrl === 'number' ? statusOrUrl : 307;
      headers.set('location', url ?? String(statusOrUrl));
      end(Buffer.alloc(0));
      return res;
    },
    end(chunk?: string | Uint8Array) {
      end(chunk === undefined ? Buffer.alloc(0) : Buffer.from(chunk));
      return res;
    },
    write,
    writeHead(code: number, more?: Record<string, string | number | string[]>) {
      statusCode = code;
      for (const [name, value] of Object.entries(more ?? {})) headers.set(name.toLowerCase(), Array.isArray(value) ? value.join(', ') : String(value));
      return res;
    },
    flushHeaders() {},
    get headersSent() {
      return writing !== undefined || ended;
    },
  };
  return { res, done, answer: () => answered };
}
