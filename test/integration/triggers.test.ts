// Queue, event and cron triggers end to end (real Redis, real containers), cron with two platform
// processes on one Redis.
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../platform/config.js';
import { startPlatform, type RunningPlatform } from '../../platform/start-platform.js';
import { startTestPlatform, uniqueName, waitUntil, type TestPlatform } from '../support/platform.js';

let platform: TestPlatform;

const send = (queue: string, body: string, contentType = 'text/plain') =>
  fetch(`${platform.url}/api/v1/queues/${queue}/messages`, {
    method: 'POST',
    headers: { authorization: `Bearer ${platform.token}`, 'content-type': contentType },
    body,
  });

const publish = (topic: string, body: string, headers: Record<string, string>) =>
  fetch(`${platform.url}/api/v1/events/${topic}`, { method: 'POST', headers: { authorization: `Bearer ${platform.token}`, ...headers }, body });

async function finished(id: string, timeoutMs = 30_000): Promise<any> {
  return waitUntil(
    `job ${id} to finish`,
    async () => {
      const { body } = await platform.api('GET', `/api/v1/invocations/${id}`);
      return body.status === 'succeeded' || body.status === 'dead' ? body : undefined;
    },
    timeoutMs,
  );
}

beforeAll(async () => {
  // A per-second cron below: this platform allows it (the default refuses schedules under a minute apart).
  platform = await startTestPlatform({ FAAS_RETRY_DELAY_MS: '100', FAAS_PREWARM: '0', FAAS_MIN_SCHEDULE_INTERVAL_MS: '1000' });
});

afterAll(async () => {
  await platform?.stop();
});

describe('queue triggers', () => {
  it('delivers each message to the consumer (web style) with the queue named in its headers', async () => {
    const name = uniqueName('consumer');
    const queue = `orders-${randomUUID().slice(0, 6)}`;
    const code = `export default async (req) => ({ body: await req.text(), type: req.headers.get('content-type'),
      trigger: req.headers.get('x-faas-trigger'), queue: req.headers.get('x-faas-queue'), attempt: req.headers.get('x-faas-attempt') });`;
    expect((await platform.deploy(name, code, { queues: [queue] })).status).toBe(201);
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) {
      const res = await send(queue, JSON.stringify({ order: i }), 'application/json');
      expect(res.status).toBe(202);
      const sent = (await res.json()) as { messageId: string; consumer: string };
      expect(sent.consumer).toBe(name);
      ids.push(sent.messageId);
    }
    for (const [i, id] of ids.entries()) {
      const view = await finished(id);
      expect(view).toMatchObject({ status: 'succeeded', trigger: 'queue', queue, function: name });
      expect(JSON.parse(view.result.body)).toEqual({ body: JSON.stringify({ order: i }), type: 'application/json', trigger: 'queue', queue, attempt: '1' });
    }
    // A second function cannot consume the same queue.
    const other = await platform.deploy(uniqueName('thief'), code, { queues: [queue] });
    expect(other.status).toBe(409);
    expect(other.body.error.message).toContain(name);
    expect((await platform.api('GET', '/api/v1/queues')).body.queues).toContainEqual({ queue, consumer: name, batchSize: 1 });
  });

  it('bounds concurrent runs by concurrency x maxScale and batches waiting messages (Lambda style, SQS-like event)', async () => {
    const name = uniqueName('batcher');
    const queue = `jobs-${randomUUID().slice(0, 6)}`;
    const code = `let running = 0, peak = 0;
      export const handler = async (event) => {
        running++; peak = Math.max(peak, running);
        await new Promise((r) => setTimeout(r, 700));
        running--;
        return { n: event.Records.length, bodies: event.Records.map((r) => r.body), source: event.Records[0].eventSource, peak };
      };`;
    await platform.deploy(name, code, { queues: [queue], batchSize: 10, maxScale: 1, concurrency: 1 });
    const ids: string[] = [];
    for (let i = 0; i < 6; i++) ids.push(((await (await send(queue, `m${i}`)).json()) as { messageId: string }).messageId);
    const views = await Promise.all(ids.map((id) => finished(id)));
    const results = views.map((v) => JSON.parse(v.result.body));
    expect(views.every((v) => v.status === 'succeeded')).toBe(true);
    // Every message was delivered exactly once, in fewer invocations than messages.
    const delivered = new Set(results.flatMap((r) => r.bodies));
    expect([...delivered].sort()).toEqual(['m0', 'm1', 'm2', 'm3', 'm4', 'm5']);
    expect(Math.max(...results.map((r) => r.n))).toBeGreaterThan(1);
    expect(results.every((r) => r.peak === 1 && r.source === 'aws:sqs')).toBe(true);
    const { body } = await waitUntil('invocation logs', async () => {
      const r = await platform.api('GET', `/api/v1/functions/${name}/logs`);
      const total = r.body.logs.length;
      return total >= new Set(results.map((r) => JSON.stringify(r.bodies))).size ? r : undefined;
    });
    expect(body.logs.length).toBeLessThan(6);
  });

  it('rejects a message for a queue nobody consumes with 400', async () => {
    const res = await send('nobody-reads-this', 'x');
    expect(res.status).toBe(400);
    expect(((await res.json()) as any).error).toMatchObject({ code: 'UNKNOWN_QUEUE' });
  });
});

describe('event triggers', () => {
  it('fans a CloudEvent out to every subscriber; a failing one retries and dead-letters without holding up the other', async () => {
    const topic = `orders.created.${randomUUID().slice(0, 6)}`;
    const good = uniqueName('sub-ok');
    const bad = uniqueName('sub-bad');
    await platform.deploy(
      good,
      `export default async (req) => ({ type: req.headers.get('ce-type'), source: req.headers.get('ce-source'),
      topic: req.headers.get('x-faas-topic'), data: await req.json() });`,
      { topics: [topic] },
    );
    await platform.deploy(bad, `export default () => { throw new Error('subscriber broken'); };`, { topics: [topic], maxAttempts: 2 });

    // Structured mode.
    const event = { specversion: '1.0', id: 'evt-1', source: '/shop', type: 'order.created', data: { order: 42 } };
    const res = await publish(topic, JSON.stringify(event), { 'content-type': 'application/cloudevents+json' });
    expect(res.status).toBe(202);
    const accepted = (await res.json()) as { deliveries: Array<{ function: string; invocationId: string }> };
    expect(accepted.deliveries.map((d) => d.function).sort()).toEqual([good, bad].sort());
    const byFn = Object.fromEntries(accepted.deliveries.map((d) => [d.function, d.invocationId]));
    const ok = await finished(byFn[good]!);
    expect(ok.status).toBe('succeeded');
    expect(JSON.parse(ok.result.body)).toEqual({ type: 'order.created', source: '/shop', topic, data: { order: 42 } });
    const dead = await finished(byFn[bad]!);
    expect(dead).toMatchObject({ status: 'dead', attempts: 2, topic, error: { code: 'FUNCTION_ERROR' } });

    // Binary mode, Lambda style: an EventBridge-like event.
    const lambda = uniqueName('sub-lambda');
    await platform.deploy(
      lambda,
      `export const handler = async (event) => ({ detailType: event['detail-type'], source: event.source, detail: event.detail, id: event.id });`,
      {
        topics: [topic],
      },
    );
    const binary = await publish(topic, JSON.stringify({ order: 43 }), {
      'content-type': 'application/json',
      'ce-specversion': '1.0',
      'ce-id': 'evt-2',
      'ce-source': '/shop',
      'ce-type': 'order.created',
    });
    expect(binary.status).toBe(202);
    const deliveries = ((await binary.json()) as typeof accepted).deliveries;
    expect(deliveries).toHaveLength(3);
    const lambdaView = await finished(deliveries.find((d) => d.function === lambda)!.invocationId);
    expect(JSON.parse(lambdaView.result.body)).toEqual({ detailType: 'order.created', source: '/shop', detail: { order: 43 }, id: 'evt-2' });

    // The same event (same source and id) again is not delivered twice.
    const again = (await (await publish(topic, JSON.stringify(event), { 'content-type': 'application/cloudevents+json' })).json()) as typeof accepted;
    expect(again.deliveries.find((d) => d.function === good)!.invocationId).toBe(byFn[good]);
  });

  it('rejects a malformed CloudEvent or an unknown topic with 400', async () => {
    const topic = `t-${randomUUID().slice(0, 6)}`;
    await platform.deploy(uniqueName('sub'), `export default () => 'ok';`, { topics: [topic] });
    const cases: Array<[Record<string, string>, string, RegExp]> = [
      [{ 'content-type': 'application/cloudevents+json' }, '{"specversion":"1.0","id":"1","type":"t"}', /source/],
      [{ 'content-type': 'application/cloudevents+json' }, '{"specversion":"0.3","id":"1","source":"s","type":"t"}', /specversion/],
      [{ 'content-type': 'application/cloudevents+json' }, 'not json', /not JSON/],
      [{ 'content-type': 'application/json' }, '{}', /ce-specversion/],
      [
        { 'content-type': 'application/json', 'ce-specversion': '1.0', 'ce-id': '1', 'ce-source': 's', 'ce-type': 't', 'ce-time': 'yesterday' },
        '{}',
        /RFC 3339/,
      ],
    ];
    for (const [headers, body, message] of cases) {
      const res = await publish(topic, body, headers);
      expect(res.status).toBe(400);
      const error = ((await res.json()) as any).error;
      expect(error.code).toBe('BAD_CLOUDEVENT');
      expect(error.message).toMatch(message);
    }
    const unknown = await publish('nobody-listens', '{"specversion":"1.0","id":"1","source":"s","type":"t"}', {
      'content-type': 'application/cloudevents+json',
    });
    expect(unknown.status).toBe(400);
    expect(((await unknown.json()) as any).error.code).toBe('UNKNOWN_TOPIC');
  });
});

describe('cron triggers', () => {
  const extra: RunningPlatform[] = [];
  const dirs: string[] = [];
  afterAll(async () => {
    for (const p of extra) await p.close().catch(() => {});
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  });

  it('fires once per tick with two platform processes on one Redis, and stops when the function is deleted', async () => {
    // A second gateway+invoker process on the same Redis: both run schedulers' jobs' workers.
    const dataDir = mkdtempSync(path.join(os.tmpdir(), 'faas-second-'));
    dirs.push(dataDir);
    extra.push(
      await startPlatform(
        loadConfig({
          ...process.env,
          REDIS_URL: platform.redis.url,
          FAAS_DATA_DIR: dataDir,
          FAAS_TOKEN: platform.token,
          FAAS_INVOKER_ID: `second-${randomUUID().slice(0, 6)}`,
          FAAS_LOG_LEVEL: 'warn',
          FAAS_PREWARM: '0',
        }),
        { port: 0 },
      ),
    );
    const name = uniqueName('tick');
    const code = `export default async (req) => { const body = await req.json(); return { scheduledAt: body.scheduledAt, header: req.headers.get('x-faas-schedule') }; };`;
    const countRuns = async () =>
      (await platform.api('GET', `/api/v1/usage?function=${name}&from=${new Date(Date.now() - 600_000).toISOString()}`)).body.rows?.[0]?.invocations ?? 0;
    const deployedAt = Date.now();
    expect((await platform.deploy(name, code, { schedules: [{ cron: '* * * * * *', timezone: 'Europe/Paris' }], maxScale: 4 })).status).toBe(201);
    // However slow this hour's first start: a few ticks have run (usage records ship in batches, so this lags).
    await waitUntil('three scheduled runs', async () => ((await countRuns()) >= 3 ? true : undefined), 120_000, 250);
    expect((await platform.api('DELETE', `/api/v1/functions/${name}`)).status).toBe(204);
    const windowS = (Date.now() - deployedAt) / 1000;
    // Settled: the same count twice, a second apart.
    let runs = await countRuns();
    for (let previous = -1; runs !== previous; ) {
      previous = runs;
      await new Promise((r) => setTimeout(r, 1_000));
      runs = await countRuns();
    }
    // Each tick of the measured window run once at most (two processes, not twice as many).
    expect(runs).toBeLessThanOrEqual(Math.ceil(windowS) + 1);
    // Deleted: no scheduler left, no more runs.
    await new Promise((r) => setTimeout(r, 2_000));
    expect(await countRuns()).toBeLessThanOrEqual(runs + 1);
  }, 240_000);
});
