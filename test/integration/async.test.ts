// Async HTTP invocations end to end (real Redis, real containers): 202 and status, callbacks,
// idempotency, retries then dead letters then redrive, backlog limit, and bad input.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestPlatform, uniqueName, waitUntil, type TestPlatform } from '../support/platform.js';

let platform: TestPlatform;

const ECHO = `export default async (req) => {
  const url = new URL(req.url);
  const faas = {};
  for (const [k, v] of req.headers) if (k.startsWith('x-faas-')) faas[k] = v;
  console.log('echo ran for', url.pathname);
  return { method: req.method, path: url.pathname, query: url.search, body: await req.text(), faas, type: req.headers.get('content-type') };
};`;

/** Fails (throws) until the epoch ms in its body has passed. */
const FLAKY = `export default async (req) => {
  const { failUntil } = await req.json();
  if (Date.now() < failUntil) throw new Error('not yet: ' + (failUntil - Date.now()) + ' ms to go');
  return 'finally';
};`;

const SLOW = `export default async (req) => { await new Promise((r) => setTimeout(r, Number(new URL(req.url).searchParams.get('ms') ?? 500))); return 'slept'; };`;

beforeAll(async () => {
  // The callback receivers here listen on loopback, which callbacks may not reach by default.
  platform = await startTestPlatform({ FAAS_RETRY_DELAY_MS: '100', FAAS_PREWARM: '0', FAAS_CALLBACK_ALLOW_LOCAL: '1' });
});

afterAll(async () => {
  await platform?.stop();
});

const submit = (name: string, rest = '', init: RequestInit = {}) => fetch(`${platform.url}/async/fn/${name}${rest}`, { method: 'POST', ...init });

async function finished(id: string, timeoutMs = 30_000): Promise<any> {
  return waitUntil(
    `invocation ${id} to finish`,
    async () => {
      const { body } = await platform.api('GET', `/api/v1/invocations/${id}`);
      return body.status === 'succeeded' || body.status === 'dead' ? body : undefined;
    },
    timeoutMs,
  );
}

describe('async invocations', () => {
  it('answers 202 with an id and a Location, runs the request later and keeps result and logs', async () => {
    const name = uniqueName('echo');
    expect((await platform.deploy(name, ECHO)).status).toBe(201);
    const res = await submit(name, '/items/7?x=1', { body: 'hello', headers: { 'content-type': 'text/plain', 'x-faas-trigger': 'forged' } });
    expect(res.status).toBe(202);
    const accepted = (await res.json()) as { invocationId: string; status: string };
    expect(accepted.status).toBe('queued');
    expect(res.headers.get('location')).toBe(`/api/v1/invocations/${accepted.invocationId}`);

    const view = await finished(accepted.invocationId);
    expect(view).toMatchObject({ id: accepted.invocationId, function: name, trigger: 'async', status: 'succeeded', attempts: 1, maxAttempts: 3 });
    expect(view.result.status).toBe(200);
    const out = JSON.parse(view.result.body);
    expect(out).toMatchObject({ method: 'POST', path: '/items/7', query: '?x=1', body: 'hello', type: 'text/plain' });
    // The platform's own headers, not the caller's forged one.
    expect(out.faas['x-faas-trigger']).toBe('async');
    expect(out.faas['x-faas-attempt']).toBe('1');
    expect(view.logs.join('\n')).toContain('echo ran for /items/7');
    expect(Date.parse(view.finishedAt)).toBeGreaterThanOrEqual(Date.parse(view.acceptedAt));

    // The usage record names the trigger.
    const logs = await waitUntil('the invocation log', async () => {
      const { body } = await platform.api('GET', `/api/v1/functions/${name}/logs`);
      return body.logs.length ? body.logs : undefined;
    });
    expect(logs[0]).toMatchObject({ trigger: 'async', status: 'ok' });
  });

  it('POSTs the result to the callback URL', async () => {
    const received: Array<{ headers: http.IncomingHttpHeaders; body: string }> = [];
    const server = http.createServer((req, res) => {
      let body = '';
      req.on('data', (c) => (body += c));
      req.on('end', () => {
        received.push({ headers: req.headers, body });
        res.end('ok');
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const name = uniqueName('cb');
      await platform.deploy(name, ECHO);
      const callback = `http://127.0.0.1:${(server.address() as AddressInfo).port}/done`;
      const res = await submit(name, '', { body: 'ping', headers: { 'x-callback-url': callback } });
      const { invocationId } = (await res.json()) as { invocationId: string };
      const got = await waitUntil('the callback', async () => received[0]);
      expect(got.headers['x-faas-invocation-id']).toBe(invocationId);
      expect(got.headers['x-faas-status']).toBe('succeeded');
      expect(got.headers['x-function-status']).toBe('200');
      expect(JSON.parse(got.body).body).toBe('ping');

      // A dead invocation's callback carries the error.
      const rejecting = uniqueName('cb-dead');
      await platform.deploy(rejecting, `export default () => new Response('bad input', { status: 400 });`);
      const dead = await submit(rejecting, '', { headers: { 'x-callback-url': callback } });
      const deadId = ((await dead.json()) as { invocationId: string }).invocationId;
      const second = await waitUntil('the dead callback', async () => received.find((r) => r.headers['x-faas-invocation-id'] === deadId));
      expect(second.headers['x-faas-status']).toBe('dead');
      expect(JSON.parse(second.body).error).toMatchObject({ code: 'FUNCTION_REJECTED' });
    } finally {
      server.close();
    }
  });

  it('runs a repeated submission with the same Idempotency-Key once', async () => {
    const name = uniqueName('idem');
    await platform.deploy(name, ECHO);
    const key = `order-${Date.now()}`;
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) {
      const res = await submit(name, '/orders?x=1', { body: 'order 1', headers: { 'idempotency-key': key, 'content-type': 'text/plain' } });
      expect(res.status).toBe(202);
      ids.push(((await res.json()) as { invocationId: string }).invocationId);
      if (i === 1) await finished(ids[0]!);
    }
    expect(new Set(ids).size).toBe(1);
    const view = await finished(ids[0]!);
    expect(JSON.parse(view.result.body).body).toBe('order 1');
    // Another key is another invocation.
    const other = (await (await submit(name, '', { body: 'x', headers: { 'idempotency-key': `${key}-2` } })).json()) as { invocationId: string };
    expect(other.invocationId).not.toBe(ids[0]);
    await finished(other.invocationId);
    // Logs reach Redis when the usage journal ships (a few ms after the run): wait for both.
    const logs = await waitUntil('both invocations in the logs', async () => {
      const { body } = await platform.api('GET', `/api/v1/functions/${name}/logs`);
      return body.logs.length >= 2 ? body.logs : undefined;
    });
    expect(logs.length).toBe(2);
  });

  it('answers 422 IDEMPOTENCY_KEY_REUSED when a caller reuses its key for a different request, and replays the same one', async () => {
    const name = uniqueName('idem422');
    await platform.deploy(name, ECHO);
    const key = `pay-${Date.now()}`;
    const as = (body: string, extra: Record<string, string> = {}, rest = '/pay') =>
      submit(name, rest, { body, headers: { authorization: 'Bearer caller-a', 'idempotency-key': key, 'content-type': 'text/plain', ...extra } });
    const first = await as('amount=10');
    expect(first.status).toBe(202);
    const { invocationId } = (await first.json()) as { invocationId: string };
    const again = await as('amount=10');
    expect(again.status).toBe(202);
    expect(((await again.json()) as { invocationId: string }).invocationId).toBe(invocationId);
    for (const res of [
      await as('amount=99'),
      await as('amount=10', { 'content-type': 'application/json' }),
      await as('amount=10', {}, '/pay?twice=1'),
      await as('amount=10', {}, '/refund'),
      await as('amount=10', { 'x-callback-url': 'http://127.0.0.1:9/elsewhere' }),
    ]) {
      expect(res.status).toBe(422);
      expect(await res.json()).toEqual({
        error: { code: 'IDEMPOTENCY_KEY_REUSED', message: expect.stringMatching(/Idempotency-Key was used with a different request/) },
      });
    }
    // The same key from another caller (another credential) is that caller's own key.
    const otherCaller = await submit(name, '/pay', {
      body: 'amount=99',
      headers: { authorization: 'Bearer caller-b', 'idempotency-key': key, 'content-type': 'text/plain' },
    });
    expect(otherCaller.status).toBe(202);
    expect(((await otherCaller.json()) as { invocationId: string }).invocationId).not.toBe(invocationId);
    expect(JSON.parse((await finished(invocationId)).result.body).body).toBe('amount=10');
  });

  it("never hands an anonymous caller's job to another caller using the same key", async () => {
    const tenant = `idem${Date.now().toString(36)}`;
    expect((await platform.api('POST', '/api/v1/tenants', { id: tenant })).status).toBe(201);
    const token = (await platform.api('POST', `/api/v1/tenants/${tenant}/tokens`, { name: 'ci' })).body.token as string;
    expect((await platform.apiAs(token, 'PUT', '/api/v1/functions/pay', { code: ECHO })).status).toBe(201);
    const fn = `${tenant}/pay`;
    const key = `victim-${Date.now()}`;
    const headers = { 'idempotency-key': key, 'content-type': 'text/plain' };
    const idOf = async (res: Response) => {
      expect(res.status).toBe(202);
      return ((await res.json()) as { invocationId: string }).invocationId;
    };
    // An anonymous caller claims the key first, with its own callback.
    const attacker = await idOf(await submit(fn, '', { body: 'amount=10', headers: { ...headers, 'x-callback-url': 'http://127.0.0.1:9/steal' } }));
    // The tenant's caller, with its token, gets its own invocation: not the attacker's, and no 422.
    const victim = await idOf(await submit(fn, '', { body: 'amount=10', headers: { ...headers, authorization: `Bearer ${token}` } }));
    expect(victim).not.toBe(attacker);
    expect(await idOf(await submit(fn, '', { body: 'amount=10', headers: { ...headers, authorization: `Bearer ${token}` } }))).toBe(victim);
    // Nor does an anonymous caller sending the same body without that callback get the attacker's job;
    // another anonymous request with the same key is another invocation, not a 422.
    const anonymous = await idOf(await submit(fn, '', { body: 'amount=10', headers }));
    expect(anonymous).not.toBe(attacker);
    expect(await idOf(await submit(fn, '', { body: 'amount=10', headers }))).toBe(anonymous);
    const different = await idOf(await submit(fn, '', { body: 'amount=11', headers }));
    expect(new Set([attacker, victim, anonymous, different]).size).toBe(4);
    // The tenant reads its own invocation, which ran its request.
    const view = await waitUntil('the victim invocation to finish', async () => {
      const { body } = await platform.apiAs(token, 'GET', `/api/v1/invocations/${victim}`);
      return body.status === 'succeeded' ? body : undefined;
    });
    expect(JSON.parse(view.result.body).body).toBe('amount=10');
  });

  it('replays a queue message sent again with the same Idempotency-Key and refuses the key for another message with 422', async () => {
    const consumer = uniqueName('idemq');
    const queue = uniqueName('orders');
    expect((await platform.deploy(consumer, ECHO, { queues: [queue] })).status).toBe(201);
    const send = (body: string, token = platform.token, contentType = 'text/plain') =>
      fetch(`${platform.url}/api/v1/queues/${queue}/messages`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': contentType, 'idempotency-key': 'msg-1' },
        body,
      });
    const first = await send('one');
    expect(first.status).toBe(202);
    const { messageId } = (await first.json()) as { messageId: string };
    const again = await send('one');
    expect(again.status).toBe(202);
    expect(((await again.json()) as { messageId: string }).messageId).toBe(messageId);
    for (const res of [await send('two'), await send('one', platform.token, 'application/json')]) {
      expect(res.status).toBe(422);
      expect(((await res.json()) as any).error.code).toBe('IDEMPOTENCY_KEY_REUSED');
    }
  });

  it('retries with backoff, dead-letters after the last attempt, and redrives to success', async () => {
    const name = uniqueName('flaky');
    await platform.deploy(name, FLAKY, { maxAttempts: 2 });
    const failUntil = Date.now() + 4_000;
    const res = await submit(name, '', { body: JSON.stringify({ failUntil }), headers: { 'content-type': 'application/json' } });
    const { invocationId } = (await res.json()) as { invocationId: string };
    const dead = await finished(invocationId);
    expect(dead.status).toBe('dead');
    expect(dead.attempts).toBe(2);
    expect(dead.error.code).toBe('FUNCTION_ERROR');
    expect(dead.error.message).toMatch(/not yet/);
    expect(dead.logs.filter((l: string) => l.startsWith('attempt')).length).toBe(2);

    const { body: list } = await platform.api('GET', `/api/v1/dlq?function=${name}`);
    expect(list.deadLetters.map((d: { id: string }) => d.id)).toEqual([invocationId]);
    expect(list.deadLetters[0]).toMatchObject({ function: name, trigger: 'async', attempts: 2 });

    await new Promise((r) => setTimeout(r, Math.max(0, failUntil - Date.now() + 100)));
    expect((await platform.api('POST', `/api/v1/dlq/${invocationId}/redrive`)).status).toBe(202);
    const redriven = await finished(invocationId);
    expect(redriven.status).toBe('succeeded');
    expect(redriven.result.body).toBe('finally');
    expect((await platform.api('GET', `/api/v1/dlq?function=${name}`)).body.deadLetters).toEqual([]);
  });

  it('dead-letters a 4xx answer at once, and purges the dead-letter list', async () => {
    const name = uniqueName('reject');
    await platform.deploy(name, `export default () => new Response('no such order', { status: 422 });`);
    const { invocationId } = (await (await submit(name)).json()) as { invocationId: string };
    const dead = await finished(invocationId);
    expect(dead).toMatchObject({ status: 'dead', attempts: 1, error: { code: 'FUNCTION_REJECTED' } });
    expect(dead.error.message).toContain('no such order');
    expect((await platform.api('DELETE', `/api/v1/dlq?function=${name}`)).body).toEqual({ purged: 1 });
    expect((await platform.api('GET', `/api/v1/invocations/${invocationId}`)).status).toBe(404);
  });

  it('answers 429 past the function maxBacklog', async () => {
    const name = uniqueName('backlog');
    await platform.deploy(name, SLOW, { maxScale: 1, maxBacklog: 2 });
    const statuses: number[] = [];
    for (let i = 0; i < 6; i++) statuses.push((await submit(name, '?ms=2000')).status);
    expect(statuses.filter((s) => s === 202).length).toBeGreaterThanOrEqual(2);
    expect(statuses.filter((s) => s === 202).length).toBeLessThanOrEqual(3);
    const rejected = await submit(name, '?ms=10');
    expect(rejected.status).toBe(429);
    expect(((await rejected.json()) as any).error.code).toBe('BACKLOG_FULL');
  });

  it('dead-letters work older than maxEventAge instead of running it', async () => {
    const name = uniqueName('aged');
    await platform.deploy(name, SLOW, { maxScale: 1, maxEventAgeMs: 1_000 });
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) ids.push(((await (await submit(name, '?ms=800')).json()) as { invocationId: string }).invocationId);
    const views = await Promise.all(ids.map((id) => finished(id)));
    expect(views[0].status).toBe('succeeded');
    const aged = views.filter((v) => v.status === 'dead');
    expect(aged.length).toBeGreaterThanOrEqual(1);
    expect(aged[0]).toMatchObject({ attempts: 1, error: { code: 'EVENT_TOO_OLD' } });
    expect(aged[0].logs[0]).toMatch(/not run/);
  });

  it('exposes queue depth, in-flight, retries, dead letters and oldest-job age on /metrics', async () => {
    const name = uniqueName('metered');
    await platform.deploy(name, FLAKY, { maxScale: 1, maxAttempts: 2 });
    const failing = JSON.stringify({ failUntil: Date.now() + 60_000 });
    const { invocationId } = (await (await submit(name, '', { body: failing })).json()) as { invocationId: string };
    await finished(invocationId);
    const slow = uniqueName('metered-slow');
    await platform.deploy(slow, SLOW, { maxScale: 1 });
    for (let i = 0; i < 3; i++) await submit(slow, '?ms=1500');
    await new Promise((r) => setTimeout(r, 700));
    const text = await (await fetch(`${platform.url}/metrics`, { headers: { authorization: `Bearer ${platform.token}` } })).text();
    const value = (metric: string) => {
      const line = text.split('\n').find((l) => l.startsWith(`${metric} `));
      return line === undefined ? undefined : Number(line.split(' ').pop());
    };
    expect(value(`faas_async_jobs{function="${name}",queue="fn.${name}",state="dead"}`)).toBe(1);
    expect(value(`faas_async_retries_total{function="${name}"}`)).toBe(1);
    expect(value(`faas_async_jobs{function="${slow}",queue="fn.${slow}",state="active"}`)).toBe(1);
    expect(value(`faas_async_jobs{function="${slow}",queue="fn.${slow}",state="waiting"}`)).toBe(2);
    expect(value(`faas_async_oldest_waiting_seconds{function="${slow}",queue="fn.${slow}"}`)).toBeGreaterThan(0.5);
    expect(value(`faas_async_oldest_waiting_seconds{function="${name}",queue="fn.${name}"}`)).toBe(0);
  });

  it('rejects bad input with 400/404 and a clear error', async () => {
    const name = uniqueName('bad');
    const expectError = async (res: { status: number; body: any } | Response, status: number, code: string, message?: RegExp) => {
      const r = res instanceof Response ? { status: res.status, body: await res.json() } : res;
      expect(r.status).toBe(status);
      expect(r.body.error.code).toBe(code);
      if (message) expect(r.body.error.message).toMatch(message);
    };
    await expectError(await submit('no-such-fn'), 404, 'FUNCTION_NOT_FOUND');
    await platform.deploy(name, ECHO);
    await expectError(await submit(name, '', { headers: { 'x-callback-url': 'ftp://example.com/x' } }), 400, 'BAD_REQUEST', /http or https/);
    await expectError(await submit(name, '', { headers: { 'x-callback-url': 'not a url' } }), 400, 'BAD_REQUEST', /absolute URL/);
    await expectError(await submit(name, '', { headers: { 'idempotency-key': 'k'.repeat(300) } }), 400, 'BAD_REQUEST', /Idempotency-Key/);
    await expectError(await platform.deploy(name, ECHO, { maxAttempts: -1 }), 400, 'BAD_REQUEST', /maxAttempts/);
    await expectError(await platform.deploy(name, ECHO, { schedules: [{ cron: '61 * * * *' }] }), 400, 'BAD_REQUEST', /cron expression "61 \* \* \* \*"/);
    await expectError(await platform.deploy(name, ECHO, { schedules: [{ cron: '* * *' }] }), 400, 'BAD_REQUEST', /3 fields/);
    // More often than once a minute (FAAS_MIN_SCHEDULE_INTERVAL_MS): a storm of ticks is refused, naming the limit.
    await expectError(await platform.deploy(name, ECHO, { schedules: [{ cron: '* * * * * *' }] }), 400, 'LIMIT_EXCEEDED', /1 s apart.*every 60 s/);
    await expectError(await platform.deploy(name, ECHO, { schedules: [{ cron: '0,30 * * * * *' }] }), 400, 'LIMIT_EXCEEDED', /30 s apart/);
    await expectError(await platform.deploy(name, ECHO, { schedules: [{ cron: '* * * * *', timezone: 'Mars/Olympus' }] }), 400, 'BAD_REQUEST', /time zone/);
    await expectError(await platform.deploy(name, ECHO, { queues: ['bad queue'] }), 400, 'BAD_REQUEST', /queues/);
    // What waits in Redis is bounded per message (FAAS_MAX_ASYNC_BODY_BYTES, 1 MiB): 6 MB async calls filled it.
    const big = new Uint8Array(2 * 1024 * 1024);
    await expectError(await submit(name, '', { body: big }), 413, 'PAYLOAD_TOO_LARGE', /2097152 bytes; at most 1048576.*FAAS_MAX_ASYNC_BODY_BYTES/);
    const consumer = uniqueName('sink');
    const queue = `q-${consumer.slice(-8)}`;
    expect((await platform.deploy(consumer, ECHO, { queues: [queue], topics: [queue] })).status).toBe(201);
    const auth = { authorization: `Bearer ${platform.token}` };
    await expectError(
      await fetch(`${platform.url}/api/v1/queues/${queue}/messages`, { method: 'POST', headers: auth, body: big }),
      413,
      'PAYLOAD_TOO_LARGE',
      /a queue message/,
    );
    const ce = { ...auth, 'ce-specversion': '1.0', 'ce-type': 't', 'ce-source': 's', 'ce-id': '1' };
    await expectError(await fetch(`${platform.url}/api/v1/events/${queue}`, { method: 'POST', headers: ce, body: big }), 413, 'PAYLOAD_TOO_LARGE', /an event/);
    await expectError(await platform.api('GET', '/api/v1/invocations/00000000-0000-4000-8000-000000000000'), 404, 'INVOCATION_NOT_FOUND');
  });
});
