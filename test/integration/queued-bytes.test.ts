// A tenant's queued bytes in a real Redis, on an auto-pipelined connection as the platform uses it.
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { functionId } from '../../tenancy/names.js';
import { functionQueueName } from '../../triggers/job-ids.js';
import { QueuedBytes } from '../../triggers/queued-bytes.js';
import { startRedis, type TestRedis } from '../support/services.js';

let redis: TestRedis;
let client: Redis;

beforeAll(async () => {
  redis = await startRedis();
  client = new Redis(redis.url, { maxRetriesPerRequest: null, enableAutoPipelining: true });
});
afterAll(async () => {
  client?.disconnect();
  await redis?.stop();
});

describe('QueuedBytes', () => {
  it("admits a first reservation sent in the same tick as another command on the shared connection (ioredis's auto-pipeline)", async () => {
    const prefix = `t${Math.random()}:`;
    const queue = functionQueueName(functionId('acme', 'f'));
    const bytes = new QueuedBytes({ redis: client, prefix, defaultLimitBytes: 100 });
    // The async accept path: another command of the same event-loop turn opens the auto-pipeline first.
    const other = client.hset(`${prefix}meta`, 'concurrency', 1);
    expect(await bytes.reserve('acme', [{ queue, bytes: 60 }])).toEqual({ admitted: true });
    await other;
    expect(await bytes.reserve('acme', [{ queue, bytes: 60 }])).toEqual({ admitted: false, usedBytes: 60, limitBytes: 100 });
    await bytes.release(queue, 60);
    expect(await client.hgetall(`${prefix}queued-bytes:acme`)).toEqual({});
  });
});
