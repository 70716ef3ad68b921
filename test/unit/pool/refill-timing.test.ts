// When a taken prewarmed runtime's replacement is created: after the first call's turn, in a quiet moment, within a bound.
import { describe, expect, it } from 'vitest';
import { refillWaitMs } from '../../../invoker/pool/refill-timing.js';

const timing = { afterMs: 100, quietMs: 50, maxWaitMs: 3_000 };

describe('refillWaitMs', () => {
  it('waits afterMs from the assignment whatever else holds', () => {
    expect(refillWaitMs(1_000, { assignedAt: 1_000, lastCallAt: 0, left: 1 }, timing)).toBe(100);
    expect(refillWaitMs(1_040, { assignedAt: 1_000, lastCallAt: 0, left: 0 }, timing)).toBe(60);
  });

  it('then starts at once when none is left, or the host has been quiet for quietMs', () => {
    expect(refillWaitMs(1_100, { assignedAt: 1_000, lastCallAt: 1_099, left: 0 }, timing)).toBe(0);
    expect(refillWaitMs(1_200, { assignedAt: 1_000, lastCallAt: 1_150, left: 1 }, timing)).toBe(0);
  });

  it('while calls come, waits for the rest of the quiet period, never past maxWaitMs', () => {
    expect(refillWaitMs(1_200, { assignedAt: 1_000, lastCallAt: 1_190, left: 1 }, timing)).toBe(40);
    expect(refillWaitMs(3_980, { assignedAt: 1_000, lastCallAt: 3_979, left: 1 }, timing)).toBe(20);
    expect(refillWaitMs(4_000, { assignedAt: 1_000, lastCallAt: 3_999, left: 1 }, timing)).toBe(0);
  });
});
