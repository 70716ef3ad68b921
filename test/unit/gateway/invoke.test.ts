// The /fn HTTP trigger over a fake invoker: the request as the function sees it, the reply as the caller sees it.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  FunctionCrashedError,
  FunctionHandlerError,
  FunctionOutOfMemoryError,
  FunctionTimeoutError,
  QueueFullError,
  QueueTimeoutError,
  type FaasError,
} from '../../../core/errors.js';
import { CODE, errorOf, meta, testGateway, type TestGateway } from './fakes.js';

let gw: TestGateway;
beforeEach(async () => {
  gw = await testGateway({ FAAS_MAX_BODY_BYTES: '2048', FAAS_MAX_STREAM_BYTES: '4096' });
  await gw.registry.deploy({ name: 'hello', code: Buffer.from(CODE), config: (await import('../../../core/function-spec.js')).defaultFunctionConfig() });
});
afterEach(async () => {
  await gw.app.close();
});

const BINARY = Buffer.from([0, 1, 2, 0xff, 0xfe, 0x80, 10, 13]);

describe('request passed to the invoker', () => {
  it('carries method, path below the root, raw query, lower-case headers and the binary body', async () => {
    const res = await gw.inject({
      method: 'POST',
      url: '/fn/hello/a/b%20c?x=1&x=2&y',
      headers: { 'content-type': 'application/octet-stream', 'X-Custom': 'Yes' },
      payload: BINARY,
    });
    expect(res.statusCode).toBe(200);
    const [req] = gw.invoker.requests;
    expect(req).toMatchObject({ fn: 'hello', trigger: 'http', method: 'POST', path: '/a/b%20c', rawQuery: 'x=1&x=2&y' });
    expect(req!.headers['x-custom']).toBe('Yes');
    expect(req!.headers['content-type']).toBe('application/octet-stream');
    expect(Buffer.compare(req!.body, BINARY)).toBe(0);
    expect(req!.invocationId).toMatch(/^[0-9a-f-]{36}$/);
    expect(Math.abs(req!.receivedAt - Date.now())).toBeLessThan(5_000);
  });

  it.each([
    ['/fn/hello', '/', ''],
    ['/fn/hello/', '/', ''],
    ['/fn/hello?q=1', '/', 'q=1'],
    ['/fn/hello/deep/er/', '/deep/er/', ''],
  ])('%s → path %s, query "%s"', async (url, path, rawQuery) => {
    await gw.inject({ method: 'GET', url });
    expect(gw.invoker.requests[0]).toMatchObject({ method: 'GET', path, rawQuery });
    expect(gw.invoker.requests[0]!.body.length).toBe(0);
  });

  it.each(['application/json', 'text/plain', 'application/x-www-form-urlencoded', 'image/png'])(
    'passes a %s body through unparsed, byte for byte',
    async (type) => {
      const payload = type === 'application/json' ? '{ "a" : 1 }' : 'a=1&b=%20';
      await gw.inject({ method: 'PUT', url: '/fn/hello/x', headers: { 'content-type': type }, payload });
      expect(gw.invoker.requests[0]!.body.toString()).toBe(payload);
    },
  );

  it('passes a body with no content type, and invalid JSON, unparsed', async () => {
    await gw.inject({ method: 'POST', url: '/fn/hello', headers: { 'content-type': 'application/json' }, payload: '{not json' });
    expect(gw.invoker.requests[0]!.body.toString()).toBe('{not json');
  });

  it('relays an upload over FAAS_MAX_BODY_BYTES of known length as a stream, and answers 413 past FAAS_MAX_STREAM_BYTES without invoking', async () => {
    const streamed = await gw.inject({
      method: 'POST',
      url: '/fn/hello',
      headers: { 'content-type': 'application/octet-stream' },
      payload: Buffer.alloc(3000, 1),
    });
    expect(streamed.statusCode).toBe(200);
    expect(gw.invoker.requests[0]!.bodyStream?.length).toBe(3000);
    expect(gw.invoker.requests[0]!.body.length).toBe(0);
    const res = await gw.inject({ method: 'POST', url: '/fn/hello', headers: { 'content-type': 'application/octet-stream' }, payload: Buffer.alloc(4097) });
    errorOf(res, 413, 'PAYLOAD_TOO_LARGE');
    expect(gw.invoker.requests).toHaveLength(1);
  });

  it('answers 413 for a body over FAAS_MAX_BODY_BYTES of unknown length (chunked), without invoking', async () => {
    const { Readable } = await import('node:stream');
    const res = await gw.inject({
      method: 'POST',
      url: '/fn/hello',
      headers: { 'content-type': 'application/octet-stream' },
      payload: Readable.from([Buffer.alloc(1500), Buffer.alloc(1500)]),
    });
    errorOf(res, 413, 'PAYLOAD_TOO_LARGE');
    expect(gw.invoker.requests).toHaveLength(0);
  });
});

describe('reply to the caller', () => {
  it("returns the function's status, headers (two set-cookie), binary body and the x-faas headers", async () => {
    gw.invoker.answer = (request) => ({
      status: 201,
      headers: {
        'content-type': 'application/octet-stream',
        'set-cookie': ['a=1; Path=/', 'b=2; HttpOnly'],
        'x-from-fn': 'yes',
        connection: 'close',
        upgrade: 'h2c',
        'transfer-encoding': 'chunked',
        'content-length': '999',
        // A service worker scoped to / on the gateway's origin would see the dashboard's calls and token.
        'service-worker-allowed': '/',
      },
      body: BINARY,
      meta: meta(request, { coldStart: true, durationMs: 12.3456 }),
    });
    const res = await gw.inject({ method: 'GET', url: '/fn/hello' });
    expect(res.statusCode).toBe(201);
    // Under /fn, pinned to the function's own prefix (gateway/edge/function-cookies.ts).
    expect(res.headers['set-cookie']).toEqual(['a=1; Path=/fn/hello', 'b=2; Path=/fn/hello; HttpOnly']);
    expect(res.headers['x-from-fn']).toBe('yes');
    expect(res.headers['content-type']).toBe('application/octet-stream');
    expect(res.headers['content-length']).toBe(String(BINARY.length));
    expect(res.headers['transfer-encoding']).toBeUndefined();
    expect(res.headers.upgrade).toBeUndefined();
    expect(res.headers['service-worker-allowed']).toBeUndefined();
    expect(res.headers.connection).not.toBe('close');
    expect(Buffer.compare(res.rawPayload, BINARY)).toBe(0);
    expect(res.headers['x-faas-invocation-id']).toBe(gw.invoker.requests[0]!.invocationId);
    expect(res.headers['x-faas-cold-start']).toBe('true');
    expect(res.headers['x-faas-duration-ms']).toBe('12.346');
  });

  it('returns a 500 the function answered itself as is', async () => {
    gw.invoker.answer = (request) => ({ status: 500, headers: {}, body: Buffer.from('boom'), meta: meta(request) });
    const res = await gw.inject({ url: '/fn/hello' });
    expect(res.statusCode).toBe(500);
    expect(res.body).toBe('boom');
    expect(res.headers['x-faas-cold-start']).toBe('false');
  });

  it('answers 404 FUNCTION_NOT_FOUND for a function that is not deployed', async () => {
    const message = errorOf(await gw.inject({ method: 'POST', url: '/fn/nobody/x', payload: 'hi' }), 404, 'FUNCTION_NOT_FOUND');
    expect(message).toMatch(/nobody/);
  });

  it.each<[string, FaasError, number, string]>([
    ['a timeout', new FunctionTimeoutError('ran past 100 ms'), 504, 'FUNCTION_TIMEOUT'],
    ['out of memory', new FunctionOutOfMemoryError('killed at 128 MB'), 502, 'FUNCTION_OUT_OF_MEMORY'],
    ['a handler error', new FunctionHandlerError('TypeError: x is undefined'), 500, 'FUNCTION_ERROR'],
    ['a crash', new FunctionCrashedError('exited 1'), 502, 'FUNCTION_CRASHED'],
    ['a full queue', new QueueFullError('100 waiting'), 429, 'TOO_MANY_REQUESTS'],
    ['a queue timeout', new QueueTimeoutError('waited 30 s'), 503, 'QUEUE_TIMEOUT'],
  ])('maps %s to %i %s with its message', async (_label, error, status, code) => {
    gw.invoker.answer = () => Promise.reject(error);
    expect(errorOf(await gw.inject({ url: '/fn/hello' }), status, code)).toBe(error.message);
  });

  it('answers 500 INTERNAL without the message for an unexpected invoker failure', async () => {
    gw.invoker.answer = () => Promise.reject(new Error('ECONNRESET /run/faas/abc/runtime.sock'));
    expect(errorOf(await gw.inject({ url: '/fn/hello' }), 500, 'INTERNAL')).not.toMatch(/sock/);
  });

  it('needs no token', async () => {
    expect((await gw.inject({ url: '/fn/hello', headers: { authorization: 'Bearer wrong' } })).statusCode).toBe(200);
  });
});

describe('the trigger beside the API', () => {
  it("serves a function's own host at any path, the API's paths included, with the host's origin as its URL", async () => {
    const res = await gw.inject({ url: '/api/v1/functions?x=1', headers: { host: 'hello.localhost:8080' } });
    expect(res.statusCode).toBe(200);
    expect(gw.invoker.requests[0]).toMatchObject({ fn: 'hello', path: '/api/v1/functions', rawQuery: 'x=1' });
    expect(gw.invoker.requests[0]!.headers).toMatchObject({ host: 'hello.localhost', 'x-forwarded-host': 'hello.localhost:8080' });
    expect(gw.invoker.requests[0]!.headers['x-forwarded-prefix']).toBeUndefined();
    // A real origin of its own: no sandbox.
    expect(res.headers['content-security-policy']).toBeUndefined();
  });

  it('answers a method no function serves with 405 and what is served, the function not called', async () => {
    const res = await gw.inject({ method: 'PROPFIND' as 'GET', url: '/fn/hello' });
    errorOf(res, 405, 'METHOD_NOT_ALLOWED');
    expect(res.headers.allow).toMatch(/GET, HEAD, POST/);
    expect(gw.invoker.requests).toHaveLength(0);
  });

  it('answers /fn/ with no name as a route that does not exist, and leaves /fn without a slash to the router', async () => {
    errorOf(await gw.inject({ url: '/fn/' }), 404, 'NOT_FOUND');
    errorOf(await gw.inject({ url: '/fn' }), 404, 'NOT_FOUND');
    expect(gw.invoker.requests).toHaveLength(0);
  });

  it('gives an empty answer with no type no body and no invented type; a typeless body is octet-stream', async () => {
    gw.invoker.answer = (request) => ({ status: 204, headers: {}, body: Buffer.alloc(0), meta: meta(request) });
    const empty = await gw.inject({ url: '/fn/hello' });
    expect(empty.statusCode).toBe(204);
    expect(empty.headers['content-type']).toBeUndefined();
    gw.invoker.answer = (request) => ({ status: 200, headers: {}, body: BINARY, meta: meta(request) });
    const typeless = await gw.inject({ url: '/fn/hello' });
    expect(typeless.headers['content-type']).toBe('application/octet-stream');
    expect(typeless.headers['content-length']).toBe(String(BINARY.length));
  });

  it('answers HEAD with the length a GET would have', async () => {
    gw.invoker.answer = (request) => ({
      status: 200,
      headers: { 'content-type': 'text/plain', 'content-length': '42' },
      body: Buffer.alloc(0),
      meta: meta(request),
    });
    const res = await gw.inject({ method: 'HEAD', url: '/fn/hello' });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-length']).toBe('42');
    expect(gw.invoker.requests[0]!.method).toBe('HEAD');
  });
});

describe('statuses without a body', () => {
  it.each([204, 304])('sends a %i without a body or a length, whatever the function gave', async (status) => {
    gw.invoker.answer = (request) => ({ status, headers: { 'content-type': 'text/plain' }, body: Buffer.from('ignored'), meta: meta(request) });
    const res = await gw.inject({ url: '/fn/hello' });
    expect(res.statusCode).toBe(status);
    expect(res.headers['content-length']).toBeUndefined();
    expect(res.rawPayload.length).toBe(0);
    if (status === 204) expect(res.headers['content-type']).toBeUndefined();
  });

  it('answers HEAD of an empty answer with no length the function did not give', async () => {
    gw.invoker.answer = (request) => ({ status: 200, headers: {}, body: Buffer.alloc(0), meta: meta(request) });
    const res = await gw.inject({ method: 'HEAD', url: '/fn/hello' });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-length']).toBeUndefined();
  });
});

describe('while the server closes', () => {
  it('answers a call 503 SHUTTING_DOWN without running the function', async () => {
    const closing = gw.app.close();
    errorOf(await gw.inject({ url: '/fn/hello' }), 503, 'SHUTTING_DOWN');
    await closing;
    expect(gw.invoker.requests).toHaveLength(0);
  });
});
