import { describe, expect, it } from 'vitest';
import type { InvocationFinished } from '../../../core/invoker.js';
import { billedDurationMs, gbSeconds, toContainerRecord, toUsageRecord } from '../../../metering/usage-math.js';

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

describe('toUsageRecord', () => {
  it('bills the duration rounded up, and the init time of a cold start beside it, rounded up too', () => {
    const record = toUsageRecord(finished({ durationMs: 9.2, coldStart: true, initMs: 179.4, memoryMb: 256 }));
    expect(record).toMatchObject({
      id: 'id-1',
      tenant: 'default',
      fn: 'hello',
      billedDurationMs: 10,
      memoryMb: 256,
      coldStart: true,
      initMs: 179.4,
      initBilledMs: 180,
      trigger: 'http',
    });
    expect(record.gbSeconds).toBeCloseTo(0.25 * 0.01, 12);
    expect(record.initGbSeconds).toBeCloseTo(0.25 * 0.18, 12);
  });

  it('names the tenant from the function id, and keeps measured CPU time and peak memory', () => {
    const record = toUsageRecord(finished({ fn: 'acme.hello', cpuMs: 4.5, peakMemoryMb: 61.2 }));
    expect(record).toMatchObject({ tenant: 'acme', fn: 'acme.hello', cpuMs: 4.5, peakMemoryMb: 61.2 });
  });

  it('leaves initMs out of a warm invocation', () => {
    const record = toUsageRecord(finished({ initMs: 50 }));
    expect(record).not.toHaveProperty('initMs');
    expect(record).not.toHaveProperty('initGbSeconds');
  });
});

describe('toContainerRecord', () => {
  const retired = { containerId: 'c1', fn: 'acme.f', memoryMb: 512, concurrency: 4, readyAt: 1_000, removedAt: 11_000, busyMs: 2_000, idleMs: 8_000 };

  it('bills idle time as kept warm only when the function asked for minScale', () => {
    expect(toContainerRecord({ ...retired, keptWarm: true })).toMatchObject({
      kind: 'container',
      tenant: 'acme',
      idleMs: 8_000,
      keptWarmIdleMs: 8_000,
      idleGbSeconds: 4,
    });
    expect(toContainerRecord({ ...retired, keptWarm: false })).toMatchObject({ idleMs: 8_000, keptWarmIdleMs: 0, idleGbSeconds: 0 });
  });

  it('keeps whole-life CPU time and peak memory when measured', () => {
    expect(toContainerRecord({ ...retired, keptWarm: false, cpuMs: 1234.5678, peakMemoryMb: 99.123 })).toMatchObject({ cpuMs: 1234.568, peakMemoryMb: 99.12 });
  });
});
