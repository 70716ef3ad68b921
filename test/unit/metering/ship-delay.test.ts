// How long the usage journal gathers a batch before shipping it to Redis.
import { describe, expect, it } from 'vitest';
import { shipDelayOf } from '../../../metering/usage-journal.js';

describe('shipDelayOf', () => {
  it('ships light traffic after the short wait, so usage shows within tens of ms', () => {
    expect(shipDelayOf(0, {})).toBe(20);
    expect(shipDelayOf(31, {})).toBe(20);
  });

  it('gathers for the longer wait while the last batch was large, spreading the cost of a shipment', () => {
    expect(shipDelayOf(32, {})).toBe(200);
    expect(shipDelayOf(5_000, {})).toBe(200);
  });

  it('takes its waits and threshold from the options', () => {
    expect(shipDelayOf(9, { shipDelayMs: 1, busyShipDelayMs: 50, busyBatch: 10 })).toBe(1);
    expect(shipDelayOf(10, { shipDelayMs: 1, busyShipDelayMs: 50, busyBatch: 10 })).toBe(50);
  });
});
