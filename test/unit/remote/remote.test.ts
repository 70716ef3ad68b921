import { describe, expect, it } from 'vitest';
import { liveInvokers } from '../../../invoker/remote/invoker-directory.js';
import { placeFunction } from '../../../invoker/remote/placement.js';
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
