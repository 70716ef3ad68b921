// The async workers' slots: at most `max` live, idle ones closed, a fair turn for waiting queues.
import { describe, expect, it } from 'vitest';
import { WorkerSlots } from '../../../triggers/worker-slots.js';

const policy = { max: 2, idleMs: 5_000, fairShareMs: 10_000 };

describe('WorkerSlots', () => {
  it('starts a worker per queue with work up to the limit; the rest wait in line', () => {
    const slots = new WorkerSlots(policy);
    expect(slots.want('fn.a', 0)).toBe('start');
    expect(slots.want('fn.a', 1)).toBe('live');
    expect(slots.want('fn.b', 2)).toBe('start');
    expect(slots.want('fn.c', 3)).toBe('waiting');
    expect(slots.want('q.d', 4)).toBe('waiting');
    expect(slots.want('fn.c', 5)).toBe('waiting');
    expect([slots.liveCount, slots.waitingCount]).toEqual([2, 2]);
  });

  it('closes a worker that ran nothing for idleMs, never one with a job running', () => {
    const slots = new WorkerSlots(policy);
    slots.want('fn.a', 0);
    slots.want('fn.b', 0);
    slots.jobStarted('fn.a', 1_000);
    expect(slots.toClose(4_999)).toEqual([]);
    expect(slots.toClose(5_000)).toEqual(['fn.b']);
    // Marked closing: not answered twice.
    expect(slots.toClose(60_000)).toEqual([]);
    slots.jobEnded('fn.a', 70_000);
    expect(slots.toClose(74_999)).toEqual([]);
    expect(slots.toClose(75_000)).toEqual(['fn.a']);
  });

  it('gives a freed slot to the first queue waiting', () => {
    const slots = new WorkerSlots(policy);
    slots.want('fn.a', 0);
    slots.want('fn.b', 0);
    slots.want('fn.c', 1);
    slots.want('fn.d', 2);
    expect(slots.closed('fn.b', 10)).toBe('fn.c');
    expect(slots.isLive('fn.c')).toBe(true);
    expect(slots.want('fn.c', 11)).toBe('live');
    expect(slots.closed('fn.a', 12)).toBe('fn.d');
    expect(slots.closed('fn.c', 13)).toBeUndefined();
    expect([slots.liveCount, slots.waitingCount]).toEqual([1, 0]);
    // A queue that was not live frees nothing.
    expect(slots.closed('fn.zzz', 14)).toBeUndefined();
  });

  it('a busy worker past its fair share gives way while others wait, oldest first, one per waiting queue', () => {
    const slots = new WorkerSlots(policy);
    slots.want('fn.a', 0);
    slots.want('fn.b', 3_000);
    slots.jobStarted('fn.a', 0);
    slots.jobStarted('fn.b', 3_000);
    // Nobody waits: busy workers keep their slots however long they live.
    expect(slots.toClose(60_000)).toEqual([]);
    slots.want('fn.c', 60_000);
    expect(slots.toClose(60_001)).toEqual(['fn.a']);
    slots.want('fn.d', 60_002);
    expect(slots.toClose(60_003)).toEqual(['fn.b']);
  });

  it('a worker already closing for a waiting queue is not followed by another one at the next look', () => {
    const slots = new WorkerSlots(policy);
    slots.want('fn.a', 0);
    slots.want('fn.b', 1_000);
    slots.jobStarted('fn.a', 0);
    slots.jobStarted('fn.b', 1_000);
    slots.want('fn.c', 20_000);
    expect(slots.toClose(20_000)).toEqual(['fn.a']);
    // fn.a finishes its long job only later: fn.b keeps its slot meanwhile.
    expect(slots.toClose(21_000)).toEqual([]);
    expect(slots.toClose(60_000)).toEqual([]);
    expect(slots.closed('fn.a', 61_000)).toBe('fn.c');
  });

  it('an idle worker closing counts toward the waiting queues: no busy one is cut short for nothing', () => {
    const slots = new WorkerSlots(policy);
    slots.want('fn.a', 0);
    slots.want('fn.b', 0);
    slots.jobStarted('fn.a', 0);
    slots.want('fn.c', 20_000);
    expect(slots.toClose(20_000)).toEqual(['fn.b']);
  });

  it('a deleted consumer stops waiting; markClosing takes a live one out once', () => {
    const slots = new WorkerSlots({ ...policy, max: 1 });
    slots.want('fn.a', 0);
    slots.want('fn.b', 0);
    slots.forget('fn.b');
    expect(slots.waitingCount).toBe(0);
    expect(slots.markClosing('fn.a')).toBe(true);
    expect(slots.markClosing('fn.a')).toBe(false);
    expect(slots.toClose(1_000_000)).toEqual([]);
    expect(slots.closed('fn.a', 1)).toBeUndefined();
    expect(slots.markClosing('fn.a')).toBe(false);
  });
});
