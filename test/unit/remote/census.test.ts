import { describe, expect, it } from 'vitest';
import { countElsewhere } from '../../../tenancy/container-census.js';

describe('countElsewhere', () => {
  const NOW = 1_000_000;
  it("sums each tenant's containers over the other invokers, leaving out this one and those not heard from lately", () => {
    const entries = {
      self: { at: NOW, counts: { acme: 5, shop: 1 } },
      b: { at: NOW - 1_000, counts: { acme: 2, shop: 3 } },
      c: { at: NOW - 4_999, counts: { acme: 1 } },
      crashed: { at: NOW - 5_000, counts: { acme: 9 } },
    };
    expect(countElsewhere(entries, 'self', NOW, 5_000)).toEqual(
      new Map([
        ['acme', 3],
        ['shop', 3],
      ]),
    );
  });

  it('counts nothing when this invoker is alone', () => {
    expect(countElsewhere({ self: { at: NOW, counts: { acme: 5 } } }, 'self', NOW, 5_000).size).toBe(0);
  });
});
