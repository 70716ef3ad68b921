// The prewarmed pool refills once memory allows again, and backs off after failed starts (fake timers, fake starter).
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { Entry } from '../../../invoker/pool/container-entry.js';
import type { ContainerStarter } from '../../../invoker/pool/container-starter.js';
import { PrewarmPool } from '../../../invoker/pool/prewarm-pool.js';

class FakeStarter {
  next = 0;
  started: string[] = [];
  runtimes: string[] = [];
  failWith: Error | undefined;
  newId() {
    return `p${++this.next}`;
  }
  socketDirOf(id: string) {
    return `/tmp/sock/${id}`;
  }
  async startPrewarmed(entry: Entry, runtime = 'node20'): Promise<boolean> {
    this.started.push(entry.id);
    this.runtimes.push(runtime);
    if (this.failWith) throw this.failWith;
    return true;
  }
}

let starter: FakeStarter;
let freeMb: number;
let pool: PrewarmPool;

let lastCallAt = 0;

const make = (count = 2) =>
  new PrewarmPool({
    lastCallAt: () => lastCallAt,
    starter: starter as unknown as ContainerStarter,
    count,
    memoryMb: 128,
    // The pool's free memory: what is left once the prewarmed entries are counted.
    hasRoom: (memoryMb) => freeMb - pool.entries.size * 128 >= memoryMb,
    clock: () => Date.now(),
    remove: async (entries, entry) => {
      entry.phase = 'removing';
      entries.delete(entry.id);
    },
    log: { warn() {} },
    retryMs: 1_000,
    maxBackoffMs: 8_000,
  });

/** A pool of `count` prewarmed runtimes, filled, with one taken for a cold start. */
async function fillAndTake(count: number): Promise<void> {
  freeMb = 10_000;
  pool = make(count);
  pool.fill();
  await vi.advanceTimersByTimeAsync(0);
  expect(pool.take()).toBeDefined();
}

const ready = () => [...pool.entries.values()].filter((e) => e.phase === 'idle').length;

beforeEach(() => {
  vi.useFakeTimers();
  starter = new FakeStarter();
  lastCallAt = 0;
});
afterEach(async () => {
  await pool.close();
  vi.useRealTimers();
});

describe('PrewarmPool', () => {
  it('keeps count of each runtime in use, and takes only one of the runtime asked for', async () => {
    freeMb = 10_000;
    pool = make(1);
    pool.fill();
    await vi.advanceTimersByTimeAsync(0);
    expect(starter.runtimes).toEqual(['node20']);
    expect(pool.take('node22')).toBeUndefined();
    pool.use('node22');
    await vi.advanceTimersByTimeAsync(0);
    expect(starter.runtimes).toEqual(['node20', 'node22']);
    const taken = pool.take('node22');
    expect(taken?.id).toBe('p2');
    expect(pool.take('node22')).toBeUndefined();
    pool.replaceTaken('node22');
    // Its replacement is of its runtime; the default runtime's is left as it is.
    await vi.advanceTimersByTimeAsync(1_000);
    expect(starter.runtimes).toEqual(['node20', 'node22', 'node22']);
    expect(pool.take()?.id).toBe('p1');
  });

  it('fills up to count as memory allows', async () => {
    freeMb = 10_000;
    pool = make(3);
    pool.fill();
    await vi.advanceTimersByTimeAsync(0);
    expect(ready()).toBe(3);
  });

  it('refills once memory appears after a fill found no room, without another fill() call', async () => {
    freeMb = 128; // room for one of two
    pool = make(2);
    pool.fill();
    await vi.advanceTimersByTimeAsync(0);
    expect(ready()).toBe(1);
    await vi.advanceTimersByTimeAsync(5_000);
    expect(starter.started).toHaveLength(1); // still no room: nothing started, nothing lost
    freeMb = 1_024; // a function container went away
    await vi.advanceTimersByTimeAsync(1_000);
    expect(ready()).toBe(2);
    expect(starter.started).toHaveLength(2);
  });

  it('replaces a runtime removed from outside (evicted for a function) at the next retry', async () => {
    freeMb = 10_000;
    pool = make(2);
    pool.fill();
    await vi.advanceTimersByTimeAsync(0);
    const victim = [...pool.entries.values()][0]!;
    victim.phase = 'removing';
    pool.entries.delete(victim.id);
    await vi.advanceTimersByTimeAsync(1_000);
    expect(ready()).toBe(2);
  });

  it('backs off after failed starts (doubling up to maxBackoffMs), and refills once starts succeed again', async () => {
    freeMb = 10_000;
    starter.failWith = new Error('engine down');
    pool = make(1);
    pool.fill();
    await vi.advanceTimersByTimeAsync(0);
    expect(starter.started).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(1_000); // backoff 1 s: one retry
    expect(starter.started).toHaveLength(2);
    await vi.advanceTimersByTimeAsync(1_000); // backoff now 2 s: no retry yet
    expect(starter.started).toHaveLength(2);
    await vi.advanceTimersByTimeAsync(1_000);
    expect(starter.started).toHaveLength(3);
    await vi.advanceTimersByTimeAsync(60_000); // capped at 8 s: not hammering, but still trying
    expect(starter.started.length).toBeGreaterThan(3);
    expect(starter.started.length).toBeLessThan(15);
    starter.failWith = undefined;
    await vi.advanceTimersByTimeAsync(8_000);
    expect(ready()).toBe(1);
  });

  it("replaces a taken runtime once no call started for a moment, not beside the new function's calls", async () => {
    await fillAndTake(2);
    // The periodic top-up leaves it be until the assignment is done and the host quiet.
    await vi.advanceTimersByTimeAsync(1_500);
    expect(starter.started).toHaveLength(2);
    pool.replaceTaken('node20');
    // A new function's calls, one every 2 ms for a second: no start beside them.
    for (let t = 0; t < 1_000; t += 2) {
      lastCallAt = Date.now();
      await vi.advanceTimersByTimeAsync(2);
    }
    expect(starter.started).toHaveLength(2);
    // The calls stop: it is started within the quiet period.
    await vi.advanceTimersByTimeAsync(60);
    expect(starter.started).toHaveLength(3);
    expect(ready()).toBe(2);
  });

  it('replaces a taken runtime at the latest after maxWaitMs of calls, and after afterMs when none is left', async () => {
    freeMb = 10_000;
    pool = make(1);
    pool.fill();
    await vi.advanceTimersByTimeAsync(0);
    // The last one taken: the next cold start would wait for a whole container, so no waiting for quiet.
    expect(pool.take()).toBeDefined();
    pool.replaceTaken('node20');
    lastCallAt = Date.now() + 10_000;
    await vi.advanceTimersByTimeAsync(99);
    expect(starter.started).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(1);
    expect(starter.started).toHaveLength(2);

    await pool.close();
    starter = new FakeStarter();
    pool = make(2);
    pool.fill();
    await vi.advanceTimersByTimeAsync(0);
    expect(pool.take()).toBeDefined();
    pool.replaceTaken('node20');
    // Calls without end: started at maxWaitMs (3 s) all the same.
    lastCallAt = Number.MAX_SAFE_INTEGER;
    await vi.advanceTimersByTimeAsync(2_990);
    expect(starter.started).toHaveLength(2);
    await vi.advanceTimersByTimeAsync(10);
    expect(starter.started).toHaveLength(3);
  });

  it('refills during a long assignment once maxWaitMs has passed, and when no assignment is ever reported', async () => {
    await fillAndTake(2);
    // The function's init runs for 10 s (replaceTaken only after it): the periodic top-up refills after 3 s.
    await vi.advanceTimersByTimeAsync(2_000);
    expect(starter.started).toHaveLength(2);
    await vi.advanceTimersByTimeAsync(2_000);
    expect(starter.started).toHaveLength(3);
    pool.replaceTaken('node20');
    await vi.advanceTimersByTimeAsync(5_000);
    expect(starter.started).toHaveLength(3);
    expect(ready()).toBe(2);
  });

  it('stops retrying once closed, and never starts with count 0', async () => {
    freeMb = 0;
    pool = make(2);
    pool.fill();
    await pool.close();
    freeMb = 10_000;
    await vi.advanceTimersByTimeAsync(10_000);
    expect(starter.started).toEqual([]);
    pool = make(0);
    pool.fill();
    await vi.advanceTimersByTimeAsync(10_000);
    expect(starter.started).toEqual([]);
    expect(vi.getTimerCount()).toBe(0);
  });
});
