import { describe, expect, it } from 'vitest';
import { liveInvokers } from '../../../invoker/remote/invoker-directory.js';
import { placeFunction, rankInvokers } from '../../../invoker/remote/placement.js';
import { FIRST_BACKOFF_MS, InvokerHealth, MAX_BACKOFF_MS } from '../../../invoker/remote/invoker-health.js';
import { decodeFrame, encodeFrame } from '../../../invoker/remote/wire.js';

describe('placeFunction', () => {
  const ids = ['a', 'b', 'c', 'd'];
  const names = Array.from({ length: 400 }, (_, i) => `fn-${i}`);

  it('always places a function on the same invoker', () => {
    for (const name of names.slice(0, 20)) expect(placeFunction(name, ids)).toBe(placeFunction(name, [...ids].reverse()));
  });

  it('spreads functions over every invoker', () => {
    const counts = new Map<string, number>();
    for (const name of names) counts.set(placeFunction(name, ids)!, (counts.get(placeFunction(name, ids)!) ?? 0) + 1);
    for (const id of ids) expect(counts.get(id)).toBeGreaterThan(50);
  });

  it('moves only the functions of an invoker that leaves', () => {
    const before = new Map(names.map((n) => [n, placeFunction(n, ids)]));
    const remaining = ids.filter((id) => id !== 'c');
    for (const name of names) {
      if (before.get(name) !== 'c') expect(placeFunction(name, remaining)).toBe(before.get(name));
    }
  });

  it('places nothing without invokers', () => {
    expect(placeFunction('x', [])).toBeUndefined();
  });
});

describe('liveInvokers', () => {
  it('drops invokers not seen within staleMs, sorted by id', () => {
    const entries = [
      { id: 'b', url: 'http://b', seenAt: 9_000 },
      { id: 'a', url: 'http://a', seenAt: 5_000 },
      { id: 'old', url: 'http://old', seenAt: 0 },
    ];
    expect(liveInvokers(entries, 10_000, 6_000).map((e) => e.id)).toEqual(['a', 'b']);
  });
});

describe('invocation frames', () => {
  it('round-trips a head and a binary body', () => {
    const body = Buffer.from([0, 255, 10, 13]);
    const decoded = decodeFrame<{ fn: string }>(encodeFrame({ fn: 'héllo' }, body));
    expect(decoded.head).toEqual({ fn: 'héllo' });
    expect(decoded.body.equals(body)).toBe(true);
  });

  it('rejects a truncated frame', () => {
    expect(() => decodeFrame(encodeFrame({ a: 1 }, Buffer.alloc(0)).subarray(0, 6))).toThrowError(/truncated/);
  });
});

describe('rankInvokers', () => {
  const ids = ['a', 'b', 'c', 'd'];
  it('ranks every invoker, the placement first, the same whatever order they are listed in', () => {
    for (const name of ['x', 'y', 'resize', 'thumb']) {
      const ranked = rankInvokers(name, ids);
      expect(ranked[0]).toBe(placeFunction(name, ids));
      expect([...ranked].sort()).toEqual(ids);
      expect(rankInvokers(name, [...ids].reverse())).toEqual(ranked);
    }
  });

  it('sends a function whose invoker is gone to the same next one its ranking named', () => {
    for (const name of ['x', 'y', 'resize', 'thumb']) {
      const [first, second] = rankInvokers(name, ids);
      expect(
        placeFunction(
          name,
          ids.filter((id) => id !== first),
        ),
      ).toBe(second);
    }
  });
});

describe('InvokerHealth', () => {
  it('skips an invoker from its first failure, and probes it again after a backoff that doubles up to 5 s', () => {
    const health = new InvokerHealth();
    health.markDown('a', 1_000);
    expect(health.usable(['a', 'b'])).toEqual(['b']);
    expect(health.dueForProbe(1_000 + FIRST_BACKOFF_MS - 1)).toEqual([]);
    expect(health.dueForProbe(1_000 + FIRST_BACKOFF_MS)).toEqual(['a']);
    // Not probed twice at once.
    expect(health.dueForProbe(1_000 + FIRST_BACKOFF_MS + 10)).toEqual([]);
    health.probed('a', false, 2_000);
    expect(health.dueForProbe(2_000 + 2 * FIRST_BACKOFF_MS - 1)).toEqual([]);
    expect(health.dueForProbe(2_000 + 2 * FIRST_BACKOFF_MS)).toEqual(['a']);
    let now = 3_000;
    for (let i = 0; i < 10; i++) {
      health.probed('a', false, now);
      now += MAX_BACKOFF_MS;
      expect(health.dueForProbe(now)).toEqual(['a']);
    }
    health.probed('a', true, now);
    expect(health.usable(['a', 'b'])).toEqual(['a', 'b']);
    expect(health.isUp('a')).toBe(true);
  });

  it('tries every invoker when all are marked down rather than failing the call unasked', () => {
    const health = new InvokerHealth();
    health.markDown('a', 0);
    health.markDown('b', 0);
    expect(health.usable(['b', 'a'])).toEqual(['b', 'a']);
  });

  it('forgets invokers that left the directory', () => {
    const health = new InvokerHealth();
    health.markDown('gone', 0);
    health.markDown('kept', 0);
    health.retain(['kept', 'other']);
    expect(health.downIds()).toEqual(['kept']);
  });
});
