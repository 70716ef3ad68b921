// Contracts of Vercel's route handlers (GET/POST exports), Azure Functions (v3 context.res, v4 app.http with
// routes) and Knative's CloudEvents in and out, adapted by the runtime (no I/O: invocations in, answers out).
import { afterEach, describe, expect, it } from 'vitest';
import { adapt, ContractError, detectStyle } from '../../../runtime-images/node/src/handler.js';
import { AZURE_REGISTRY_KEY, matchRoute, type AzureRegistry } from '../../../runtime-images/node/src/azure-functions.js';
import type { IncomingInvocation } from '../../../runtime-images/node/src/lambda.js';

const call = (over: Partial<IncomingInvocation> = {}): IncomingInvocation => ({
  method: 'GET',
  path: '/',
  rawQuery: '',
  headers: { host: 'h' },
  body: Buffer.alloc(0),
  invocationId: 'i-1',
  trigger: 'http',
  context: {},
  receivedAt: 0,
  ...over,
});
const info = { name: 'f', version: '1', memoryMb: 128 };
const deadline = { deadline: Date.now() + 60_000 };
const text = (b: Buffer) => b.toString('utf8');

describe("Vercel's route handlers (export function GET/POST)", () => {
  const mod = {
    GET: (request: Request) => Response.json({ q: new URL(request.url).searchParams.get('q') }),
    POST: async (request: Request) => new Response(`posted ${await request.text()}`, { status: 201 }),
  };

  it('calls the export named for the method, HEAD by GET, and answers 405 with Allow for the others', async () => {
    expect(detectStyle(mod)).toBe('web');
    const invoke = adapt(mod, info);
    expect(JSON.parse(text((await invoke(call({ rawQuery: 'q=1' }), deadline)).body))).toEqual({ q: '1' });
    const posted = await invoke(call({ method: 'POST', body: Buffer.from('x') }), deadline);
    expect([posted.status, text(posted.body)]).toEqual([201, 'posted x']);
    expect((await invoke(call({ method: 'HEAD' }), deadline)).status).toBe(200);
    const refused = await invoke(call({ method: 'DELETE' }), deadline);
    expect(refused.status).toBe(405);
    expect(refused.headers).toContainEqual(['allow', 'GET, POST, HEAD, OPTIONS']);
    expect((await invoke(call({ method: 'OPTIONS' }), deadline)).status).toBe(204);
  });
});

describe("Vercel's Node functions writing with res.write", () => {
  type Res = { write(c: string): void; end(c?: string): void; setHeader(n: string, v: string): void };
  it('streams what the handler writes over time, headers first, and answers whole what it writes at once', async () => {
    const streaming = adapt(
      {
        default: (_req: unknown, res: Res) => {
          res.setHeader('content-type', 'text/event-stream');
          res.write('data: 1\n\n');
          setTimeout(() => {
            res.write('data: 2\n\n');
            res.end();
          }, 5);
        },
      },
      { ...info, style: 'vercel' },
    );
    const streamed = await streaming(call(), deadline);
    expect(streamed.headers).toContainEqual(['content-type', 'text/event-stream']);
    expect(streamed.stream).toBeDefined();
    const chunks: string[] = [];
    for await (const chunk of streamed.stream!) chunks.push(Buffer.from(chunk).toString());
    expect(chunks.join('')).toBe('data: 1\n\ndata: 2\n\n');

    const whole = await adapt(
      {
        default: (_req: unknown, res: Res) => {
          res.write('a');
          res.end('b');
        },
      },
      { ...info, style: 'vercel' },
    )(call(), deadline);
    expect([whole.stream, text(whole.body)]).toEqual([undefined, 'ab']);
  });
});

describe("Workers' CF-Connecting-IP", () => {
  it("is the platform's client address, never the client's own header", async () => {
    const invoke = adapt({ default: { fetch: (request: Request) => new Response(request.headers.get('cf-connecting-ip')) } }, info);
    const res = await invoke(call({ headers: { host: 'h', 'x-forwarded-for': '203.0.113.9, 10.0.0.1', 'cf-connecting-ip': '1.2.3.4' } }), deadline);
    expect(text(res.body)).toBe('203.0.113.9');
  });
});

describe('OpenWhisk rejections', () => {
  it('answers a rejected { error } as the application error it carries, as a returned one', async () => {
    const invoke = adapt(
      { main: (params: { code?: string }) => Promise.reject({ error: { statusCode: Number(params.code ?? 500), body: { message: 'nope' } } }) },
      info,
    );
    const res = await invoke(call({ rawQuery: 'code=403' }), deadline);
    expect([res.status, JSON.parse(text(res.body))]).toEqual([403, { message: 'nope' }]);
    await expect(adapt({ main: () => Promise.reject(new Error('plain')) }, info)(call(), deadline)).rejects.toThrow('plain');
  });
});

describe('Azure Functions v3 (context, req) with --style azure', () => {
  it('answers context.res, with an object body as JSON', async () => {
    const fn = async (context: { res?: unknown; log: (m: string) => void }, req: { query: Record<string, string>; body?: { name?: string } }) => {
      context.log('processed');
      const name = req.query.name || req.body?.name;
      context.res = name ? { body: { hello: name } } : { status: 400, body: 'Please pass a name' };
    };
    const invoke = adapt({ default: fn }, { ...info, style: 'azure' });
    const ok = await invoke(call({ rawQuery: 'name=az' }), deadline);
    expect([ok.status, JSON.parse(text(ok.body))]).toEqual([200, { hello: 'az' }]);
    expect(ok.headers).toContainEqual(['content-type', 'application/json; charset=utf-8']);
    const posted = await invoke(
      call({ method: 'POST', headers: { host: 'h', 'content-type': 'application/json' }, body: Buffer.from('{"name":"js"}') }),
      deadline,
    );
    expect(JSON.parse(text(posted.body))).toEqual({ hello: 'js' });
    const bad = await invoke(call(), deadline);
    expect([bad.status, text(bad.body)]).toEqual([400, 'Please pass a name']);
  });

  it('takes the answer from context.done(err, value) and from the value returned', async () => {
    const callback = (context: { done: (err: unknown, v?: unknown) => void }, _req: unknown) => {
      setTimeout(() => context.done(null, { res: { status: 202, body: 'later' } }), 1);
    };
    const viaDone = await adapt({ default: callback }, { ...info, style: 'azure' })(call(), deadline);
    expect([viaDone.status, text(viaDone.body)]).toEqual([202, 'later']);
    const returned = await adapt({ default: async (_c: unknown, _r: unknown) => ({ status: 201, body: 'made' }) }, { ...info, style: 'azure' })(
      call(),
      deadline,
    );
    expect([returned.status, text(returned.body)]).toEqual([201, 'made']);
  });

  it('refuses an answer that is not a response object (502), never guessing', async () => {
    await expect(adapt({ default: async (_c: unknown, _r: unknown) => 42 }, { ...info, style: 'azure' })(call(), deadline)).rejects.toThrow(ContractError);
  });
});

describe('Azure Functions v4 (app.http, app.timer, app.storageQueue)', () => {
  const key = Symbol.for(AZURE_REGISTRY_KEY);
  const register = (registry: Partial<AzureRegistry>) => {
    (globalThis as Record<symbol, unknown>)[key] = { http: [], timer: [], queue: [], ...registry };
  };
  afterEach(() => {
    delete (globalThis as Record<symbol, unknown>)[key];
  });

  it("runs the quickstart's httpTrigger: request.query, text(), { body } and jsonBody", async () => {
    register({
      http: [
        {
          name: 'httpTrigger1',
          methods: ['GET', 'POST'],
          handler: async (...args: unknown[]) => {
            const [request, context] = args as [Request & { query: URLSearchParams }, { functionName: string; log: (m: string) => void }];
            context.log(`Http function processed request for url "${request.url}"`);
            const name = request.query.get('name') || (await request.text()) || 'world';
            return { body: `Hello, ${name}! (${context.functionName})` };
          },
        },
      ],
    });
    expect(detectStyle({})).toBe('azure-v4');
    const invoke = adapt({}, info);
    const res = await invoke(call({ rawQuery: 'name=v4' }), deadline);
    expect([res.status, text(res.body)]).toEqual([200, 'Hello, v4! (httpTrigger1)']);
    expect((await invoke(call({ method: 'DELETE' }), deadline)).status).toBe(405);
  });

  it('routes by each registration’s route template, with its parameters, and 404s a path none serves', async () => {
    register({
      http: [
        {
          name: 'products',
          route: 'products/{id:int}',
          handler: async (...a: unknown[]) => ({ jsonBody: { id: (a[0] as { params: { id: string } }).params.id } }),
        },
        { name: 'health', handler: async () => ({ status: 204 }) },
      ],
    });
    const invoke = adapt({}, info);
    expect(JSON.parse(text((await invoke(call({ path: '/api/products/7' }), deadline)).body))).toEqual({ id: '7' });
    expect((await invoke(call({ path: '/health' }), deadline)).status).toBe(204);
    const none = await invoke(call({ path: '/nothing' }), deadline);
    expect(none.status).toBe(404);
    expect(text(none.body)).toMatch(/its routes: \/products\/\{id:int\}, \/health/);
  });

  it('refuses an object given as body (jsonBody is for objects) with a ContractError', async () => {
    register({ http: [{ name: 'h', handler: async () => ({ body: { a: 1 } }) }] });
    await expect(adapt({}, info)(call(), deadline)).rejects.toThrow(/an object goes in jsonBody/);
  });

  it('calls timer registrations on a cron tick and queue registrations with each message', async () => {
    const seen: unknown[] = [];
    register({
      timer: [{ name: 't', handler: async (...a: unknown[]) => seen.push(['timer', (a[0] as { isPastDue: boolean }).isPastDue]) }],
      queue: [{ name: 'q', handler: async (...a: unknown[]) => seen.push(['queue', a[0]]) }],
    });
    const invoke = adapt({}, info);
    expect((await invoke(call({ trigger: 'cron', method: 'POST', body: Buffer.from('{}') }), deadline)).status).toBe(204);
    await invoke(call({ trigger: 'queue', method: 'POST', headers: { 'content-type': 'application/json' }, body: Buffer.from('{"order":1}') }), deadline);
    expect(seen).toEqual([
      ['timer', false],
      ['queue', { order: 1 }],
    ]);
  });

  it('matches Azure route templates', () => {
    expect(matchRoute('products/{id}', '/products/3')).toEqual({ id: '3' });
    expect(matchRoute('products/{id?}', '/products')).toEqual({});
    expect(matchRoute('files/{*path}', '/files/a/b%20c')).toEqual({ path: 'a/b c' });
    expect(matchRoute('products/{id}', '/products/3/more')).toBeUndefined();
    expect(matchRoute('products/{id}', '/orders/3')).toBeUndefined();
    expect(matchRoute('products/{id:int}', '/products/abc')).toBeUndefined();
    expect(matchRoute('products/{id:int}', '/products/-4')).toEqual({ id: '-4' });
    expect(matchRoute('users/{id:guid}', '/users/0f8fad5b-d9cb-469f-a165-70867728950e')).toEqual({ id: '0f8fad5b-d9cb-469f-a165-70867728950e' });
    expect(matchRoute('users/{name:alpha}', '/users/ann1')).toBeUndefined();
  });
});

describe('Knative CloudEvents', () => {
  const handle = async (context: { cloudevent?: { type: string } }, event: { data: { n: number }; type: string }) => ({
    specversion: '1.0',
    id: 'out-1',
    source: '/doubler',
    type: `${event.type}.doubled`,
    data: { n: event.data.n * 2, seen: context.cloudevent?.type },
  });

  it('gives a binary-mode CloudEvent to handle(context, event) and answers a CloudEvent in binary mode', async () => {
    const invoke = adapt({ handle }, info);
    const res = await invoke(
      call({
        method: 'POST',
        headers: { host: 'h', 'ce-specversion': '1.0', 'ce-id': 'in-1', 'ce-source': '/test', 'ce-type': 'number', 'content-type': 'application/json' },
        body: Buffer.from('{"n":21}'),
      }),
      deadline,
    );
    expect(res.headers).toEqual(
      expect.arrayContaining([
        ['ce-specversion', '1.0'],
        ['ce-id', 'out-1'],
        ['ce-type', 'number.doubled'],
        ['ce-source', '/doubler'],
        ['content-type', 'application/json'],
      ]),
    );
    expect(JSON.parse(text(res.body))).toEqual({ n: 42, seen: 'number' });
  });

  it('reads a structured-mode CloudEvent (application/cloudevents+json)', async () => {
    const invoke = adapt({ handle }, info);
    const res = await invoke(
      call({
        method: 'POST',
        headers: { host: 'h', 'content-type': 'application/cloudevents+json' },
        body: Buffer.from(JSON.stringify({ specversion: '1.0', id: 'x', source: '/s', type: 'n', data: { n: 2 } })),
      }),
      deadline,
    );
    expect(JSON.parse(text(res.body))).toEqual({ n: 4, seen: 'n' });
  });
});
