// InProcessInvoker on the in-memory engine with fake timers: what a caller and the meter see for each way a
// call can end, and what becomes of the container, without Docker.
import { randomUUID } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { FunctionCrashedError, FunctionHandlerError, FunctionNotFoundError, FunctionOutOfMemoryError, FunctionTimeoutError } from '../../../core/errors.js';
import { defaultFunctionConfig, type FunctionConfig } from '../../../core/function-spec.js';
import type { InvocationFinished, InvocationRequest } from '../../../core/invoker.js';
import { InProcessInvoker } from '../../../invoker/in-process-invoker.js';
import { setAlias, VERSION_KEY_HEADER } from '../../../core/releases.js';
import { ContainerPool } from '../../../invoker/pool/container-pool.js';
import { RuntimeConnectionError } from '../../../invoker/runtime/runtime-connection.js';
import { InMemoryDriver, InMemoryRuntime, inMemoryPool } from '../../support/in-memory/in-memory-engine.js';
import { settle as settleIn } from '../../support/in-memory/fake-time.js';
import { InMemoryRegistry } from '../../support/in-memory/in-memory-registry.js';

let driver: InMemoryDriver;
let runtime: InMemoryRuntime;
let registry: InMemoryRegistry;
let invoker: InProcessInvoker;
let finished: InvocationFinished[];

const request = (fn: string): InvocationRequest => ({
  invocationId: randomUUID(),
  fn,
  trigger: 'http',
  method: 'GET',
  path: '/',
  rawQuery: '',
  headers: {},
  body: Buffer.alloc(0),
  receivedAt: Date.now(),
});

const deploy = (name: string, config: Partial<FunctionConfig> = {}) =>
  registry.deploy({ name, code: Buffer.from('x'), config: { ...defaultFunctionConfig(), ...config } });

const settle = <T>(promise: Promise<T>) => settleIn(promise, 5_000);

beforeEach(() => {
  vi.useFakeTimers();
  driver = new InMemoryDriver();
  runtime = new InMemoryRuntime();
  registry = new InMemoryRegistry();
  const pool = new ContainerPool(inMemoryPool({ driver, runtime }, { poolMemoryMb: 1_024 }));
  invoker = new InProcessInvoker({ registry, pool, clock: () => Date.now() });
  finished = [];
  invoker.onInvocationFinished((event) => finished.push(event));
});
afterEach(async () => {
  const closing = invoker.close();
  await vi.advanceTimersByTimeAsync(1_000);
  await closing;
  vi.useRealTimers();
});

describe('InProcessInvoker', () => {
  it('answers with the function’s reply and records one ok invocation, cold then warm', async () => {
    await deploy('hello');
    runtime.handler = async () => ({ status: 201, headers: { 'x-a': '1' }, body: Buffer.from('made'), logs: 'said hi' });
    const first = await settle(invoker.invoke(request('hello')));
    expect(first).toMatchObject({ status: 201, headers: { 'x-a': '1' }, meta: { fn: 'hello', version: 1, coldStart: true } });
    expect(first.body.toString()).toBe('made');
    const second = await settle(invoker.invoke(request('hello')));
    expect(second.meta.coldStart).toBe(false);
    expect(finished.map((e) => [e.status, e.httpStatus, e.logs, e.coldStart])).toEqual([
      ['ok', 201, 'said hi', true],
      ['ok', 201, 'said hi', false],
    ]);
  });

  it('refuses an unknown function with 404 and records nothing', async () => {
    await expect(invoker.invoke(request('nobody'))).rejects.toBeInstanceOf(FunctionNotFoundError);
    expect(finished).toEqual([]);
  });

  it('a call past its timeout gets 504, is recorded as a timeout, and its container is replaced', async () => {
    await deploy('slow', { timeoutMs: 1_000 });
    runtime.handler = () => new Promise(() => {});
    const call = invoker.invoke(request('slow'));
    call.catch(() => {});
    await expect(settle(call)).rejects.toBeInstanceOf(FunctionTimeoutError);
    expect(finished).toMatchObject([{ status: 'timeout', httpStatus: 504 }]);
    await vi.advanceTimersByTimeAsync(100);
    expect(driver.of('slow')).toHaveLength(0);
  });

  it('a handler that throws is a function error; the container serves on', async () => {
    await deploy('thrower');
    runtime.handler = async () => ({ status: 500, headers: {}, body: Buffer.alloc(0), logs: 'boom', error: { kind: 'handler', message: 'boom' } });
    await expect(settle(invoker.invoke(request('thrower')))).rejects.toBeInstanceOf(FunctionHandlerError);
    expect(finished).toMatchObject([{ status: 'function_error', logs: 'boom' }]);
    expect(driver.of('thrower')).toHaveLength(1);
  });

  it('a container killed for memory is told apart from a crash, and is replaced', async () => {
    await deploy('hungry', { memoryMb: 64 });
    runtime.handler = async () => {
      for (const c of driver.of('hungry')) c.exit = { running: false, exitCode: 137, oomKilled: true };
      throw new RuntimeConnectionError('socket hang up');
    };
    await expect(settle(invoker.invoke(request('hungry')))).rejects.toBeInstanceOf(FunctionOutOfMemoryError);
    expect(finished).toMatchObject([{ status: 'out_of_memory' }]);
    runtime.handler = async () => {
      for (const c of driver.of('hungry')) c.exit = { running: false, exitCode: 1, oomKilled: false };
      throw new RuntimeConnectionError('socket hang up');
    };
    await expect(settle(invoker.invoke(request('hungry')))).rejects.toBeInstanceOf(FunctionCrashedError);
    expect(finished[1]).toMatchObject({ status: 'crashed', errorMessage: expect.stringContaining('exit code 1') });
  });

  it('a container gone before the call (the request never reached it) is retried once on another', async () => {
    await deploy('flaky');
    let calls = 0;
    runtime.handler = async () => {
      calls += 1;
      if (calls === 1) throw new RuntimeConnectionError('no connection', { notDelivered: true });
      return { status: 200, headers: {}, body: Buffer.from('second'), logs: '' };
    };
    const answer = await settle(invoker.invoke(request('flaky')));
    expect(answer.body.toString()).toBe('second');
    expect(calls).toBe(2);
    expect(finished).toMatchObject([{ status: 'ok' }]);
  });

  it('sends new calls to a redeployed version', async () => {
    await deploy('app');
    await settle(invoker.invoke(request('app')));
    await deploy('app', { memoryMb: 256 });
    await vi.advanceTimersByTimeAsync(10);
    const answer = await settle(invoker.invoke(request('app')));
    expect(answer.meta.version).toBe(2);
    await vi.advanceTimersByTimeAsync(100);
    // Version 1's container stays warm (a rollback would find it) until its idle timeout.
    expect(
      driver
        .of('app')
        .map((c) => c.spec.version)
        .sort(),
    ).toEqual([1, 2]);
  });

  it("starts a container for an alias's new version ahead of its first call when the old one was warm here", async () => {
    await deploy('ahead');
    await settle(invoker.invoke(request('ahead')));
    await deploy('ahead', { memoryMb: 256 });
    await vi.advanceTimersByTimeAsync(100);
    expect(
      driver
        .of('ahead')
        .map((c) => c.spec.version)
        .sort(),
    ).toEqual([1, 2]);
    const first = await settle(invoker.invoke(request('ahead')));
    expect(first.meta).toMatchObject({ version: 2, coldStart: false });
    // A function with nothing warm here gets nothing ahead.
    await deploy('cold-one');
    await deploy('cold-one', { memoryMb: 256 });
    await vi.advanceTimersByTimeAsync(100);
    expect(driver.of('cold-one')).toHaveLength(0);
  });

  it('calls a version by number or alias, splits a canary by routing key, and says when either does not exist', async () => {
    await deploy('app');
    await deploy('app', { memoryMb: 256 });
    expect((await settle(invoker.invoke({ ...request('app'), qualifier: '1' }))).meta.version).toBe(1);
    await registry.updateReleases('app', (r) => setAlias(r.releases, 'app', 'prod', { version: 1, canary: { version: 2, percent: 50 } }, 'now'));
    const seen = new Map<string, number>();
    for (const key of ['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h']) {
      const first = await settle(invoker.invoke({ ...request('app'), qualifier: 'prod', headers: { [VERSION_KEY_HEADER]: key } }));
      const second = await settle(invoker.invoke({ ...request('app'), qualifier: 'prod', headers: { [VERSION_KEY_HEADER]: key } }));
      expect(second.meta.version).toBe(first.meta.version);
      seen.set(key, first.meta.version);
    }
    expect(new Set(seen.values())).toEqual(new Set([1, 2]));
    await expect(invoker.invoke({ ...request('app'), qualifier: '7' })).rejects.toMatchObject({ code: 'VERSION_NOT_FOUND', status: 404 });
    await expect(invoker.invoke({ ...request('app'), qualifier: 'nope' })).rejects.toMatchObject({ code: 'ALIAS_NOT_FOUND', status: 404 });
  });
});
