// Bad input to the real platform: each gets the right status and {"error":{"code","message"}}.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestPlatform, uniqueName, type TestPlatform } from '../support/platform.js';

let platform: TestPlatform;
beforeAll(async () => {
  platform = await startTestPlatform({ FAAS_MAX_CODE_BYTES: String(64 * 1024), FAAS_MAX_STREAM_BYTES: String(8 * 1024 * 1024) });
});
afterAll(async () => {
  await platform?.stop();
});

const CODE = `export default () => 'ok';`;

function expectError(res: { status: number; body: any }, status: number, code: string, messagePart?: RegExp) {
  expect(res.status, JSON.stringify(res.body)).toBe(status);
  expect(res.body.error.code).toBe(code);
  expect(typeof res.body.error.message).toBe('string');
  if (messagePart) expect(res.body.error.message).toMatch(messagePart);
}

describe('management API input', () => {
  it.each([
    ['a bad name', 'Bad_Name', { code: CODE }, /name/],
    ['a name starting with a digit', '1abc', { code: CODE }, /name/],
    ['memory over the maximum', 'ok-name', { code: CODE, memoryMb: 1_000_000 }, /memoryMb/],
    ['memory under the minimum', 'ok-name', { code: CODE, memoryMb: 1 }, /memoryMb/],
    ['concurrency 0', 'ok-name', { code: CODE, concurrency: 0 }, /concurrency/],
    ['a negative maxScale', 'ok-name', { code: CODE, maxScale: -1 }, /maxScale/],
    ['an idle timeout under 1 s', 'ok-name', { code: CODE, idleTimeoutMs: 10 }, /idleTimeoutMs/],
    ['a timeout as a string', 'ok-name', { code: CODE, timeoutMs: 'soon' }, /timeoutMs/],
    ['a missing bundle', 'ok-name', { memoryMb: 128 }, /code/],
    ['an empty bundle', 'ok-name', { code: '' }, /code/],
    ['an unknown field', 'ok-name', { code: CODE, memory: 128 }, /memory/],
    ['a bad env name', 'ok-name', { code: CODE, env: { 'BAD-NAME': 'x' } }, /env/],
    ['an env name the platform reserves', 'ok-name', { code: CODE, env: { FAAS_TOKEN: 'x' } }, /env/],
    ['minScale above maxScale', 'ok-name', { code: CODE, minScale: 5, maxScale: 2 }, /minScale/],
  ])('rejects %s with 400', async (_label, name, body, message) => {
    expectError(await platform.api('PUT', `/api/v1/functions/${name}`, body), 400, 'BAD_REQUEST', message);
  });

  it('rejects a bundle over the size limit with 400 naming the limit', async () => {
    const res = await platform.api('PUT', '/api/v1/functions/too-big', { code: `// ${'x'.repeat(70 * 1024)}\n${CODE}` });
    expectError(res, 400, 'BAD_REQUEST', /65536 bytes/);
  });

  it('rejects a body that is not JSON with 400', async () => {
    expectError(await platform.api('PUT', '/api/v1/functions/ok-name', '{not json'), 400, 'BAD_REQUEST');
  });

  it('rejects bad usage queries with 400', async () => {
    expectError(await platform.api('GET', '/api/v1/usage?from=yesterday'), 400, 'BAD_REQUEST', /from/);
    expectError(await platform.api('GET', '/api/v1/usage?from=2000&to=1000'), 400, 'BAD_REQUEST', /before/);
    expectError(await platform.api('GET', '/api/v1/usage?function=NOPE!'), 400, 'BAD_REQUEST');
  });

  it.each([
    ['to', '1e20'],
    ['from', '-1e20'],
    ['to', '99999999999999999999'],
    ['to', '12345678901234567'],
    ['to', '8640000000000000'],
    ['from', '2026-13-45'],
    ['from', '2026-02-30'],
    ['from', '+275760-09-13'],
    ['from', '-5'],
    ['to', 'Nov 1 2026'],
  ])('rejects an absurd usage %s=%s with 400 naming the parameter', async (field, value) => {
    const res = await platform.api('GET', `/api/v1/usage?${field}=${encodeURIComponent(value)}`);
    expectError(res, 400, 'BAD_REQUEST', new RegExp(`^${field} `));
  });

  it('still takes ISO 8601 dates and epoch ms for usage', async () => {
    const now = Date.now();
    expect((await platform.api('GET', `/api/v1/usage?from=${now - 3_600_000}&to=${now}`)).status).toBe(200);
    expect((await platform.api('GET', `/api/v1/usage?from=${new Date(now - 3_600_000).toISOString()}`)).status).toBe(200);
    expect((await platform.api('GET', '/api/v1/usage?from=2026-01-01&to=2026-01-02T00:00:00%2B01:00')).status).toBe(200);
  });

  it.each(['9999-99', '0000-01', '+275760-09', '275760-09', '1969-12', '2026-1', 'current2'])('rejects the invoice period %s with 400', async (period) => {
    expectError(await platform.api('GET', `/api/v1/invoices/${encodeURIComponent(period)}`), 400, 'BAD_REQUEST', /period/);
  });

  it('rejects a logs limit out of range', async () => {
    const name = uniqueName('logs');
    expect((await platform.deploy(name, CODE)).status).toBe(201);
    expectError(await platform.api('GET', `/api/v1/functions/${name}/logs?limit=1000`), 400, 'BAD_REQUEST', /limit/);
  });

  it('answers 404 for a function that does not exist, on get, delete and logs', async () => {
    const name = uniqueName('ghost');
    expectError(await platform.api('GET', `/api/v1/functions/${name}`), 404, 'FUNCTION_NOT_FOUND');
    expectError(await platform.api('DELETE', `/api/v1/functions/${name}`), 404, 'FUNCTION_NOT_FOUND');
    expectError(await platform.api('GET', `/api/v1/functions/${name}/logs`), 404, 'FUNCTION_NOT_FOUND');
  });

  it('answers 404 NOT_FOUND for an unknown route', async () => {
    expectError(await platform.api('GET', '/api/v1/nothing-here'), 404, 'NOT_FOUND');
  });
});

describe('async job ids', () => {
  // BullMQ keeps its own keys next to the jobs (`<prefix>:<queue>:meta`, `:id`, `:events`, ...): an id
  // the platform never hands out must not reach BullMQ.
  const BULLMQ_KEYS = ['meta', 'id', 'events', 'stalled-check', 'limiter', 'repeat', 'de', 'marker', 'pc', 'wait', 'active', 'completed', 'failed', 'delayed'];
  const routes = (id: string): Array<[string, string]> => [
    ['GET', `/api/v1/invocations/${id}`],
    ['GET', `/api/v1/dlq/${id}`],
    ['POST', `/api/v1/dlq/${id}/redrive`],
    ['DELETE', `/api/v1/dlq/${id}`],
  ];

  beforeAll(async () => {
    // A function, so that its queue (and BullMQ's keys of it) exists.
    await platform.deploy(uniqueName('ids'), CODE);
  });

  it.each(BULLMQ_KEYS)('answers 400 with the error shape for the BullMQ key name "%s" as an id', async (key) => {
    for (const [method, route] of routes(key)) {
      const res = await platform.api(method, route);
      expectError(res, 400, 'BAD_REQUEST', /id/);
    }
  });

  it("answers 400 for ids not shaped like the platform's, and 404 INVOCATION_NOT_FOUND for well-shaped unknown ones", async () => {
    for (const bad of ['repeat:x', 'ABCDEF00-0000-4000-8000-000000000000', '00000000-0000-4000-8000-00000000000', 'x'.repeat(36)]) {
      for (const [method, route] of routes(encodeURIComponent(bad))) expectError(await platform.api(method, route), 400, 'BAD_REQUEST', /id/);
    }
    for (const unknown of ['00000000-0000-4000-8000-000000000000', '00000000-0000-5000-a000-000000000000', 'repeat:cron-00000000-0000:1767225600000']) {
      for (const [method, route] of routes(encodeURIComponent(unknown))) expectError(await platform.api(method, route), 404, 'INVOCATION_NOT_FOUND');
    }
  });
});

describe('token', () => {
  it.each([
    ['no token', {}],
    ['a wrong token', { authorization: 'Bearer wrong' }],
    ['a malformed header', { authorization: 'Basic abc' }],
  ])('answers 401 with %s', async (_label, headers) => {
    const res = await fetch(`${platform.url}/api/v1/functions`, { headers });
    expect(res.status).toBe(401);
    expect(((await res.json()) as any).error.code).toBe('UNAUTHORIZED');
  });

  it('does not need a token to invoke, or for health and metrics', async () => {
    expect((await fetch(`${platform.url}/healthz`)).status).toBe(200);
    expect((await fetch(`${platform.url}/metrics`)).status).toBe(200);
    expect((await fetch(`${platform.url}/fn/${uniqueName('none')}`)).status).toBe(404);
  });
});

describe('function lifecycle', () => {
  it('creates (201), updates (200, settings kept), lists, gets and deletes a function', async () => {
    const name = uniqueName('life');
    const created = await platform.deploy(name, CODE, { memoryMb: 256, env: { A: '1' } });
    expect(created.status).toBe(201);
    const updated = await platform.deploy(name, `export default () => 'v2';`, { timeoutMs: 5_000 });
    expect(updated.status).toBe(200);
    expect(updated.body.function).toMatchObject({ version: 2, memoryMb: 256, timeoutMs: 5_000, env: { A: '1' } });
    expect(updated.body.function.createdAt).toBe(created.body.function.createdAt);

    const list = await platform.api('GET', '/api/v1/functions');
    expect(list.body.functions.map((f: { name: string }) => f.name)).toContain(name);
    expect((await platform.api('GET', `/api/v1/functions/${name}`)).body.function.version).toBe(2);

    expect((await platform.api('DELETE', `/api/v1/functions/${name}`)).status).toBe(204);
    expect((await platform.api('GET', `/api/v1/functions/${name}`)).status).toBe(404);
    expect((await platform.call(name)).status).toBe(404);
  });

  it('answers 413 for an invocation body over the limits (streamed uploads past FAAS_MAX_STREAM_BYTES, async calls past FAAS_MAX_BODY_BYTES)', async () => {
    const name = uniqueName('big');
    await platform.deploy(name, CODE);
    const res = await platform.call(name, '', { method: 'POST', body: Buffer.alloc(platform.config.maxStreamBytes + 1) });
    expect(res.status).toBe(413);
    expect(((await res.json()) as any).error.code).toBe('PAYLOAD_TOO_LARGE');
    const queued = await fetch(`${platform.url}/async/fn/${name}`, { method: 'POST', body: Buffer.alloc(platform.config.maxBodyBytes + 1) });
    expect(queued.status).toBe(413);
    expect(((await queued.json()) as any).error.code).toBe('PAYLOAD_TOO_LARGE');
  });
});
