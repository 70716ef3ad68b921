import { describe, expect, it } from 'vitest';
import { reap } from '../../../invoker/pool/reap.js';
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
