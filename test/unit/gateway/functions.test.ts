// Management API over in-memory fakes: deploy/list/get/delete/logs, validation, token, error shape.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { LIMIT_RANGES } from '../../../core/function-spec.js';
import { AUTH, CODE, errorOf, testGateway, type TestGateway } from './fakes.js';

let gw: TestGateway;
beforeEach(async () => {
  gw = await testGateway({ FAAS_MAX_CODE_BYTES: '4096' });
});
afterEach(async () => {
  await gw.app.close();
});

const put = (name: string, payload: unknown, headers: Record<string, string> = AUTH) =>
  gw.inject({ method: 'PUT', url: `/api/v1/functions/${name}`, headers, payload: payload as object });

describe('deploy', () => {
  it('creates with defaults (201) and updates keeping unspecified settings (200)', async () => {
    const created = await put('hello', { code: CODE, memoryMb: 256, env: { GREETING: 'hi' } });
    expect(created.statusCode).toBe(201);
    expect(created.json()).toMatchObject({
      url: 'https://faas.example/fn/hello',
      function: {
        name: 'hello',
        version: 1,
        memoryMb: 256,
        timeoutMs: LIMIT_RANGES.timeoutMs.default,
        concurrency: 1,
        env: { GREETING: 'hi' },
        network: false,
        codeBytes: CODE.length,
      },
    });
    expect(gw.registry.code.get(created.json().function.codeSha256)?.toString()).toBe(CODE);

    const updated = await put('hello', { code: CODE, timeoutMs: 5_000 });
    expect(updated.statusCode).toBe(200);
    expect(updated.json().function).toMatchObject({ version: 2, memoryMb: 256, timeoutMs: 5_000, env: { GREETING: 'hi' } });
  });

  it.each([
    ['a bad name', 'Bad_Name', { code: CODE }, /name/],
    ['a name starting with a digit', '1abc', { code: CODE }, /name/],
    ['memory over the maximum', 'ok', { code: CODE, memoryMb: 1_000_000 }, /memoryMb/],
    ['memory under the minimum', 'ok', { code: CODE, memoryMb: 1 }, /memoryMb/],
    ['fractional memory', 'ok', { code: CODE, memoryMb: 128.5 }, /memoryMb/],
    ['concurrency 0', 'ok', { code: CODE, concurrency: 0 }, /concurrency/],
    ['cpus 0', 'ok', { code: CODE, cpus: 0 }, /cpus/],
    ['a timeout as a string', 'ok', { code: CODE, timeoutMs: 'soon' }, /timeoutMs/],
    ['a missing code', 'ok', { memoryMb: 128 }, /code/],
    ['an empty code', 'ok', { code: '' }, /code/],
    ['an unknown field', 'ok', { code: CODE, memory: 128 }, /memory/],
    ['a bad env key', 'ok', { code: CODE, env: { 'BAD-KEY': 'x' } }, /env/],
    ['a reserved env key', 'ok', { code: CODE, env: { FAAS_TOKEN: 'x' } }, /env/],
    ['a non-string env value', 'ok', { code: CODE, env: { A: 1 } }, /env/],
    ['minScale above maxScale', 'ok', { code: CODE, minScale: 5, maxScale: 2 }, /minScale/],
  ])('rejects %s with 400 naming the field', async (_label, name, body, field) => {
    const res = await put(name, body);
    expect(errorOf(res, 400, 'BAD_REQUEST')).toMatch(field);
    expect(gw.registry.specs.size).toBe(0);
  });

  it('checks minScale against the previous maxScale on update', async () => {
    expect((await put('ok', { code: CODE, maxScale: 2 })).statusCode).toBe(201);
    expect(errorOf(await put('ok', { code: CODE, minScale: 3 }), 400, 'BAD_REQUEST')).toMatch(/minScale \(3\).*maxScale \(2\)/);
  });

  it('rejects code over the limit with 400 naming the limit, not a socket error', async () => {
    const res = await put('big', { code: 'x'.repeat(5_000) });
    expect(errorOf(res, 400, 'BAD_REQUEST')).toMatch(/5000 bytes.*4096 bytes/);
  });

  it('counts code size in UTF-8 bytes', async () => {
    expect(errorOf(await put('big', { code: 'é'.repeat(2_100) }), 400, 'BAD_REQUEST')).toMatch(/4200 bytes/);
  });

  it('rejects a body that is not JSON with 400', async () => {
    const res = await gw.inject({
      method: 'PUT',
      url: '/api/v1/functions/ok',
      headers: { ...AUTH, 'content-type': 'application/json' },
      payload: '{not json',
    });
    expect(errorOf(res, 400, 'BAD_REQUEST')).toMatch(/JSON/);
  });

  it('answers 413 for a body far over any code limit', async () => {
    const res = await put('big', { code: 'x'.repeat(2 * 4096 + 1024 * 1024 + 10) });
    errorOf(res, 413, 'PAYLOAD_TOO_LARGE');
  });
});

describe('read and delete', () => {
  it('lists, gets, deletes (204) and then answers 404', async () => {
    await put('one', { code: CODE });
    await put('two', { code: CODE });
    const list = await gw.inject({ url: '/api/v1/functions', headers: AUTH });
    expect(
      list
        .json()
        .functions.map((f: { name: string }) => f.name)
        .sort(),
    ).toEqual(['one', 'two']);

    const got = await gw.inject({ url: '/api/v1/functions/one', headers: AUTH });
    expect(got.json()).toMatchObject({ function: { name: 'one', version: 1 }, url: 'https://faas.example/fn/one' });

    const del = await gw.inject({ method: 'DELETE', url: '/api/v1/functions/one', headers: AUTH });
    expect(del.statusCode).toBe(204);
    expect(del.body).toBe('');
    errorOf(await gw.inject({ url: '/api/v1/functions/one', headers: AUTH }), 404, 'FUNCTION_NOT_FOUND');
    errorOf(await gw.inject({ method: 'DELETE', url: '/api/v1/functions/one', headers: AUTH }), 404, 'FUNCTION_NOT_FOUND');
  });

  it('returns recent logs (default limit 20), 400 for a limit out of range, cleared on delete', async () => {
    await put('hello', { code: CODE });
    const entry = {
      invocationId: 'i1',
      fn: 'hello',
      version: 1,
      trigger: 'http' as const,
      time: new Date(0).toISOString(),
      status: 'ok' as const,
      httpStatus: 200,
      durationMs: 2,
      coldStart: true,
      logs: 'hi\n',
    };
    gw.logs.entries.set('hello', [entry]);

    const logs = await gw.inject({ url: '/api/v1/functions/hello/logs', headers: AUTH });
    expect(logs.json()).toEqual({ logs: [entry], cursor: '1-0' });
    expect(gw.logs.limits).toEqual([20]);
    expect((await gw.inject({ url: '/api/v1/functions/hello/logs?limit=5', headers: AUTH })).statusCode).toBe(200);
    expect(gw.logs.limits).toEqual([20, 5]);
    expect(errorOf(await gw.inject({ url: '/api/v1/functions/hello/logs?limit=101', headers: AUTH }), 400, 'BAD_REQUEST')).toMatch(/limit/);
    expect(errorOf(await gw.inject({ url: '/api/v1/functions/hello/logs?limit=0', headers: AUTH }), 400, 'BAD_REQUEST')).toMatch(/limit/);

    await gw.inject({ method: 'DELETE', url: '/api/v1/functions/hello', headers: AUTH });
    expect(gw.logs.entries.has('hello')).toBe(false);
    errorOf(await gw.inject({ url: '/api/v1/functions/hello/logs', headers: AUTH }), 404, 'FUNCTION_NOT_FOUND');
  });
});

describe('token and errors', () => {
  it.each([
    ['no Authorization header', {}],
    ['a wrong token', { authorization: 'Bearer wrong' }],
    ['a token that is a prefix of the right one', { authorization: `Bearer ${AUTH.authorization.slice(7, -1)}` }],
    ['another scheme', { authorization: `Basic ${AUTH.authorization.slice(7)}` }],
  ])('answers 401 with %s, before validating or touching the registry', async (_label, headers) => {
    errorOf(await gw.inject({ url: '/api/v1/functions', headers }), 401, 'UNAUTHORIZED');
    errorOf(await put('Bad_Name', { nope: 1 }, headers), 401, 'UNAUTHORIZED');
    expect(gw.registry.specs.size).toBe(0);
  });

  it('answers 404 NOT_FOUND for unknown routes, with or without a token', async () => {
    errorOf(await gw.inject({ url: '/api/v1/nothing', headers: AUTH }), 404, 'NOT_FOUND');
    errorOf(await gw.inject({ url: '/nothing' }), 404, 'NOT_FOUND');
  });

  it('answers 500 INTERNAL without leaking the error for an unexpected failure', async () => {
    gw.registry.failWith = new Error('redis exploded at /secret/path');
    const res = await gw.inject({ url: '/api/v1/functions/hello', headers: AUTH });
    const message = errorOf(res, 500, 'INTERNAL');
    expect(message).not.toMatch(/redis|secret/);
    expect(res.body).not.toMatch(/at |stack/);
  });
});
