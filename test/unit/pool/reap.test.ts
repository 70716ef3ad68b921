import { describe, expect, it } from 'vitest';
import { minScaleStarts, reap } from '../../../invoker/pool/reap.js';
import { container, fnView, limits } from './builders.js';

const NOW = 1_000_000;

describe('reap', () => {
  it('removes a container idle for the idle timeout (scale to zero)', () => {
    const view = fnView([container({ id: 'a', lastUsedAt: NOW - 60_000 })]);
    expect(reap(view, limits({ idleTimeoutMs: 60_000 }), NOW)).toEqual({ remove: ['a'], start: 0, pause: [] });
  });

  it('keeps a container idle for less than the idle timeout', () => {
    const view = fnView([container({ id: 'a', lastUsedAt: NOW - 59_999 })]);
    expect(reap(view, limits({ idleTimeoutMs: 60_000 }), NOW)).toEqual({ remove: [], start: 0, pause: [] });
  });

  it('never removes a busy container, however old', () => {
    const view = fnView([container({ id: 'a', phase: 'busy', active: 1, lastUsedAt: 0 })]);
    expect(reap(view, limits(), NOW).remove).toEqual([]);
  });

  it('keeps minScale containers, removing the longest idle first', () => {
    const view = fnView([
      container({ id: 'a', lastUsedAt: NOW - 90_000 }),
      container({ id: 'b', lastUsedAt: NOW - 70_000 }),
      container({ id: 'c', lastUsedAt: NOW - 80_000 }),
    ]);
    expect(reap(view, limits({ minScale: 1 }), NOW)).toEqual({ remove: ['a', 'c'], start: 0, pause: [] });
  });

  it('starts containers up to minScale', () => {
    const view = fnView([container({ id: 'a', phase: 'starting' })]);
    expect(reap(view, limits({ minScale: 3 }), NOW)).toEqual({ remove: [], start: 2, pause: [] });
  });

  it('removes idle containers of an older version at once, but not busy ones', () => {
    const view = fnView(
      [
        container({ id: 'old-idle', version: 1, lastUsedAt: NOW }),
        container({ id: 'old-busy', version: 1, phase: 'busy', active: 1 }),
        container({ id: 'new', version: 2, lastUsedAt: NOW }),
      ],
      { version: 2 },
    );
    expect(reap(view, limits(), NOW)).toEqual({ remove: ['old-idle'], start: 0, pause: [] });
  });

  it('pauses containers idle for pauseAfterMs, not busy, starting or already paused ones, nor those it removes', () => {
    const view = fnView([
      container({ id: 'long-idle', lastUsedAt: NOW - 60_000 }),
      container({ id: 'idle', lastUsedAt: NOW - 100 }),
      container({ id: 'just-idle', lastUsedAt: NOW - 99 }),
      container({ id: 'busy', phase: 'busy', active: 1, lastUsedAt: 0 }),
      container({ id: 'starting', phase: 'starting', lastUsedAt: 0 }),
      container({ id: 'paused', phase: 'paused', lastUsedAt: 0 }),
    ]);
    expect(reap(view, limits({ idleTimeoutMs: 60_000, pauseAfterMs: 100 }), NOW)).toEqual({ remove: ['paused', 'long-idle'], start: 0, pause: ['idle'] });
    expect(reap(view, limits({ idleTimeoutMs: 60_000 }), NOW).pause).toEqual([]);
  });

  it('removes paused containers like idle ones: at the idle timeout, keeping minScale, and of older versions at once', () => {
    const view = fnView(
      [
        container({ id: 'old', version: 1, phase: 'paused', lastUsedAt: NOW }),
        container({ id: 'a', version: 2, phase: 'paused', lastUsedAt: NOW - 90_000 }),
        container({ id: 'b', version: 2, phase: 'paused', lastUsedAt: NOW - 80_000 }),
      ],
      { version: 2 },
    );
    expect(reap(view, limits({ minScale: 1, pauseAfterMs: 50 }), NOW)).toEqual({ remove: ['old', 'a'], start: 0, pause: [] });
  });

  it('does not count old-version containers toward minScale', () => {
    const view = fnView([container({ id: 'old', version: 1, phase: 'busy', active: 1 })], { version: 2 });
    expect(reap(view, limits({ minScale: 1 }), NOW)).toEqual({ remove: [], start: 1, pause: [] });
  });
});

describe('minScale starts are capped by free memory and the tenant room', () => {
  it.each([
    // label, minScale, memoryMb, live containers, free memory, tenant room, expected starts
    ['no room given: all missing', 6, 128, 0, undefined, undefined, 6],
    ['memory for all', 3, 128, 0, 1_000, undefined, 3],
    ['memory for some (100 × 10 GB into 24 GB)', 100, 10_240, 0, 24_576, undefined, 2],
    ['memory for none', 4, 512, 0, 511, undefined, 0],
    ['memory over-committed (negative free)', 4, 128, 0, -256, undefined, 0],
    ['tenant room caps (maxContainers 2, minScale 6)', 6, 128, 0, 10_000, 2, 2],
    ['tenant has no room', 6, 128, 0, 10_000, 0, 0],
    ['tenant over quota (negative room)', 6, 128, 0, 10_000, -3, 0],
    ['the smaller of memory and room', 6, 1_024, 0, 3_072, 5, 3],
    ['live containers count toward minScale', 5, 128, 3, 128, undefined, 1],
    ['minScale already met', 2, 128, 2, 0, 0, 0],
  ])('%s', (_label, minScale, memoryMb, live, freeMemoryMb, tenantRoom, expected) => {
    const view = fnView(Array.from({ length: live }, (_, i) => container({ id: `c${i}`, lastUsedAt: NOW, memoryMb })));
    const room = freeMemoryMb === undefined ? undefined : { freeMemoryMb, ...(tenantRoom === undefined ? {} : { tenantRoom }) };
    expect(reap(view, limits({ minScale, memoryMb }), NOW, room).start).toBe(expected);
  });

  it('removes and pauses as before whatever the room', () => {
    const view = fnView([container({ id: 'a', lastUsedAt: NOW - 90_000 }), container({ id: 'b', lastUsedAt: NOW - 200 })]);
    expect(reap(view, limits({ minScale: 3, pauseAfterMs: 100 }), NOW, { freeMemoryMb: 0, tenantRoom: 0 })).toEqual({
      remove: [],
      start: 0,
      pause: ['a', 'b'],
    });
  });
});

describe('minScaleStarts', () => {
  it.each([
    [0, 128, { freeMemoryMb: 10_000 }, 0],
    [-2, 128, { freeMemoryMb: 10_000 }, 0],
    [3, 128, undefined, 3],
    [3, 128, { freeMemoryMb: 383 }, 2],
    [3, 128, { freeMemoryMb: 384 }, 3],
    [3, 128, { freeMemoryMb: 10_000, tenantRoom: 1 }, 1],
  ])('%i missing of %i MB with %o → %i', (missing, memoryMb, room, expected) => {
    expect(minScaleStarts(missing, memoryMb, room)).toBe(expected);
  });
});
