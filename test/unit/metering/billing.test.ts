// Billing arithmetic: cents and rounding, free tier, billing periods and buckets across time zones and
// DST, rollups with percentiles, and invoices whose CSV and JSON agree.
import { describe, expect, it } from 'vitest';
import { DEFAULT_PLAN, formatCents, grossCost, invoiceTotals, planProblem, toCents, type PricePlan } from '../../../metering/billing.js';
import { buildInvoice, invoiceCsv } from '../../../metering/invoice.js';
import { bucketStart, bucketStarts, parsePeriod, periodOf } from '../../../metering/periods.js';
import { percentile, rollup } from '../../../metering/rollup.js';
import { bucketValue, coarsen, durationBucket, fieldOf, fromHash, histogramPercentile, partialsOf, toFieldValue } from '../../../metering/partials.js';
import type { ContainerUsageRecord, MeteredRecord, UsageRecord } from '../../../metering/usage-record.js';

const plan = (over: Partial<PricePlan> = {}): PricePlan => ({
  ...DEFAULT_PLAN,
  freeTier: { requests: 0, gbSeconds: 0, cpuSeconds: 0 },
  ...over,
});

const rec = (over: Partial<UsageRecord> = {}): UsageRecord => ({
  id: 'i',
  fn: 'hello',
  version: 1,
  trigger: 'http',
  startedAt: 0,
  endedAt: Date.parse('2026-11-15T12:00:00Z'),
  durationMs: 10,
  billedDurationMs: 10,
  memoryMb: 1024,
  gbSeconds: 0.01,
  coldStart: false,
  queueWaitMs: 0,
  status: 'ok',
  ...over,
});

describe('toCents', () => {
  it.each([
    [0.285, 29], // 0.285 × 100 is 28.499999999999996 in binary
    [1.005, 101],
    [0.004999, 0],
    [0.005, 1],
    [12.344, 1234],
    [-0.015, -2],
    [0, 0],
  ])('%f → %i cents (half away from zero)', (amount, cents) => {
    expect(toCents(amount)).toBe(cents);
  });

  it.each([
    [0, '0.00'],
    [5, '0.05'],
    [123456, '1234.56'],
    [-250, '-2.50'],
  ])('formats %i cents as %s', (cents, text) => {
    expect(formatCents(cents)).toBe(text);
  });
});

describe('grossCost and invoiceTotals', () => {
  it('prices each line at list price and rounds each line once; the total is the sum of the lines', () => {
    const cost = grossCost({ requests: 2_500_000, gbSeconds: 1000, initGbSeconds: 30, idleGbSeconds: 3600, cpuSeconds: 100 }, plan({ perCpuSecond: 0.00001 }));
    // 2.5M × $0.20/M = $0.50; 1000 × 0.0000166667 = $0.0166667 → 2¢; init 30 GB-s → 0¢; idle 3600 × 0.0000041667 = 1.5¢ → 2¢; CPU 0.1¢ → 0¢
    expect(cost).toEqual({ requestsCents: 50, computeCents: 2, initCents: 0, idleCents: 2, cpuCents: 0, totalCents: 54 });
  });

  it('takes the free tier off requests, then GB-seconds of handler time before init time; idle time is never free', () => {
    const totals = invoiceTotals(
      { requests: 1_500_000, gbSeconds: 300_000, initGbSeconds: 200_000, idleGbSeconds: 1000, cpuSeconds: 0 },
      plan({ freeTier: { requests: 1_000_000, gbSeconds: 400_000, cpuSeconds: 0 } }),
    );
    const line = (item: string) => totals.lines.find((l) => l.item === item)!;
    expect(line('requests')).toMatchObject({ free: 1_000_000, billable: 500_000, amountCents: 10 });
    expect(line('compute')).toMatchObject({ free: 300_000, billable: 0, amountCents: 0 });
    // 100 000 GB-s of init left to pay: × 0.0000166667 = $1.66667 → 167¢
    expect(line('init')).toMatchObject({ free: 100_000, billable: 100_000, amountCents: 167 });
    expect(line('idle')).toMatchObject({ free: 0, billable: 1000, amountCents: 0 });
    expect(totals.totalCents).toBe(177);
    expect(totals.grossCents - totals.freeTierCents).toBe(totals.totalCents);
  });

  it('bills nothing inside the free tier', () => {
    const totals = invoiceTotals({ requests: 10, gbSeconds: 5, initGbSeconds: 1, idleGbSeconds: 0, cpuSeconds: 0 }, DEFAULT_PLAN);
    expect(totals.totalCents).toBe(0);
  });

  it('reports what is wrong with a plan', () => {
    expect(planProblem(DEFAULT_PLAN)).toBeUndefined();
    expect(planProblem(plan({ perGbSecond: -1 }))).toMatch(/perGbSecond/);
    expect(planProblem(plan({ timeZone: 'Mars/Base' }))).toMatch(/time zone/);
  });
});

describe('periods', () => {
  it('a month in a zone runs from local midnight of the 1st to local midnight of the next 1st', () => {
    expect(parsePeriod('2026-11', 'UTC')).toMatchObject({ from: Date.parse('2026-11-01T00:00:00Z'), to: Date.parse('2026-12-01T00:00:00Z') });
    // Berlin is UTC+2 until Oct 25 2026, UTC+1 after: October starts at +02:00 and ends at +01:00.
    expect(parsePeriod('2026-10', 'Europe/Berlin')).toMatchObject({ from: Date.parse('2026-09-30T22:00:00Z'), to: Date.parse('2026-10-31T23:00:00Z') });
    expect(parsePeriod('2026-12', 'America/New_York')).toMatchObject({ from: Date.parse('2026-12-01T05:00:00Z'), to: Date.parse('2027-01-01T05:00:00Z') });
  });

  it('an instant near midnight belongs to the period of its local date', () => {
    const instant = Date.parse('2026-10-31T23:30:00Z');
    expect(periodOf(instant, 'UTC').id).toBe('2026-10');
    expect(periodOf(instant, 'Europe/Berlin').id).toBe('2026-11');
    expect(periodOf(instant, 'America/Los_Angeles').id).toBe('2026-10');
  });

  it.each(['2026-13', '2026-00', '26-11', '2026/11', ''])('rejects the period "%s"', (id) => {
    expect(() => parsePeriod(id, 'UTC')).toThrow(/YYYY-MM/);
  });

  it('days are 23 or 25 hours long across DST changes, and hours are hours', () => {
    const day = (iso: string) => bucketStart(Date.parse(iso), 'day', 'Europe/Berlin');
    expect(day('2026-10-25T12:00:00Z') - day('2026-10-24T12:00:00Z')).toBe(24 * 3_600_000);
    const days = bucketStarts(Date.parse('2026-10-24T22:00:00Z'), Date.parse('2026-10-27T23:00:00Z'), 'day', 'Europe/Berlin');
    expect(days.map((d, i) => (i ? d - days[i - 1]! : 0)).slice(1)).toEqual([25 * 3_600_000, 24 * 3_600_000]);
    expect(bucketStarts(Date.parse('2026-10-25T00:00:00Z'), Date.parse('2026-10-25T03:00:00Z'), 'hour', 'Europe/Berlin')).toHaveLength(3);
  });
});

describe('rollup', () => {
  it('groups by tenant and function, with nearest-rank percentiles and idle time from container records', () => {
    const records = [
      ...Array.from({ length: 100 }, (_, i) => rec({ durationMs: i + 1, coldStart: i === 0, status: i < 5 ? 'timeout' : 'ok' })),
      rec({ fn: 'acme.hello', durationMs: 7, cpuMs: 3, peakMemoryMb: 40 }),
      {
        kind: 'container',
        id: 'c',
        tenant: 'acme',
        fn: 'acme.hello',
        memoryMb: 512,
        startedAt: 0,
        endedAt: Date.parse('2026-11-15T12:00:00Z'),
        idleMs: 10_000,
        keptWarmIdleMs: 8_000,
        idleGbSeconds: 4,
      } satisfies ContainerUsageRecord,
    ];
    const { rows, total } = rollup(records, { groupBy: ['tenant', 'function'], plan: plan() });
    expect(rows.map((r) => [r.tenant, r.function, r.invocations])).toEqual([
      ['acme', 'hello', 1],
      ['default', 'hello', 100],
    ]);
    expect(rows[1]).toMatchObject({ errors: 5, coldStarts: 1 });
    // Percentiles come from a log histogram: within about 2 % of the exact nearest rank (50, 95, 99).
    for (const [p, exact] of [
      ['p50', 50],
      ['p95', 95],
      ['p99', 99],
    ] as const) {
      expect(Math.abs(rows[1]!.durationMs![p] - exact) / exact).toBeLessThan(0.025);
    }
    expect(rows[0]).toMatchObject({ idleGbSeconds: 4, cpuSeconds: 0.003, peakMemoryMb: 40 });
    expect(total.invocations).toBe(101);
    expect(total.cost.totalCents).toBe(
      grossCost({ requests: 101, gbSeconds: total.gbSeconds, initGbSeconds: 0, idleGbSeconds: 4, cpuSeconds: 0.003 }, plan()).totalCents,
    );
  });

  it("shows a cold start's init CPU apart and bills it with the handlers' CPU", () => {
    const base = {
      tenant: 'acme',
      fn: 'acme.hello',
      version: 1,
      trigger: 'http' as const,
      startedAt: 1_000,
      endedAt: 1_010,
      durationMs: 10,
      billedDurationMs: 10,
      memoryMb: 128,
      gbSeconds: 0.00125,
      queueWaitMs: 0,
      status: 'ok' as const,
    };
    const records: MeteredRecord[] = [
      { ...base, id: 'a', coldStart: true, initMs: 400, initBilledMs: 400, initGbSeconds: 0.05, cpuMs: 2, initCpuMs: 350 },
      { ...base, id: 'b', coldStart: false, cpuMs: 3 },
    ];
    const p = plan({ perCpuSecond: 0.01 });
    const { total } = rollup(records, { groupBy: [], plan: p });
    expect(total).toMatchObject({ cpuSeconds: 0.005, initCpuSeconds: 0.35 });
    expect(total.cost.cpuCents).toBe(grossCost({ requests: 0, gbSeconds: 0, initGbSeconds: 0, idleGbSeconds: 0, cpuSeconds: 0.355 }, p).cpuCents);
  });

  it('percentile of nothing is 0, of one value that value', () => {
    expect(percentile([], 99)).toBe(0);
    expect(percentile([4], 50)).toBe(4);
  });
});

describe('buildInvoice', () => {
  it("keeps one tenant's records of the period, and its CSV total equals its JSON total", () => {
    const p = plan({ perGbSecond: 0.01, freeTier: { requests: 0, gbSeconds: 1, cpuSeconds: 0 } });
    const records = [
      rec({ gbSeconds: 1.234 }),
      rec({ gbSeconds: 2.5, fn: 'other' }),
      rec({ fn: 'acme.x', gbSeconds: 100 }),
      rec({ gbSeconds: 50, endedAt: Date.parse('2026-12-01T00:00:00Z') }),
    ];
    const invoice = buildInvoice('default', parsePeriod('2026-11', 'UTC'), partialsOf(records, 'hour'), p, Date.parse('2026-11-20T00:00:00Z'));
    // (1.234 + 2.5 − 1 free) × $0.01 = $0.02734 → 3¢
    expect(invoice).toMatchObject({ totalCents: 3, total: '0.03', final: false, functions: [{ function: 'hello' }, { function: 'other' }] });
    const csv = invoiceCsv(invoice).trim().split('\r\n');
    expect(csv[0]).toBe('tenant,period,item,description,unit,quantity,free,billable,unit_price,amount,currency');
    expect(csv.at(-1)!.split(',')[9]).toBe(invoice.total);
    expect(csv.find((l) => l.includes(',compute,'))).toContain(',3.734,1,2.734,0.01,0.03,');
  });
});

describe('partials', () => {
  it('histogram buckets hold their values within about 2 %', () => {
    for (const ms of [0.05, 0.5, 1, 3.3, 47, 999, 60_000]) {
      expect(Math.abs(bucketValue(durationBucket(ms)) - ms) / ms).toBeLessThan(0.025);
    }
    expect(histogramPercentile({}, 50)).toBe(0);
  });

  it('groups records per unit, tenant and function, and survives the round trip through a Redis hash', () => {
    const hour = Date.parse('2026-11-15T12:00:00Z');
    const partials = partialsOf(
      [
        rec({ endedAt: hour + 10, durationMs: 4, cpuMs: 2, peakMemoryMb: 30 }),
        rec({ endedAt: hour + 70_000, durationMs: 8, status: 'timeout', peakMemoryMb: 50, initGbSeconds: 0.5, coldStart: true }),
        rec({ fn: 'acme.hello', endedAt: hour + 20 }),
      ],
      'hour',
    );
    expect(partials.map((p) => [p.tenant, p.fn, p.at, p.invocations])).toEqual([
      ['default', 'hello', hour, 2],
      ['acme', 'hello', hour, 1],
    ]);
    const own = partials[0]!;
    expect(own).toMatchObject({ errors: 1, coldStarts: 1, cpuMs: 2, peakMemoryMb: 50, initGbSeconds: 0.5, gbSeconds: 0.02 });
    // Written as its field's value, read back: the same partial.
    expect(fromHash('default', hour, { [fieldOf(own)]: toFieldValue(own) })).toEqual([own]);
    expect(own.version).toBe(1);
    // Versions apart (a canary's calls beside its stable version's), together when grouped by function.
    const split = partialsOf([rec({ endedAt: hour, version: 1 }), rec({ endedAt: hour, version: 2, status: 'function_error' })], 'hour');
    expect(split.map((p) => [p.fn, p.version, p.invocations, p.errors])).toEqual([
      ['hello', 1, 1, 0],
      ['hello', 2, 1, 1],
    ]);
    expect(fromHash('default', hour, { 'hello@2': toFieldValue(split[1]!) })).toEqual([split[1]]);
    // Minutes merged into the hour: the same as grouping the records by hour.
    const records = [rec({ endedAt: hour + 10, durationMs: 4 }), rec({ endedAt: hour + 70_000, durationMs: 8 })];
    expect(coarsen(partialsOf(records, 'minute'), 'hour')).toEqual(partialsOf(records, 'hour'));
  });
});
