// The waiting queue: FIFO order, a deadline per request, and failing everyone at once.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { WaitingQueue } from '../../../invoker/pool/waiting-queue.js';

beforeEach(() => vi.useFakeTimers());
afterEach(() => vi.useRealTimers());

describe('WaitingQueue', () => {
  it('hands out requests oldest first', async () => {
    const q = new WaitingQueue<string>();
    const a = q.wait(1, 1_000, () => new Error('late'));
    const b = q.wait(2, 1_000, () => new Error('late'));
    expect(q.length).toBe(2);
    q.next()!.resolve('first');
    q.next()!.resolve('second');
    await expect(a).resolves.toBe('first');
    await expect(b).resolves.toBe('second');
    expect(q.next()).toBeUndefined();
  });

  it('rejects a request still waiting at its deadline and drops it from the queue', async () => {
    const q = new WaitingQueue<string>();
    const late = q.wait(0, 500, () => new Error('no container within 500 ms'));
    const later = q.wait(0, 2_000, () => new Error('late'));
    vi.advanceTimersByTime(500);
    await expect(late).rejects.toThrow('no container within 500 ms');
    expect(q.length).toBe(1);
    q.next()!.resolve('served');
    await expect(later).resolves.toBe('served');
  });

  it('a request taken before its deadline is not rejected by it', async () => {
    const q = new WaitingQueue<string>();
    const p = q.wait(0, 100, () => new Error('late'));
    const w = q.next()!;
    vi.advanceTimersByTime(1_000);
    w.resolve('ok');
    await expect(p).resolves.toBe('ok');
  });

  it('fails every waiting request at once', async () => {
    const q = new WaitingQueue<string>();
    const all = [q.wait(0, 1_000, () => new Error('late')), q.wait(0, 1_000, () => new Error('late'))];
    q.rejectAll(new Error('function deleted'));
    for (const p of all) await expect(p).rejects.toThrow('function deleted');
    expect(q.length).toBe(0);
    vi.advanceTimersByTime(2_000); // no deadline fires afterwards
  });
});
