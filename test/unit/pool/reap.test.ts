import { describe, expect, it } from 'vitest';
import { reap } from '../../../invoker/pool/reap.js';
import { container, fnView, limits } from './builders.js';

const NOW = 1_000_000;

describe('reap', () => {
  it('removes a container idle for the idle timeout (scale to zero)', () => {
    const view = fnView([container({ id: 'a', lastUsedAt: NOW - 60_000 })]);
    expect(reap(view, limits({ idleTimeoutMs: 60_000 }), NOW)).toEqual({ remove: ['a'], start: 0 });
  });

  it('keeps a container idle for less than the idle timeout', () => {
    const view = fnView([container({ id: 'a', lastUsedAt: NOW - 59_999 })]);
    expect(reap(view, limits({ idleTimeoutMs: 60_000 }), NOW)).toEqual({ remove: [], start: 0 });
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
    expect(reap(view, limits({ minScale: 1 }), NOW)).toEqual({ remove: ['a', 'c'], start: 0 });
  });

  it('starts containers up to minScale', () => {
    const view = fnView([container({ id: 'a', phase: 'starting' })]);
    expect(reap(view, limits({ minScale: 3 }), NOW)).toEqual({ remove: [], start: 2 });
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
    expect(reap(view, limits(), NOW)).toEqual({ remove: ['old-idle'], start: 0 });
  });

  it('does not count old-version containers toward minScale', () => {
    const view = fnView([container({ id: 'old', version: 1, phase: 'busy', active: 1 })], { version: 2 });
    expect(reap(view, limits({ minScale: 1 }), NOW)).toEqual({ remove: [], start: 1 });
  });
});
