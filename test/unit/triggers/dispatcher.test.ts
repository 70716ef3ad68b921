// The async dispatcher's processor on the in-memory engine with fake timers: what becomes of a job for each
// way its invocation can end, batches with partial failures, and lock renewal — without BullMQ or Redis.
import { DelayedError, UnrecoverableError, type Job } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { QuotaExceededError } from '../../../core/errors.js';
import { defaultFunctionConfig, type FunctionConfig } from '../../../core/function-spec.js';
import { InProcessInvoker } from '../../../invoker/in-process-invoker.js';
import { ContainerPool } from '../../../invoker/pool/container-pool.js';
import { AsyncDispatcher } from '../../../triggers/dispatcher.js';
import type { JobData, StoredResult } from '../../../triggers/job.js';
import { InMemoryDriver, InMemoryRuntime, inMemoryPool } from '../../support/in-memory/in-memory-engine.js';
import { settle as settleIn } from '../../support/in-memory/fake-time.js';
import { InMemoryRegistry } from '../../support/in-memory/in-memory-registry.js';

let runtime: InMemoryRuntime;
let registry: InMemoryRegistry;
let invoker: InProcessInvoker;
let dispatcher: AsyncDispatcher;
let admitted: (fn: string) => void;

const silent = { info() {}, warn() {}, error() {}, debug() {}, child: () => silent } as unknown as Logger;
const b64 = (s: string) => Buffer.from(s).toString('base64');

/** A job as BullMQ hands it to the processor, recording what the dispatcher does with it. */
function job(id: string, data: JobData, attemptsMade = 0, attempts = 3) {
  const j = {
    id,
    data,
    queueName: data.trigger === 'queue' ? `q.${data.message.queue}` : `fn.${data.fn}`,
    delayedUntil: undefined as number | undefined,
    moveToDelayed: async (until: number) => void (j.delayedUntil = until),
    attemptsMade,
    timestamp: Date.now(),
    delay: 0,
    opts: { attempts },
    logs: [] as string[],
    extended: 0,
    completed: undefined as StoredResult | undefined,
    failed: undefined as Error | undefined,
    log: async (line: string) => void j.logs.push(line),
    extendLock: async () => void (j.extended += 1),
    moveToCompleted: async (result: StoredResult) => void (j.completed = result),
    moveToFailed: async (err: Error) => void (j.failed = err),
  };
  return j;
}
const asJob = (j: ReturnType<typeof job>) => j as unknown as Job<JobData>;

const asyncCall = (fn: string): JobData => ({
  trigger: 'async',
  fn,
  acceptedAt: Date.now(),
  request: { method: 'POST', path: '/', rawQuery: '', headers: {}, body: b64('hi') },
});
const message = (fn: string, queue: string): JobData => ({ trigger: 'queue', fn, acceptedAt: Date.now(), message: { queue, body: b64('m') } });

const deploy = (name: string, config: Partial<FunctionConfig> = {}) =>
  registry.deploy({ name, code: Buffer.from('x'), config: { ...defaultFunctionConfig(), ...config } });

const settle = <T>(promise: Promise<T>) => settleIn(promise, 60_000);

beforeEach(() => {
  vi.useFakeTimers();
  runtime = new InMemoryRuntime();
  registry = new InMemoryRegistry();
  const pool = new ContainerPool(inMemoryPool({ driver: new InMemoryDriver(), runtime }, { poolMemoryMb: 4_096 }));
  invoker = new InProcessInvoker({ registry, pool, clock: () => Date.now() });
  admitted = () => {};
  dispatcher = new AsyncDispatcher({
    // No Redis here: process() is driven directly; the queued-bytes scripts are defined on it at construction.
    connection: { defineCommand: () => {} } as unknown as Redis,
    redisPrefix: 'unit:',
    registry,
    invoker,
    events: invoker,
    stallMs: 1_000,
    slots: { max: 4, idleMs: 5_000, fairShareMs: 10_000 },
    maxResultBytes: 1024 * 1024,
    admit: (fn) => admitted(fn),
    log: silent,
  });
});
afterEach(async () => {
  const closing = invoker.close();
  await vi.advanceTimersByTimeAsync(1_000);
  await closing;
  vi.useRealTimers();
});

describe('AsyncDispatcher.process', () => {
  it('runs an async call and keeps its answer as the result, with the run’s log line', async () => {
    await deploy('worker');
    runtime.handler = async (req) => ({
      status: 200,
      headers: { 'content-type': 'text/plain' },
      body: Buffer.from(`got ${req.body.toString()}`),
      logs: 'hello from the run',
    });
    const result = await settle(dispatcher.process('worker', undefined, asJob(job('j1', asyncCall('worker'))), 'token'));
    expect(result).toMatchObject({ status: 200, body: 'got hi', bodyEncoding: 'utf8', coldStart: true });
    expect(result.log).toMatch(/^attempt 1: 200 in [\d.]+ ms \(cold start\)\nhello from the run$/);
  });

  it('retries a 5xx answer or a timeout, and dead-letters a 4xx answer at once', async () => {
    await deploy('flaky', { timeoutMs: 500 });
    runtime.handler = async () => ({ status: 503, headers: {}, body: Buffer.from('busy'), logs: '' });
    const failed = settle(dispatcher.process('flaky', undefined, asJob(job('j2', asyncCall('flaky'))), 't'));
    await expect(failed).rejects.toThrow(/^FUNCTION_FAILED: the function answered 503: busy$/);
    await expect(failed).rejects.not.toBeInstanceOf(UnrecoverableError);
    runtime.handler = async () => ({ status: 422, headers: {}, body: Buffer.alloc(0), logs: '' });
    await expect(settle(dispatcher.process('flaky', undefined, asJob(job('j3', asyncCall('flaky'))), 't'))).rejects.toBeInstanceOf(UnrecoverableError);
    runtime.handler = () => new Promise(() => {});
    const slow = settle(dispatcher.process('flaky', undefined, asJob(job('j4', asyncCall('flaky'))), 't'));
    await expect(slow).rejects.toThrow(/^FUNCTION_TIMEOUT/);
    await expect(slow).rejects.not.toBeInstanceOf(UnrecoverableError);
  });

  it('dead-letters a job older than maxEventAge without running it', async () => {
    await deploy('late', { maxEventAgeMs: 1_000 });
    let ran = false;
    runtime.handler = async () => {
      ran = true;
      return { status: 200, headers: {}, body: Buffer.alloc(0), logs: '' };
    };
    const old = job('j5', { ...asyncCall('late'), acceptedAt: Date.now() - 5_000 });
    await expect(settle(dispatcher.process('late', undefined, asJob(old), 't'))).rejects.toThrow(/^EVENT_TOO_OLD/);
    expect(ran).toBe(false);
    expect(old.logs[0]).toMatch(/not run, EVENT_TOO_OLD/);
  });

  it('fails an attempt past the tenant’s quota with its code (retried later), and a deleted function for good', async () => {
    await deploy('acme.metered');
    admitted = () => {
      throw new QuotaExceededError('tenant "acme" used its GB-seconds');
    };
    const refused = settle(dispatcher.process('acme.metered', undefined, asJob(job('j6', asyncCall('acme.metered'))), 't'));
    await expect(refused).rejects.toThrow(/^QUOTA_EXCEEDED/);
    await expect(refused).rejects.not.toBeInstanceOf(UnrecoverableError);
    await expect(dispatcher.process('gone', undefined, asJob(job('j7', asyncCall('gone'))), 't')).rejects.toBeInstanceOf(UnrecoverableError);
  });

  it("hands a named queue's message back to wait for the next consumer when its consumer is gone, the attempt not counted", async () => {
    const orphan = job('q1', message('deleted', 'orders'));
    await expect(dispatcher.process('deleted', undefined, asJob(orphan), 't')).rejects.toBeInstanceOf(DelayedError);
    expect(orphan.delayedUntil).toBeGreaterThan(Date.now());
    expect(orphan.failed).toBeUndefined();
    // A function's own async call has no other consumer: that one is over for good.
    const own = job('a1', asyncCall('deleted'));
    await expect(dispatcher.process('deleted', undefined, asJob(own), 't')).rejects.toBeInstanceOf(UnrecoverableError);
    expect(own.delayedUntil).toBeUndefined();
  });

  it('runs a queue batch in one invocation, fails only the messages reported in batchItemFailures, and keeps the extra messages locked meanwhile', async () => {
    await deploy('consumer', { queues: ['orders'], batchSize: 3, timeoutMs: 5_000 });
    const extras = [job('m2', message('consumer', 'orders')), job('m3', message('consumer', 'orders'))];
    const fetcher = { getNextJob: async () => (extras.length ? asJob(extras.shift()!) : undefined) } as unknown as Parameters<AsyncDispatcher['process']>[1];
    const taken = [...extras];
    let batchSize = 0;
    runtime.handler = async (req) => {
      batchSize = (JSON.parse(req.body.toString()) as { messages: unknown[] }).messages.length;
      await new Promise((r) => setTimeout(r, 1_200)); // longer than half the lock: renewals happen
      return {
        status: 200,
        headers: { 'content-type': 'application/json' },
        body: Buffer.from(JSON.stringify({ batchItemFailures: [{ itemIdentifier: 'm3' }] })),
        logs: '',
      };
    };
    const first = job('m1', message('consumer', 'orders'));
    const result = await settle(dispatcher.process('consumer', fetcher, asJob(first), 'token'));
    expect(batchSize).toBe(3);
    expect(result.status).toBe(200);
    expect(taken[0]!.completed).toBeDefined();
    expect(taken[1]!.failed?.message).toMatch(/^MESSAGE_FAILED/);
    expect(taken.every((t) => t.extended >= 1)).toBe(true);
  });
});
