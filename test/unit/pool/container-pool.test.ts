// ContainerPool on the in-memory engine with fake timers: scheduling, queueing, scaling, draining and
// pausing as a caller sees them, deterministic and without Docker.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { ContainerPool, type ContainerPoolOptions, type Lease } from '../../../invoker/pool/container-pool.js';
import { defaultFunctionConfig, type FunctionConfig, type FunctionSpec } from '../../../core/function-spec.js';
import { CapacityError, FunctionNotFoundError, QueueFullError, QueueTimeoutError } from '../../../core/errors.js';
import { InMemoryDriver, InMemoryRuntime, inMemoryPool } from '../../support/in-memory/in-memory-engine.js';
import { settle as settleIn } from '../../support/in-memory/fake-time.js';

let driver: InMemoryDriver;
let runtime: InMemoryRuntime;
let pool: ContainerPool;
let warnings: string[];

const spec = (name: string, over: Partial<FunctionConfig> & { version?: number } = {}): FunctionSpec => ({
  ...defaultFunctionConfig(),
  name,
  version: 1,
  codeSha256: `sha-${name}-${over.version ?? 1}`,
  codeBytes: 10,
  createdAt: '2026-12-01T00:00:00Z',
  updatedAt: '2026-12-01T00:00:00Z',
  ...over,
});

function makePool(over: Partial<ContainerPoolOptions> = {}): ContainerPool {
  pool = new ContainerPool(inMemoryPool({ driver, runtime }, { reapIntervalMs: 100, log: { info() {}, warn: (_obj, msg) => warnings.push(msg) }, ...over }));
  return pool;
}

/** Runs timers and the promises they settle for `ms` of fake time. */
const pass = (ms: number) => vi.advanceTimersByTimeAsync(ms);

const settle = <T>(promise: Promise<T>) => settleIn(promise, 1_000);

beforeEach(async () => {
  vi.useFakeTimers();
  driver = new InMemoryDriver();
  runtime = new InMemoryRuntime();
  warnings = [];
});
afterEach(async () => {
  const closing = pool?.close(0);
  await pass(1_000);
  await closing;
  vi.useRealTimers();
  // No call ever hit a state the state machine refuses.
  expect(warnings.filter((w) => w === 'container state machine')).toEqual([]);
});

describe('ContainerPool', () => {
  it('cold-starts a container for the first call and reuses it warm for the next', async () => {
    makePool();
    await pool.start();
    const fn = spec('hello');
    const first = await settle(pool.acquire(fn));
    expect(first.coldStart).toBe(true);
    pool.release(first);
    const second = await settle(pool.acquire(fn));
    expect(second.coldStart).toBe(false);
    expect(second.containerId).toBe(first.containerId);
    expect(driver.operations.filter((op) => op.startsWith('run'))).toEqual(['run hello']);
    pool.release(second);
  });

  it('queues calls past the running containers in FIFO order and hands each freed slot to the oldest', async () => {
    makePool();
    await pool.start();
    const fn = spec('fifo', { maxScale: 1 });
    const first = await settle(pool.acquire(fn));
    const order: number[] = [];
    const waiting = [1, 2, 3].map((n) =>
      pool.acquire(fn).then((lease) => {
        order.push(n);
        return lease;
      }),
    );
    await pass(50);
    expect(order).toEqual([]);
    pool.release(first);
    const second = await settle(waiting[0]!);
    expect(order).toEqual([1]);
    pool.release(second);
    pool.release(await settle(waiting[1]!));
    pool.release(await settle(waiting[2]!));
    expect(order).toEqual([1, 2, 3]);
    expect(driver.containers.size).toBe(1);
  });

  it('refuses a call when the queue is full (429) and times out one that waited too long (503)', async () => {
    makePool({ maxQueue: 2, maxQueueWaitMs: 1_000 });
    await pool.start();
    const fn = spec('busy', { maxScale: 1 });
    const held = await settle(pool.acquire(fn));
    const queued = [pool.acquire(fn), pool.acquire(fn)];
    for (const q of queued) q.catch(() => {});
    await expect(pool.acquire(fn)).rejects.toBeInstanceOf(QueueFullError);
    await pass(1_000);
    for (const q of queued) await expect(q).rejects.toBeInstanceOf(QueueTimeoutError);
    pool.release(held);
  });

  it('scales out up to maxScale while calls wait, and back to zero once idle for idleTimeoutMs', async () => {
    makePool();
    await pool.start();
    const fn = spec('scale', { maxScale: 3, idleTimeoutMs: 2_000 });
    const calls = [1, 2, 3, 4].map(() => pool.acquire(fn));
    await pass(200);
    // Three containers (maxScale), three calls in them, the fourth waiting for a free slot.
    expect(driver.of('scale')).toHaveLength(3);
    const running = await Promise.all(calls.slice(0, 3).map((c) => settle(c)));
    expect(pool.counts().busy).toBe(3);
    pool.release(running[0]!);
    const fourth = await settle(calls[3]!);
    expect(fourth.containerId).toBe(running[0]!.containerId);
    for (const lease of [...running.slice(1), fourth]) pool.release(lease);
    await pass(1_900);
    expect(driver.of('scale')).toHaveLength(3);
    await pass(300);
    expect(driver.of('scale')).toHaveLength(0);
    expect(pool.counts()).toMatchObject({ idle: 0, busy: 0, removing: 0 });
  });

  it('keeps a warm pool per version: a redeploy starts the new version, the old one stays warm for a rollback until its idle timeout', async () => {
    makePool();
    await pool.start();
    const v1 = spec('app', { idleTimeoutMs: 1_000 });
    const old = await settle(pool.acquire(v1));
    const v2 = spec('app', { version: 2, idleTimeoutMs: 1_000 });
    pool.setFunction(v2);
    const fresh = await settle(pool.acquire(v2));
    expect(fresh.version).toBe(2);
    expect(fresh.containerId).not.toBe(old.containerId);
    pool.release(old);
    pool.release(fresh);
    await pass(50);
    expect(
      driver
        .of('app')
        .map((c) => c.spec.version)
        .sort(),
    ).toEqual([1, 2]);
    // Back to version 1 (a rollback): its container is still warm, no cold start.
    const again = await settle(pool.acquire(v1));
    expect(again.containerId).toBe(old.containerId);
    expect(again.coldStart).toBe(false);
    pool.release(again);
    await pass(1_300);
    expect(driver.containers.size).toBe(0);
  });

  it('deleting a version (or the function) removes its containers; the versions kept stay', async () => {
    makePool();
    await pool.start();
    const v1 = spec('app');
    const v2 = spec('app', { version: 2 });
    pool.release(await settle(pool.acquire(v1)));
    pool.release(await settle(pool.acquire(v2)));
    pool.removeFunction('app', [2]);
    await pass(50);
    expect(driver.of('app').map((c) => c.spec.version)).toEqual([2]);
    pool.removeFunction('app');
    await pass(50);
    expect(driver.containers.size).toBe(0);
  });

  it("holds maxScale across a function's versions: a call to another version waits for a running one", async () => {
    makePool();
    await pool.start();
    const v1 = spec('capped', { maxScale: 1 });
    const v2 = spec('capped', { version: 2, maxScale: 1 });
    const busy = await settle(pool.acquire(v1));
    let second: Lease | undefined;
    void pool.acquire(v2).then((lease) => (second = lease));
    await pass(200);
    expect(second).toBeUndefined();
    expect(driver.of('capped')).toHaveLength(1);
    pool.release(busy);
    await pass(200);
    expect(second?.version).toBe(2);
    pool.release(second!);
  });

  it('recycles a function (its secrets changed): idle containers go at once, busy ones when their call ends, none takes a new call', async () => {
    makePool();
    await pool.start();
    const fn = spec('secretive', { concurrency: 2 });
    const idle = await settle(pool.acquire(fn));
    pool.release(idle);
    const busy = await settle(pool.acquire(fn));
    expect(busy.containerId).toBe(idle.containerId);
    const other = await settle(pool.acquire(spec('secretive', { concurrency: 2 })));
    pool.release(other);
    pool.recycle('secretive', 'secrets changed');
    const fresh = await settle(pool.acquire(fn));
    expect(fresh.containerId).not.toBe(busy.containerId);
    expect(driver.of('secretive')).toHaveLength(2);
    pool.release(busy);
    await pass(50);
    // The recycled one is gone; the fresh one stays warm.
    expect(driver.of('secretive')).toHaveLength(1);
    pool.release(fresh);
    const warm = await settle(pool.acquire(fn));
    expect(warm.containerId).toBe(fresh.containerId);
    pool.release(warm);
  });

  it('never serves a function deployed again under the same version from the deleted one’s busy container', async () => {
    makePool();
    await pool.start();
    const old = await settle(pool.acquire(spec('again')));
    pool.removeFunction('again');
    pool.setFunction(spec('again', { memoryMb: 256 }));
    pool.release(old);
    const next = await settle(pool.acquire(spec('again', { memoryMb: 256 })));
    expect(next.containerId).not.toBe(old.containerId);
    pool.release(next);
  });

  it('holds minScale only for versions an alias routes to (keepsWarm)', async () => {
    const routed = new Set(['app@2']);
    makePool({ keepsWarm: (fn, version) => routed.has(`${fn}@${version}`) });
    await pool.start();
    pool.setFunction(spec('app', { minScale: 1 }));
    pool.setFunction(spec('app', { version: 2, minScale: 1 }));
    await pass(500);
    expect(driver.of('app').map((c) => c.spec.version)).toEqual([2]);
  });

  it('freezes a container as soon as its last call ends, and resumes it for the next call', async () => {
    makePool({ pauseAfterMs: 0 });
    await pool.start();
    const fn = spec('frozen');
    const first = await settle(pool.acquire(fn));
    pool.release(first);
    await pass(10);
    expect(driver.of('frozen', 'paused')).toHaveLength(1);
    expect(pool.counts().paused).toBe(1);
    const second = await settle(pool.acquire(fn));
    expect(driver.of('frozen', 'running')).toHaveLength(1);
    expect(driver.operations.filter((op) => /^(pause|resume)/.test(op)).map((op) => op.split(' ')[0])).toEqual(['pause', 'resume']);
    expect(pool.counts().busy).toBe(1);
    pool.release(second);
  });

  it('gives a call that finds its container still being frozen the container without waiting for the freeze to finish', async () => {
    makePool({ pauseAfterMs: 0 });
    // A young runtime's busy threads take milliseconds to freeze; here the engine takes 500 ms to report it.
    driver.pauseMs = 500;
    await pool.start();
    const fn = spec('slow-freeze');
    const first = await settle(pool.acquire(fn));
    pool.release(first);
    await pass(5);
    let second: Lease | undefined;
    void pool.acquire(fn).then((lease) => (second = lease));
    await pass(5);
    expect(second?.containerId).toBe(first.containerId);
    expect(driver.of('slow-freeze', 'running')).toHaveLength(1);
    expect(driver.operations.filter((op) => /^(pause|stopPausing|resume) /.test(op)).map((op) => op.split(' ')[0])).toEqual(['pause', 'stopPausing', 'resume']);
    pool.release(second!);
  });

  it('fails the waiting calls at once when their container cannot start', async () => {
    makePool();
    await pool.start();
    driver.failRuns.push(new Error('engine said no'));
    const call = pool.acquire(spec('broken'));
    call.catch(() => {});
    await pass(200);
    await expect(call).rejects.toBeInstanceOf(CapacityError);
    await expect(call).rejects.toThrow(/engine said no/);
  });

  it('fails the waiting calls of a deleted function with 404', async () => {
    makePool();
    await pool.start();
    const fn = spec('gone', { maxScale: 1 });
    const held = await settle(pool.acquire(fn));
    const waiting = pool.acquire(fn);
    waiting.catch(() => {});
    pool.removeFunction('gone');
    await expect(waiting).rejects.toBeInstanceOf(FunctionNotFoundError);
    pool.release(held);
    await pass(50);
    expect(driver.of('gone')).toHaveLength(0);
  });

  it("evicts another function's idle container when the pool's memory is full", async () => {
    makePool({ poolMemoryMb: 256 });
    await pool.start();
    const a = spec('a', { memoryMb: 256 });
    pool.release(await settle(pool.acquire(a)));
    const b = spec('b', { memoryMb: 256 });
    const lease = await settle(pool.acquire(b));
    expect(driver.of('a')).toHaveLength(0);
    expect(driver.of('b')).toHaveLength(1);
    pool.release(lease);
  });

  it('keeps minScale containers started ahead, and such a container serves its first call warm', async () => {
    makePool();
    await pool.start();
    const fn = spec('kept', { minScale: 2 });
    pool.setFunction(fn);
    await pass(500);
    expect(driver.of('kept')).toHaveLength(2);
    const lease = await settle(pool.acquire(fn));
    expect(lease.coldStart).toBe(false);
    pool.release(lease);
  });
});
