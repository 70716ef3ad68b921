import { describe, expect, it } from 'vitest';
import { BacklogEstimate } from '../../../triggers/backlog.js';

describe('BacklogEstimate', () => {
  it('reads at first, then not again within the TTL while far below the limit', () => {
    const b = new BacklogEstimate(250);
    expect(b.needsRead(0, 1000)).toBe(true);
    b.update(10, 0);
    for (let i = 0; i < 100; i++) {
      expect(b.needsRead(100, 1000)).toBe(false);
      b.admitted();
    }
    expect(b.estimate()).toBe(110);
    expect(b.needsRead(251, 1000)).toBe(true);
  });

  it('reads on every submission past half the limit, so the limit itself is exact', () => {
    const b = new BacklogEstimate(250);
    b.update(4, 0);
    expect(b.needsRead(1, 10)).toBe(false);
    b.admitted();
    // 5 waiting + the next one = 6 > 10 / 2
    expect(b.needsRead(1, 10)).toBe(true);
    b.update(9, 1);
    expect(b.estimate()).toBe(9);
    expect(b.needsRead(2, 2)).toBe(true);
  });
});
