import { describe, expect, it } from 'vitest';
import type { InvocationFinished } from '../../../invoker/invoker.js';
import { DEFAULT_PRICES, aggregate, billedDurationMs, costOf, gbSeconds, sumTotals, toUsageRecord } from '../../../invoker/metering/usage-math.js';
import type { UsageRecord } from '../../../invoker/metering/usage-record.js';

const finished = (over: Partial<InvocationFinished> = {}): InvocationFinished => ({
  invocationId: 'id-1',
  fn: 'hello',
  version: 1,
  trigger: 'http',
  startedAt: 1_000,
  endedAt: 1_010,
  durationMs: 9.2,
  memoryMb: 128,
  coldStart: false,
  queueWaitMs: 0,
  status: 'ok',
  httpStatus: 200,
  logs: '',
  ...over,
});

describe('billedDurationMs', () => {
  it.each([
    [0, 1],
    [0.2, 1],
    [1, 1],
    [1.01, 2],
    [99.999, 100],
    [1000, 1000],
  ])('%f ms is billed as %i ms', (duration, billed) => {
    expect(billedDurationMs(duration)).toBe(billed);
  });
});

describe('gbSeconds', () => {
  it.each([
    [128, 1000, 0.125],
    [1024, 1000, 1],
    [1024, 1, 0.001],
    [512, 2500, 1.25],
  ])('%i MB for %i ms is %f GB-s', (memoryMb, ms, expected) => {
    expect(gbSeconds(memoryMb, ms)).toBeCloseTo(expected, 12);
  });
});

describe('costOf', () => {
  it('prices a million requests at $0.20 and one GB-second at $0.0000166667 by default', () => {
    expect(costOf({ invocations: 1_000_000, gbSeconds: 0 }, DEFAULT_PRICES).total).toBeCloseTo(0.2, 12);
    expect(costOf({ invocations: 0, gbSeconds: 1 }, DEFAULT_PRICES).total).toBeCloseTo(0.0000166667, 15);
  });

  it('uses configured prices', () => {
    const cost = costOf({ invocations: 2_000_000, gbSeconds: 10 }, { perGbSecond: 0.001, perMillionRequests: 1 });
    expect(cost).toEqual({ compute: 0.01, requests: 2, total: 2.01 });
  });
});

describe('toUsageRecord', () => {
  it('bills the duration rounded up and records init time of a cold start beside it', () => {
    const record = toUsageRecord(finished({ durationMs: 9.2, coldStart: true, initMs: 180, memoryMb: 256 }));
    expect(record).toMatchObject({ id: 'id-1', fn: 'hello', billedDurationMs: 10, memoryMb: 256, coldStart: true, initMs: 180, trigger: 'http' });
    expect(record.gbSeconds).toBeCloseTo(0.25 * 0.01, 12);
  });

  it('leaves initMs out of a warm invocation', () => {
    expect(toUsageRecord(finished({ initMs: 50 }))).not.toHaveProperty('initMs');
  });
});

describe('aggregate', () => {
  const rec = (over: Partial<UsageRecord>): UsageRecord => ({ ...toUsageRecord(finished()), ...over });

  it('totals per function, counting errors and cold starts, sorted by name', () => {
    const totals = aggregate(
      [
        rec({ fn: 'b', gbSeconds: 0.5, billedDurationMs: 10 }),
        rec({ fn: 'a', gbSeconds: 1, billedDurationMs: 5, coldStart: true }),
        rec({ fn: 'a', gbSeconds: 2, billedDurationMs: 7, status: 'timeout' }),
      ],
      DEFAULT_PRICES,
    );
    expect(totals.map((t) => [t.fn, t.invocations, t.errors, t.coldStarts, t.gbSeconds, t.billedDurationMs])).toEqual([
      ['a', 2, 1, 1, 3, 12],
      ['b', 1, 0, 0, 0.5, 10],
    ]);
    expect(totals[0]!.cost.total).toBeCloseTo(3 * 0.0000166667 + 2 * 0.2e-6, 15);
    expect(sumTotals(totals, DEFAULT_PRICES)).toMatchObject({ invocations: 3, errors: 1, coldStarts: 1, gbSeconds: 3.5 });
  });
});
