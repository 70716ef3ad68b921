import { describe, expect, it } from 'vitest';
import { ContractError, NoHandlerError, adapt, detectStyle, webResultToResponse } from '../../../runtime-images/node/src/handler.js';
import { LogTail } from '../../../runtime-images/node/src/log-capture.js';
import type { IncomingInvocation } from '../../../runtime-images/node/src/lambda.js';

const inv: IncomingInvocation = {
  method: 'GET',
  path: '/a',
  rawQuery: 'x=1',
  headers: { host: 'h' },
  body: Buffer.alloc(0),
  invocationId: 'i-1',
  trigger: 'http',
  context: {},
  receivedAt: 0,
};
const info = { name: 'f', version: '1', memoryMb: 128 };

describe('detectStyle', () => {
  it.each([
    ['a default function', { default: () => 1 }, 'web'],
    ['a default { fetch }', { default: { fetch: () => 1 } }, 'web-fetch'],
    ['an exported handler', { handler: () => 1 }, 'lambda'],
    ['a CommonJS module.exports.handler', { default: { handler: () => 1 } }, 'lambda'],
  ])('recognizes %s', (_label, mod, style) => {
    expect(detectStyle(mod)).toBe(style);
  });

  it('throws a message naming the exports found and the styles accepted when there is no handler', () => {
    expect(() => detectStyle({ something: 1 })).toThrowError(NoHandlerError);
    expect(() => detectStyle({ something: 1 })).toThrowError(/its exports: something\); export default a function .* or \{ fetch, scheduled, queue \}/);
    expect(() => detectStyle({})).toThrowError(/its exports: none/);
  });

  it.each([
    ['a default Lambda handler taking (event, context)', { default: (_e: unknown, _c: unknown) => 1 }, '', 'lambda'],
    ['a default callback-style Lambda handler', { default: (_e: unknown, _c: unknown, _cb: unknown) => 1 }, '', 'lambda'],
    ['a Workers module with only scheduled()', { default: { scheduled: () => 1 } }, '', 'web-fetch'],
    ['the export --handler names', { hello: async () => 1, handler: 'not a function' }, 'hello', 'lambda'],
    ['--handler naming a CommonJS export', { default: { hello: async () => 1 } }, 'hello', 'lambda'],
    ['--handler naming a Workers object', { api: { fetch: () => 1 } }, 'api', 'web-fetch'],
  ])('recognizes %s', (_label, mod, wanted, style) => {
    expect(detectStyle(mod, wanted)).toBe(style);
  });

  it('names the missing export and the ones there are when --handler names none', () => {
    expect(() => detectStyle({ handler: () => 1, other: 2 }, 'hello')).toThrowError(/no export "hello" \(its exports: handler, other\)/);
    expect(() => detectStyle({ hello: 42 }, 'hello')).toThrowError(/export "hello" is a number, not a handler/);
  });
});

describe('Workers module syntax', () => {
  it('calls fetch(request, env, ctx) with the function’s variables, and waits for ctx.waitUntil before the call ends', async () => {
    let finishedLater = false;
    const invoke = adapt(
      {
        default: {
          fetch: (req: Request, env: Record<string, string>, ctx: { waitUntil(p: Promise<unknown>): void }) => {
            ctx.waitUntil(new Promise<void>((r) => setTimeout(r, 20)).then(() => (finishedLater = true)));
            return new Response(`${new URL(req.url).pathname} ${env.PASSWORD}`);
          },
        },
      },
      { ...info, env: { PASSWORD: 'sesame' } },
    );
    const res = await invoke(inv, { deadline: Date.now() + 1_000 });
    expect(res.body.toString()).toBe('/a sesame');
    expect(finishedLater).toBe(true);
  });

  it('calls scheduled(controller, env, ctx) for a cron tick', async () => {
    const seen: unknown[] = [];
    const invoke = adapt(
      { default: { scheduled: (controller: { cron: string; scheduledTime: number }) => void seen.push(controller.cron, controller.scheduledTime) } },
      info,
    );
    const res = await invoke(
      { ...inv, trigger: 'cron', context: { schedule: '*/5 * * * *', 'scheduled-at': '2026-12-01T10:00:00.000Z' } },
      { deadline: Date.now() + 1_000 },
    );
    expect(res.status).toBe(204);
    expect(seen).toEqual(['*/5 * * * *', Date.parse('2026-12-01T10:00:00.000Z')]);
  });

  it('calls queue(batch, env, ctx) and answers the retried messages as batchItemFailures', async () => {
    const invoke = adapt(
      {
        default: {
          queue: (batch: { queue: string; messages: Array<{ id: string; body: any; attempts: number; ack(): void; retry(): void }> }) => {
            for (const m of batch.messages) m.body.ok ? m.ack() : m.retry();
          },
        },
      },
      info,
    );
    const messages = [
      { id: 'm1', body: '{"ok":true}', bodyEncoding: 'utf8', contentType: 'application/json', sentAt: '2026-12-01T10:00:00.000Z', attempt: 1 },
      { id: 'm2', body: '{"ok":false}', bodyEncoding: 'utf8', contentType: 'application/json', sentAt: '2026-12-01T10:00:00.000Z', attempt: 2 },
    ];
    const res = await invoke(
      { ...inv, method: 'POST', trigger: 'queue', context: { queue: 'orders', 'batch-size': '2' }, body: Buffer.from(JSON.stringify({ messages })) },
      { deadline: Date.now() + 1_000 },
    );
    expect(JSON.parse(res.body.toString())).toEqual({ batchItemFailures: [{ itemIdentifier: 'm2' }] });
  });

  it('answers 501 to a trigger the module has no handler for', async () => {
    const invoke = adapt({ default: { scheduled: () => {} } }, info);
    const res = await invoke(inv, { deadline: Date.now() + 1_000 });
    expect(res.status).toBe(501);
    expect(res.body.toString()).toMatch(/no fetch\(\) handler/);
  });
});

describe('API Gateway REST events (--event-format 1.0)', () => {
  it('gives httpMethod, path, multiValue fields and header names as clients send them', async () => {
    let event: any;
    const handler = async (e: unknown) => {
      event = e;
      return { statusCode: 200, body: 'ok' };
    };
    const invoke = adapt({ handler }, { ...info, eventFormat: '1.0' });
    await invoke(
      {
        ...inv,
        method: 'POST',
        rawQuery: 'a=1&a=2&b=3',
        headers: { host: 'h', 'x-hub-signature-256': 'sha256=abc', 'content-type': 'application/json' },
        body: Buffer.from('{"x":1}'),
      },
      { deadline: Date.now() + 1_000 },
    );
    expect(event).toMatchObject({
      httpMethod: 'POST',
      path: '/a',
      headers: { 'X-Hub-Signature-256': 'sha256=abc', 'Content-Type': 'application/json' },
      multiValueHeaders: { 'X-Hub-Signature-256': ['sha256=abc'] },
      queryStringParameters: { a: '2', b: '3' },
      multiValueQueryStringParameters: { a: ['1', '2'], b: ['3'] },
      body: '{"x":1}',
      isBase64Encoded: false,
      requestContext: { httpMethod: 'POST', path: '/a' },
    });
  });

  it("keeps the client's spelling of header names when the platform gives it (X-GitHub-Event, x-lower)", async () => {
    let event: any;
    const invoke = adapt(
      {
        handler: async (e: unknown) => {
          event = e;
          return { statusCode: 200 };
        },
      },
      { ...info, eventFormat: '1.0' },
    );
    await invoke(
      {
        ...inv,
        headers: { host: 'h', 'x-github-event': 'push', 'x-lower': '1', 'x-forwarded-for': '10.0.0.1' },
        context: { 'header-names': 'Host,X-GitHub-Event,x-lower' },
      },
      { deadline: Date.now() + 1_000 },
    );
    expect(Object.keys(event.headers).sort()).toEqual(['Host', 'X-Forwarded-For', 'X-GitHub-Event', 'x-lower']);
    expect(event.multiValueHeaders['X-GitHub-Event']).toEqual(['push']);
  });
});

describe('webResultToResponse', () => {
  it('keeps every set-cookie of a Response', async () => {
    const headers = new Headers([
      ['set-cookie', 'a=1'],
      ['set-cookie', 'b=2'],
      ['x-y', 'z'],
    ]);
    const res = await webResultToResponse(new Response('body', { status: 202, headers }));
    expect(res.status).toBe(202);
    expect(res.headers.filter(([n]) => n === 'set-cookie')).toEqual([
      ['set-cookie', 'a=1'],
      ['set-cookie', 'b=2'],
    ]);
    expect(res.body.toString()).toBe('body');
  });

  it.each([
    ['undefined', undefined, 204, ''],
    ['a string', 'hi', 200, 'hi'],
    ['an object', { a: [1] }, 200, '{"a":[1]}'],
  ])('maps %s', async (_label, value, status, body) => {
    const res = await webResultToResponse(value);
    expect(res.status).toBe(status);
    expect(res.body.toString()).toBe(body);
  });
});

describe('adapt', () => {
  it('gives a web handler a Request with the URL, method and headers', async () => {
    const invoke = adapt({ default: (req: Request) => `${req.method} ${req.url} ${req.headers.get('host')}` }, info);
    const res = await invoke(inv, { deadline: Date.now() + 1000 });
    expect(res.body.toString()).toBe('GET http://h/a?x=1 h');
  });

  it('gives a Lambda handler a context with the request id and remaining time', async () => {
    const invoke = adapt(
      {
        handler: async (_e: unknown, ctx: { awsRequestId: string; getRemainingTimeInMillis(): number }) => ({
          id: ctx.awsRequestId,
          left: ctx.getRemainingTimeInMillis() > 500,
        }),
      },
      info,
    );
    const res = await invoke(inv, { deadline: Date.now() + 1000 });
    expect(JSON.parse(res.body.toString())).toEqual({ id: 'i-1', left: true });
  });

  it('supports callback-style Lambda handlers', async () => {
    const invoke = adapt({ handler: (_e: unknown, _c: unknown, cb: (err: unknown, r: unknown) => void) => cb(null, { statusCode: 418, body: 'tea' }) }, info);
    const res = await invoke(inv, { deadline: Date.now() + 1000 });
    expect(res.status).toBe(418);
  });
});

describe('no silent wrong answers', () => {
  const call = (mod: Record<string, unknown>, style = '', over: Partial<IncomingInvocation> = {}) =>
    adapt(mod, { ...info, style })({ ...inv, ...over }, { deadline: Date.now() + 1000 });

  it('answers a Response returned by a Lambda-style handler as the web answer it is', async () => {
    const res = await call({ handler: async () => new Response('no', { status: 401, headers: { 'x-why': 'token' } }) });
    expect(res.status).toBe(401);
    expect(res.body.toString()).toBe('no');
    expect(res.headers).toContainEqual(['x-why', 'token']);
  });

  it('runs a Netlify v2 function (default (request, context) beside `config`) as a web handler: its 401 and 405 are kept', async () => {
    const netlify = {
      config: { path: '/api/auth' },
      default: async (req: Request, context: { requestId: string }) => {
        if (req.method !== 'POST') return new Response('method not allowed', { status: 405 });
        if (req.headers.get('authorization') !== 'Bearer right') return new Response('unauthorized', { status: 401 });
        return Response.json({ ok: true, id: context.requestId });
      },
    };
    expect((await call(netlify)).status).toBe(405);
    expect((await call(netlify, '', { method: 'POST', headers: { host: 'h', authorization: 'Bearer wrong' } })).status).toBe(401);
    const ok = await call(netlify, '', { method: 'POST', headers: { host: 'h', authorization: 'Bearer right' } });
    expect(JSON.parse(ok.body.toString())).toEqual({ ok: true, id: 'i-1' });
  });

  it('runs a two-parameter default as the --style chosen', async () => {
    const both = {
      default: async (a: any, b: any) =>
        a instanceof Request ? new Response(`web ${typeof b.requestId}`) : { statusCode: 200, body: `lambda ${b.awsRequestId}` },
    };
    expect((await call(both, 'web')).body.toString()).toBe('web string');
    expect((await call(both, 'lambda')).body.toString()).toBe('lambda i-1');
  });

  it("refuses (502, naming --style) a web handler's result shaped like another platform's HTTP answer", async () => {
    await expect(call({ default: () => ({ status: 200, body: 'hi' }) })).rejects.toThrow(/--style fission/);
    await expect(call({ default: () => ({ statusCode: 404, body: 'gone' }) })).rejects.toThrow(/--style lambda/);
    await expect(call({ default: () => ({ status: 200, body: 'hi' }) })).rejects.toBeInstanceOf(ContractError);
    // A plain value with other fields is still JSON.
    expect((await call({ default: () => ({ status: 200, items: [] }) })).body.toString()).toBe('{"status":200,"items":[]}');
  });

  it('runs a Fission function: (context) with the request, answering { status, headers, body }', async () => {
    const fission = {
      default: async (context: any) => ({
        status: 201,
        headers: { 'X-Made': 'yes' },
        body: { got: context.request.body, q: context.request.query.x, m: context.request.method },
      }),
    };
    const res = await call(fission, 'fission', { method: 'POST', headers: { host: 'h', 'content-type': 'application/json' }, body: Buffer.from('{"a":1}') });
    expect(res.status).toBe(201);
    expect(res.headers).toContainEqual(['x-made', 'yes']);
    expect(JSON.parse(res.body.toString())).toEqual({ got: { a: 1 }, q: '1', m: 'POST' });
    await expect(call({ default: async () => 'text' }, 'fission')).rejects.toThrow(/Fission function returns \{ status/);
  });

  it('refuses a module without the shape of the style chosen', () => {
    expect(() => adapt({ default: () => 'x' }, { ...info, style: 'workers' })).toThrow(NoHandlerError);
    expect(() => adapt({ default: () => 'x' }, { ...info, style: 'nope' })).toThrow(/not a handler style/);
  });
});

describe('waitUntil', () => {
  it('never holds back a streamed answer for work that ends only once the stream is read', async () => {
    const invoke = adapt(
      {
        default: (_req: Request, ctx: { waitUntil(p: Promise<unknown>): void }) => {
          const { readable, writable } = new TransformStream<Uint8Array, Uint8Array>();
          const writer = writable.getWriter();
          ctx.waitUntil(
            (async () => {
              for (const part of ['a', 'b', 'c']) await writer.write(new TextEncoder().encode(part));
              await writer.close();
            })(),
          );
          return new Response(readable);
        },
      },
      { ...info, style: 'web' },
    );
    const res = await invoke(inv, { deadline: Date.now() + 1000 });
    let text = '';
    for await (const chunk of res.stream ?? []) text += Buffer.from(chunk).toString();
    expect(text || res.body.toString()).toBe('abc');
  });
});

describe('peer contracts', () => {
  const run = (mod: Record<string, unknown>, style = '', over: Partial<IncomingInvocation> = {}) =>
    adapt(mod, { ...info, style })({ ...inv, ...over }, { deadline: Date.now() + 1000 });
  const post = { method: 'POST', headers: { host: 'h', 'content-type': 'application/json' }, body: Buffer.from('{"name":"ow"}') };

  it('runs an OpenWhisk web action main(params): query, JSON body fields and __ow_* in, { statusCode, headers, body } or JSON out', async () => {
    const res = await run({ main: (p: any) => ({ statusCode: 201, headers: { 'X-Ow': p.__ow_method }, body: `hi ${p.name} ${p.x} ${p.__ow_path}` }) }, '', {
      ...post,
      path: '/sub',
    });
    expect(res.status).toBe(201);
    expect(res.headers).toContainEqual(['x-ow', 'post']);
    expect(res.body.toString()).toBe('hi ow 1 /sub');
    const json = await run({ main: (p: any) => ({ payload: `hello ${p.x}` }) });
    expect(JSON.parse(json.body.toString())).toEqual({ payload: 'hello 1' });
    await expect(run({ main: () => ({ statusCode: 'ok' }) })).rejects.toThrow(/status "ok"/);
  });

  it('decodes an OpenWhisk binary body, answers an { error } result from it, and takes a Response as it is', async () => {
    const png = await run({ main: () => ({ headers: { 'content-type': 'image/png' }, body: Buffer.from([1, 2, 3]).toString('base64') }) });
    expect([...png.body]).toEqual([1, 2, 3]);
    const failed = await run({ main: () => ({ error: { statusCode: 400, body: 'bad input' } }) });
    expect([failed.status, failed.body.toString()]).toEqual([400, 'bad input']);
    expect((await run({ main: () => ({ error: 'boom' }) })).status).toBe(500);
    const web = await run({ main: () => new Response('hello', { status: 201 }) });
    expect([web.status, web.body.toString()]).toEqual([201, 'hello']);
  });

  it('runs a Knative function handle(context, body): an object answers as JSON, { statusCode, body } as given', async () => {
    const res = await run({ handle: (context: any, body: any) => ({ query: context.query, got: body, method: context.method }) }, '', post);
    expect(JSON.parse(res.body.toString())).toEqual({ query: { x: '1' }, got: { name: 'ow' }, method: 'POST' });
    expect((await run({ handle: () => ({ statusCode: 418, body: 'teapot' }) })).status).toBe(418);
  });

  it('runs an OpenFaaS handler (event, context) answering through context.status().succeed(), and refuses one that never answers', async () => {
    const faas = { default: async (event: any, context: any) => context.status(202).headers({ 'X-Of': 'yes' }).succeed({ got: event.body, q: event.query.x }) };
    const res = await run(faas, 'openfaas', post);
    expect(res.status).toBe(202);
    expect(res.headers).toContainEqual(['x-of', 'yes']);
    expect(JSON.parse(res.body.toString())).toEqual({ got: { name: 'ow' }, q: '1' });
    const failed = await run({ default: async (_e: any, c: any) => c.fail('broken') }, 'openfaas');
    expect(failed.status).toBe(500);
    await expect(run({ default: async () => ({ done: true }) }, 'openfaas')).rejects.toThrow(/context.succeed/);
  });
});

describe('LogTail', () => {
  it('keeps the last bytes and marks what was dropped', () => {
    const tail = new LogTail(16);
    tail.append('first line');
    tail.append('second line');
    tail.append('third');
    const text = tail.text();
    expect(text).toContain('third');
    expect(text).not.toContain('first');
    expect(text.startsWith('[earlier output truncated]')).toBe(true);
  });

  it('keeps short output whole', () => {
    const tail = new LogTail(4096);
    tail.append('a');
    tail.append('b\n');
    expect(tail.text()).toBe('a\nb\n');
  });
});
