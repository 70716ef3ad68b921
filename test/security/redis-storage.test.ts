// Attack: fill Redis. On 2a33dbb one tenant took Redis from 45 MB to 1.6 GB with 10,000 queue messages of
// 100 KB, 50 anonymous 6 MB async calls took it to 2 GB, a deleted consumer's messages stayed for ever with
// no way to purge them, and a tenant could hold any number of cron triggers. Here: a per-tenant limit on
// bytes waiting in queues (429 naming it), released as jobs succeed or are purged, shown in usage; a purge
// API for a queue's messages, consumed or not; a per-tenant count of cron triggers.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestPlatform, uniqueName, waitUntil, type TestPlatform } from '../support/platform.js';

const LIMIT = 3_500_000;
const MESSAGE = 1_000_000;
const FAILING = `export default () => { throw new Error('refused on purpose'); };`;
const ECHO = `export default async (req) => ({ bytes: (await req.arrayBuffer()).byteLength });`;

let platform: TestPlatform;

beforeAll(async () => {
  platform = await startTestPlatform({
    FAAS_MAX_QUEUED_BYTES: String(LIMIT),
    FAAS_MAX_SCHEDULES_PER_TENANT: '3',
    FAAS_MAX_FUNCTIONS_PER_TENANT: '6',
    FAAS_PREWARM: '0',
    FAAS_RETRY_DELAY_MS: '100',
  });
});

afterAll(async () => {
  await platform?.stop();
});

const auth = () => ({ authorization: `Bearer ${platform.token}` });
const send = (queue: string, bytes = MESSAGE) =>
  fetch(`${platform.url}/api/v1/queues/${queue}/messages`, { method: 'POST', headers: auth(), body: new Uint8Array(bytes) });
const queued = async (): Promise<{ bytes: number; limitBytes?: number }> => (await platform.api('GET', '/api/v1/usage?tenant=default')).body.queued;
const queuedBecomes = (bytes: number) => waitUntil(`queued bytes to be ${bytes}`, async () => ((await queued()).bytes === bytes ? true : undefined), 60_000);

// One platform, one tenant (default): the tests run one after another and each leaves nothing queued.
describe('Redis storage per tenant', () => {
  it("refuses a tenant's queue message past its queued-bytes limit with 429 naming it, until its dead letters are purged", async () => {
    const consumer = uniqueName('refuser');
    const queue = `q-${consumer.slice(-8)}`;
    expect((await platform.deploy(consumer, FAILING, { queues: [queue], maxAttempts: 1 })).status).toBe(201);
    for (let i = 0; i < 3; i++) expect((await send(queue)).status).toBe(202);
    // Dead letters keep their bodies in Redis: they stay counted.
    await waitUntil('3 dead letters', async () => {
      const { body } = await platform.api('GET', `/api/v1/dlq?function=${consumer}`);
      return body.deadLetters.length === 3 ? true : undefined;
    });
    expect(await queued()).toEqual({ bytes: 3 * MESSAGE, limitBytes: LIMIT });

    const refused = await send(queue);
    expect(refused.status).toBe(429);
    const error = ((await refused.json()) as { error: { code: string; message: string } }).error;
    expect(error.code).toBe('QUOTA_EXCEEDED');
    expect(error.message).toMatch(/tenant "default" keeps 2\.9 MiB waiting.*limit of 3500000 bytes \(FAAS_MAX_QUEUED_BYTES/);
    // The limit is the tenant's, whatever the trigger: an anonymous async call of another function is refused too.
    const other = uniqueName('echo');
    await platform.deploy(other, ECHO);
    const anonymous = await fetch(`${platform.url}/async/fn/${other}`, { method: 'POST', body: new Uint8Array(MESSAGE) });
    expect(anonymous.status).toBe(429);
    // A small one still fits in what is left.
    expect((await fetch(`${platform.url}/async/fn/${other}`, { method: 'POST', body: 'small' })).status).toBe(202);

    // The admin raises this tenant's own quota: accepted again.
    expect((await platform.api('PATCH', '/api/v1/tenants/default', { maxQueuedBytes: 5 * MESSAGE })).status).toBe(200);
    expect(await queued()).toMatchObject({ limitBytes: 5 * MESSAGE });
    expect((await send(queue)).status).toBe(202);
    await platform.api('PATCH', '/api/v1/tenants/default', { maxQueuedBytes: null });

    // Purging the dead letters gives the bytes back.
    await waitUntil('4 dead letters', async () => {
      const { body } = await platform.api('GET', `/api/v1/dlq?function=${consumer}`);
      return body.deadLetters.length === 4 ? true : undefined;
    });
    expect((await platform.api('DELETE', `/api/v1/dlq?function=${consumer}`)).body).toEqual({ purged: 4 });
    await queuedBecomes(0);
    expect((await send(queue)).status).toBe(202);
    // Deleting the function's own queue (its async calls, dead or waiting) drops their count with it.
    const dead = await fetch(`${platform.url}/async/fn/${consumer}`, { method: 'POST', body: new Uint8Array(MESSAGE) });
    expect(dead.status).toBe(202);
    await waitUntil('the async call to be dead', async () =>
      (await platform.api('GET', `/api/v1/dlq?function=${consumer}`)).body.deadLetters.length === 2 ? true : undefined,
    );
    expect((await queued()).bytes).toBeGreaterThanOrEqual(2 * MESSAGE);
    await platform.api('DELETE', `/api/v1/functions/${consumer}`);
    await platform.api('DELETE', `/api/v1/functions/${other}`);
    // Left: the named queue's dead message (its queue outlives its consumer) and the small async call, if not run yet.
    await waitUntil('only the named queue message counted', async () => ((await queued()).bytes === MESSAGE ? true : undefined));
    expect((await platform.api('DELETE', `/api/v1/queues/${queue}/messages`)).body).toEqual({ purged: 1 });
    await queuedBecomes(0);
  });

  it('gives the bytes back as messages and async calls succeed', async () => {
    const consumer = uniqueName('sink');
    const queue = `q-${consumer.slice(-8)}`;
    expect((await platform.deploy(consumer, ECHO, { queues: [queue] })).status).toBe(201);
    // Twice the limit in all, in turns: each turn fits once the previous one has run.
    for (let turn = 0; turn < 2; turn++) {
      for (let i = 0; i < 3; i++) expect((await send(queue)).status).toBe(202);
      await queuedBecomes(0);
    }
    const async = await fetch(`${platform.url}/async/fn/${consumer}`, { method: 'POST', body: new Uint8Array(MESSAGE) });
    expect(async.status).toBe(202);
    await queuedBecomes(0);
    await platform.api('DELETE', `/api/v1/functions/${consumer}`);
  });

  it("keeps a deleted consumer's messages, counted, for the next consumer, and purges them on request", async () => {
    const consumer = uniqueName('gone');
    const queue = `q-${consumer.slice(-8)}`;
    expect((await platform.deploy(consumer, FAILING, { queues: [queue], maxAttempts: 1 })).status).toBe(201);
    expect((await send(queue)).status).toBe(202);
    expect((await send(queue)).status).toBe(202);
    await waitUntil('2 dead letters', async () =>
      (await platform.api('GET', `/api/v1/dlq?function=${consumer}`)).body.deadLetters.length === 2 ? true : undefined,
    );
    expect((await platform.api('DELETE', `/api/v1/functions/${consumer}`)).status).toBe(204);
    // No consumer: nothing new is accepted; what was accepted is still there, and counted.
    expect((await send(queue, 10)).status).toBe(400);
    expect((await queued()).bytes).toBe(2 * MESSAGE);

    const purged = await platform.api('DELETE', `/api/v1/queues/${queue}/messages`);
    expect(purged).toEqual({ status: 200, body: { purged: 2 } });
    await queuedBecomes(0);
    const never = await platform.api('DELETE', `/api/v1/queues/never-used-${consumer.slice(-8)}/messages`);
    expect(never.status).toBe(400);
    expect(never.body.error.code).toBe('UNKNOWN_QUEUE');
  });

  it('loses no message when a queue changes consumer: what waits is run by the next one', async () => {
    const first = uniqueName('first');
    const queue = `q-${first.slice(-8)}`;
    // One at a time and slow: most messages are still waiting when the consumer goes.
    const SLOW = `export default async () => { await new Promise((r) => setTimeout(r, 1000)); return 'slow'; };`;
    expect((await platform.deploy(first, SLOW, { queues: [queue], maxScale: 1, concurrency: 1 })).status).toBe(201);
    const ids: string[] = [];
    for (let i = 0; i < 4; i++) ids.push(((await (await send(queue, 100)).json()) as { messageId: string }).messageId);
    await platform.api('DELETE', `/api/v1/functions/${first}`);
    const next = uniqueName('next');
    expect((await platform.deploy(next, ECHO, { queues: [queue] })).status).toBe(201);
    for (const id of ids) {
      await waitUntil(
        `message ${id} to succeed`,
        async () => ((await platform.api('GET', `/api/v1/invocations/${id}`)).body.status === 'succeeded' ? true : undefined),
        60_000,
      );
    }
    await queuedBecomes(0);
    await platform.api('DELETE', `/api/v1/functions/${next}`);
  });

  it("refuses cron triggers past the tenant's limit, counting its other functions", async () => {
    const a = uniqueName('cron-a');
    const b = uniqueName('cron-b');
    const every = (n: number) => Array.from({ length: n }, (_, i) => ({ cron: `${i} * * * *` }));
    expect((await platform.deploy(a, ECHO, { schedules: every(2) })).status).toBe(201);
    const refused = await platform.deploy(b, ECHO, { schedules: every(2) });
    expect(refused.status).toBe(429);
    expect(refused.body.error.code).toBe('QUOTA_EXCEEDED');
    expect(refused.body.error.message).toMatch(/has 2 cron trigger\(s\).*2 more would pass its limit of 3 \(FAAS_MAX_SCHEDULES_PER_TENANT\)/);
    // A redeploy of the same function does not count its own schedules twice.
    expect((await platform.deploy(a, ECHO, { schedules: every(3) })).status).toBe(200);
    expect((await platform.deploy(b, ECHO)).status).toBe(201);
    await platform.api('DELETE', `/api/v1/functions/${a}`);
    await platform.api('DELETE', `/api/v1/functions/${b}`);
  });

  it("refuses a function past the tenant's limit (each holds Redis connections on every invoker), and takes it once one is deleted", async () => {
    const names: string[] = [];
    let refused: { status: number; body: any } | undefined;
    for (let i = 0; i < 10 && !refused; i++) {
      const name = uniqueName('many');
      const res = await platform.deploy(name, ECHO);
      if (res.status === 201) names.push(name);
      else refused = res;
    }
    expect(names.length).toBe(6);
    expect(refused?.status).toBe(429);
    expect(refused?.body.error.message).toMatch(/has 6 functions; 1 more would pass its limit of 6 \(FAAS_MAX_FUNCTIONS_PER_TENANT\)/);
    // A redeploy of one of them is no new function.
    expect((await platform.deploy(names[0]!, ECHO)).status).toBe(200);
    await platform.api('DELETE', `/api/v1/functions/${names.pop()}`);
    const next = uniqueName('many');
    expect((await platform.deploy(next, ECHO)).status).toBe(201);
    for (const name of [...names, next]) await platform.api('DELETE', `/api/v1/functions/${name}`);
  });
});
