import { describe, expect, it } from 'vitest';
import { decide, pickWarm, planScaleUp } from '../../../invoker/pool/decide.js';
import { container, fnView, host, limits } from './builders.js';

describe('decide', () => {
  it.each([
    ['an idle container of the current version', [container({ id: 'a' })], { kind: 'warm', containerId: 'a' }],
    ['a busy container with a free slot (concurrency 2)', [container({ id: 'a', phase: 'busy', active: 1 })], { kind: 'warm', containerId: 'a' }],
  ])('goes warm to %s', (_label, containers, expected) => {
    expect(decide(fnView(containers), limits({ concurrency: 2 }), host(), 100)).toEqual(expected);
  });

  it('prefers the most recently used of several idle containers', () => {
    const view = fnView([container({ id: 'old', lastUsedAt: 100 }), container({ id: 'new', lastUsedAt: 900 }), container({ id: 'mid', lastUsedAt: 500 })]);
    expect(decide(view, limits(), host(), 100)).toEqual({ kind: 'warm', containerId: 'new' });
  });

  it('goes to a paused container when no running one is free, and to a running one before a paused one', () => {
    expect(decide(fnView([container({ id: 'p', phase: 'paused' })]), limits(), host(), 100)).toEqual({ kind: 'warm', containerId: 'p' });
    const view = fnView([container({ id: 'p', phase: 'paused', lastUsedAt: 900 }), container({ id: 'r', lastUsedAt: 100 })]);
    expect(decide(view, limits(), host(), 100)).toEqual({ kind: 'warm', containerId: 'r' });
  });

  it.each([
    ['an older version', container({ version: 0 })],
    ['a starting container', container({ phase: 'starting' })],
    ['a container being removed', container({ phase: 'removing' })],
    ['a full container', container({ phase: 'busy', active: 1 })],
  ])('never sends a request to %s', (_label, c) => {
    const d = decide(fnView([c]), limits(), host(), 100);
    expect(d.kind).not.toBe('warm');
  });

  it('cold-starts one container when nothing is warm', () => {
    expect(decide(fnView([]), limits(), host(), 100)).toEqual({ kind: 'queue', start: 1, evict: [] });
  });

  it('queues behind earlier requests even when a slot is free (FIFO)', () => {
    const view = fnView([container({ id: 'a' })], { queued: 2 });
    expect(decide(view, limits(), host(), 100).kind).toBe('queue');
  });

  it('waits for a starting container rather than starting another', () => {
    const view = fnView([container({ phase: 'starting' })]);
    expect(decide(view, limits(), host(), 100)).toEqual({ kind: 'queue', start: 0, evict: [] });
  });

  it('queues without starting at maxScale', () => {
    const view = fnView([container({ id: 'a', phase: 'busy', active: 1 }), container({ id: 'b', phase: 'busy', active: 1 })]);
    expect(decide(view, limits({ maxScale: 2 }), host(), 100)).toEqual({ kind: 'queue', start: 0, evict: [] });
  });

  it('rejects when the queue is full', () => {
    const view = fnView([container({ phase: 'busy', active: 1 })], { queued: 3 });
    expect(decide(view, limits({ maxScale: 1 }), host(), 3)).toEqual({ kind: 'reject' });
  });

  it('rejects at once with a queue of 0 when no slot is free', () => {
    const view = fnView([container({ phase: 'busy', active: 1 })]);
    expect(decide(view, limits({ maxScale: 1 }), host(), 0)).toEqual({ kind: 'reject' });
  });
});

describe('planScaleUp', () => {
  it('starts enough containers for the queue, counting starting containers and concurrency', () => {
    const view = fnView([container({ phase: 'starting' })]);
    expect(planScaleUp(view, limits({ concurrency: 2 }), host(), 7)).toEqual({ start: 3, evict: [] });
  });

  it('never goes past maxScale', () => {
    expect(planScaleUp(fnView([]), limits({ maxScale: 2 }), host(), 10)).toEqual({ start: 2, evict: [] });
  });

  it('evicts the least recently used idle containers of other functions, just enough', () => {
    const evictable = [
      container({ id: 'x', fn: 'other', lastUsedAt: 300, memoryMb: 128 }),
      container({ id: 'y', fn: 'other', lastUsedAt: 100, memoryMb: 128 }),
      container({ id: 'z', fn: 'other', lastUsedAt: 200, memoryMb: 128 }),
    ];
    const plan = planScaleUp(fnView([]), limits({ memoryMb: 256 }), host({ freeMemoryMb: 0, evictable }), 1);
    expect(plan).toEqual({ start: 1, evict: ['y', 'z'] });
  });

  it('evicts nothing when even evicting everything would not make room', () => {
    const evictable = [container({ id: 'x', fn: 'other', memoryMb: 64 })];
    expect(planScaleUp(fnView([]), limits({ memoryMb: 512 }), host({ freeMemoryMb: 100, evictable }), 1)).toEqual({ start: 0, evict: [] });
  });
});

describe('pickWarm', () => {
  it('returns undefined when no container has a free slot', () => {
    expect(pickWarm(fnView([container({ phase: 'busy', active: 2 })]), 2)).toBeUndefined();
  });
});

describe("a tenant's maxContainers quota", () => {
  it('refuses a cold start when the tenant has no room and nothing of its own to evict', () => {
    expect(decide(fnView([]), limits(), host({ tenantRoom: 0, tenantIdle: [] }), 100)).toEqual({ kind: 'quota' });
  });

  it("evicts the tenant's least recently used idle container of another function to make room", () => {
    const idle = [container({ id: 'recent', fn: 'acme.b', lastUsedAt: 900 }), container({ id: 'old', fn: 'acme.c', lastUsedAt: 100 })];
    expect(decide(fnView([]), limits(), host({ tenantRoom: 0, tenantIdle: idle, evictable: idle }), 100)).toEqual({ kind: 'queue', start: 1, evict: ['old'] });
  });

  it('starts no more containers than the quota leaves, and queues behind the live ones', () => {
    expect(planScaleUp(fnView([]), limits({ maxScale: 10 }), host({ tenantRoom: 2 }), 5)).toEqual({ start: 2, evict: [] });
    const busy = fnView([container({ id: 'a', phase: 'busy', active: 1 })]);
    expect(decide(busy, limits(), host({ tenantRoom: 0, tenantIdle: [] }), 100)).toEqual({ kind: 'queue', start: 0, evict: [] });
  });
});
