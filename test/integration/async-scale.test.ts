// Async at scale (real Redis, real containers): the Redis connections the platform holds do not grow with
// the functions and queues deployed — workers run only for queues with work, at most
// FAAS_ASYNC_MAX_WORKERS at a time — and every queue with work is still served: ones waiting for a slot,
// and a retry due after its worker went idle.
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestPlatform, uniqueName, waitUntil, type TestPlatform } from '../support/platform.js';

let platform: TestPlatform;
let observer: Redis;
/** The platform's Redis clients with no function deployed. */
let baseline = 0;

const MAX_WORKERS = 3;
const ECHO = `export default async (req) => 'ran ' + (await req.text());`;

/** Redis clients of the platform (everything connected but this test's own observer). */
async function platformClients(): Promise<number> {
  const list = (await observer.client('LIST')) as string;
  return list.trim().split('\n').length - 1;
}

const submit = async (name: string, body: string) => {
  const res = await fetch(`${platform.url}/async/fn/${name}`, { method: 'POST', body });
  expect(res.status).toBe(202);
  return ((await res.json()) as { invocationId: string }).invocationId;
};

const send = async (queue: string, body: string) => {
  const res = await fetch(`${platform.url}/api/v1/queues/${queue}/messages`, {
    method: 'POST',
    headers: { authorization: `Bearer ${platform.token}`, 'content-type': 'text/plain' },
    body,
  });
  expect(res.status).toBe(202);
  return ((await res.json()) as { messageId: string }).messageId;
};

async function finished(id: string): Promise<any> {
  return waitUntil(
    `job ${id} to finish`,
    async () => {
      const { body } = await platform.api('GET', `/api/v1/invocations/${id}`);
      return body.status === 'succeeded' || body.status === 'dead' ? body : undefined;
    },
    120_000,
    100,
  );
}

beforeAll(async () => {
  platform = await startTestPlatform({
    FAAS_PREWARM: '0',
    FAAS_ASYNC_MAX_WORKERS: String(MAX_WORKERS),
    FAAS_ASYNC_WORKER_IDLE_MS: '300',
    FAAS_RETRY_DELAY_MS: '1500',
  });
  observer = new Redis(platform.redis.url);
});

afterAll(async () => {
  observer?.disconnect();
  await platform?.stop();
});

describe('async at scale', () => {
  it('holds the same Redis connections with 0 or 120 functions and 60 queues deployed; serves more queues with work than it has workers; releases them when idle', async () => {
    const idle = await platformClients();
    baseline = idle;
    const names = Array.from({ length: 120 }, (_, i) => uniqueName(`many${i}`));
    const queues = names.slice(0, 60).map((n) => `q-${n}`);
    for (const [i, name] of names.entries()) {
      const { status } = await platform.deploy(name, ECHO, i < 60 ? { queues: [queues[i]] } : {});
      expect(status).toBe(201);
    }
    // Before: a worker (and its connection) per function and two per consumed queue, 240 more here.
    expect(await platformClients()).toBeLessThanOrEqual(idle + 1);

    // Work for 8 queues at once, with 3 workers: every job runs, connections stay bounded meanwhile.
    let most = 0;
    let sampling = true;
    const sampler = (async () => {
      while (sampling) {
        most = Math.max(most, await platformClients());
        await new Promise((r) => setTimeout(r, 20));
      }
    })();
    const ids = [
      ...(await Promise.all(names.slice(60, 66).map((name, i) => submit(name, `call ${i}`)))),
      ...(await Promise.all(queues.slice(0, 2).map((queue, i) => send(queue, `message ${i}`)))),
    ];
    const views = await Promise.all(ids.map(finished)).finally(() => {
      sampling = false;
    });
    await sampler;
    for (const [i, view] of views.entries()) {
      expect(view.status).toBe('succeeded');
      expect(view.result.body).toBe(i < 6 ? `ran call ${i}` : `ran message ${i - 6}`);
    }
    // A live worker holds one connection, a named queue's two (the batch fetcher); at most MAX_WORKERS live.
    expect(most - idle).toBeLessThanOrEqual(2 * MAX_WORKERS + 1);
    expect(most).toBeGreaterThan(idle);

    // Idle workers close: back to where it started.
    await waitUntil('idle async workers to close', async () => ((await platformClients()) <= idle ? true : undefined), 60_000, 100);
  }, 600_000);

  it('runs a retry due after its worker went idle', async () => {
    // Fails its first attempt; the retry is due 1.5 s later (FAAS_RETRY_DELAY_MS), long after the 300 ms idle close.
    const flaky = uniqueName('flaky');
    const code = `let n = 0; export default async () => { n += 1; if (n === 1) throw new Error('first attempt fails'); return 'attempt ' + n; };`;
    expect((await platform.deploy(flaky, code, { maxScale: 1 })).status).toBe(201);
    const id = await submit(flaky, '');
    const view = await finished(id);
    expect(view).toMatchObject({ status: 'succeeded', attempts: 2 });
    expect(view.result.body).toBe('attempt 2');
  }, 600_000);

  it('deleting every function leaves no worker and no doorbell entry behind', async () => {
    const { body } = await platform.api('GET', '/api/v1/functions');
    for (const fn of body.functions as Array<{ name: string }>) expect((await platform.api('DELETE', `/api/v1/functions/${fn.name}`)).status).toBe(204);
    const idle = await waitUntil(
      'every async worker to close',
      async () => {
        const doorbell = await observer.zcard(`${platform.config.redisPrefix}async:doorbell`);
        return doorbell === 0 ? await platformClients() : undefined;
      },
      60_000,
      100,
    );
    expect(idle).toBeLessThanOrEqual(baseline);
  }, 600_000);
});
