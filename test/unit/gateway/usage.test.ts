// GET /api/v1/usage and /api/v1/invoices over an in-memory store: ranges, grouping, prices, CSV, scoping.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { toUsageRecord } from '../../../metering/usage-math.js';
import type { UsageRecord } from '../../../metering/usage-record.js';
import { AUTH, errorOf, finished, testGateway, type TestGateway } from './fakes.js';

let gw: TestGateway;
beforeEach(async () => {
  gw = await testGateway({
    FAAS_PRICE_GB_SECOND: '0.00002',
    FAAS_PRICE_PER_MILLION_REQUESTS: '0.4',
    FAAS_FREE_REQUESTS: '1',
    FAAS_FREE_GB_SECONDS: '0',
    FAAS_BILLING_TIMEZONE: 'Europe/Berlin',
  });
});
afterEach(async () => {
  await gw.app.close();
});

const usage = (query = '') => gw.inject({ url: `/api/v1/usage${query}`, headers: AUTH });
const DAY_MS = 86_400_000;
const record = (fn: string, endedAt: number, over: Partial<UsageRecord> = {}): UsageRecord => ({
  ...toUsageRecord(finished({ fn, startedAt: endedAt - 1000, endedAt, durationMs: 1000, memoryMb: 1024, coldStart: false })),
  ...over,
});

describe('usage', () => {
  it('defaults to the last 30 days, groups by function and prices each group and the total', async () => {
    const now = Date.now();
    gw.usage.records = [record('a', now - 1000), record('a', now - 2000, { status: 'timeout' }), record('b', now - 3000), record('a', now - 31 * DAY_MS)];
    const res = await usage();
    expect(res.statusCode).toBe(200);
    const body = res.json();
    const [query] = gw.usage.queries;
    expect(query!.to - query!.from).toBe(30 * DAY_MS);
    expect(query!.tenants).toBeUndefined();
    expect(body.rows.map((r: { function: string; invocations: number; errors: number }) => [r.function, r.invocations, r.errors])).toEqual([
      ['a', 2, 1],
      ['b', 1, 0],
    ]);
    // 3 GB-s × $0.00002 = $0.00006 → 0 cents; the figures are exact before rounding.
    expect(body.total).toMatchObject({ invocations: 3, errors: 1, gbSeconds: 3 });
    expect(body.total.cost.totalCents).toBe(0);
    expect(body.plan).toMatchObject({ perGbSecond: 0.00002, perMillionRequests: 0.4, timeZone: 'Europe/Berlin' });
  });

  it('groups by day in the billing time zone', async () => {
    // 2026-11-01 23:30 UTC is Nov 2 00:30 in Berlin.
    gw.usage.records = [record('a', Date.parse('2026-11-01T22:30:00Z')), record('a', Date.parse('2026-11-01T23:30:00Z'))];
    const body = (await usage('?from=2026-11-01T00:00:00Z&to=2026-11-03T00:00:00Z&interval=day')).json();
    expect(body.rows.map((r: { bucketStart: string; invocations: number }) => [r.bucketStart, r.invocations])).toEqual([
      ['2026-11-01T00:00:00.000+01:00', 1],
      ['2026-11-02T00:00:00.000+01:00', 1],
    ]);
  });

  it('accepts ISO 8601 and epoch ms, and a function filter', async () => {
    gw.usage.records = [record('hello', Date.parse('2026-01-01T12:00:00Z')), record('other', Date.parse('2026-01-01T12:00:00Z'))];
    const res = await usage('?from=2026-01-01T00:00:00Z&to=1767312000000&function=hello');
    expect(res.statusCode).toBe(200);
    expect(gw.usage.queries[0]).toEqual({ from: Date.parse('2026-01-01T00:00:00Z'), to: 1_767_312_000_000, fn: 'hello', utcDays: true });
    expect(res.json()).toMatchObject({ from: '2026-01-01T00:00:00.000Z', to: '2026-01-02T00:00:00.000Z', total: { invocations: 1 } });
  });

  it.each([
    ['an unparseable from', '?from=yesterday', /from/],
    ['an unparseable to', '?to=soon', /to/],
    ['from after to', '?from=2000&to=1000', /before/],
    ['from equal to to', '?from=1000&to=1000', /before/],
    ['a bad function name', '?function=NOPE!', /function/],
    ['an unknown parameter', '?fn=hello', /fn/],
    ['an unknown grouping', '?groupBy=color', /groupBy/],
    ['an unknown interval', '?interval=week', /interval/],
  ])('rejects %s with 400', async (_label, query, message) => {
    expect(errorOf(await usage(query), 400, 'BAD_REQUEST')).toMatch(message);
    expect(gw.usage.queries).toHaveLength(0);
  });

  it('requires the token', async () => {
    errorOf(await gw.inject({ url: '/api/v1/usage' }), 401, 'UNAUTHORIZED');
  });
});

describe('invoices', () => {
  const invoice = (path: string) => gw.inject({ url: `/api/v1/invoices/${path}`, headers: AUTH });

  it('bills the period in the billing time zone with the free tier, as JSON and as CSV with the same total', async () => {
    // 2025-10-31 23:30 UTC is already November in Berlin; 2025-11-30 23:30 UTC is December.
    gw.usage.records = [
      ...Array.from({ length: 3 }, (_, i) => record('a', Date.parse('2025-11-10T10:00:00Z') + i, { gbSeconds: 1000 })),
      record('a', Date.parse('2025-10-31T23:30:00Z'), { gbSeconds: 1000 }),
      record('a', Date.parse('2025-11-30T23:30:00Z'), { gbSeconds: 1000 }),
    ];
    const res = await invoice('2025-11');
    expect(res.statusCode).toBe(200);
    const { invoice: inv } = res.json();
    expect(inv).toMatchObject({
      tenant: 'default',
      period: '2025-11',
      from: '2025-11-01T00:00:00.000+01:00',
      to: '2025-12-01T00:00:00.000+01:00',
      final: true,
    });
    const compute = inv.lines.find((l: { item: string }) => l.item === 'compute');
    // 4 records × 1000 GB-s × $0.00002 = $0.08; 4 requests, 1 free.
    expect(compute).toMatchObject({ quantity: 4000, amountCents: 8 });
    expect(inv.lines.find((l: { item: string }) => l.item === 'requests')).toMatchObject({ quantity: 4, free: 1, billable: 3 });
    expect(inv.totalCents).toBe(8);
    expect(inv.total).toBe('0.08');

    const csv = await invoice('2025-11?format=csv');
    expect(csv.headers['content-type']).toMatch(/text\/csv/);
    expect(csv.body.trim().split('\r\n').at(-1)).toBe('default,2025-11,total,Total due,,,,,,0.08,USD');
  });

  it.each(['2026-13', 'november', '2026-1'])('rejects the period %s with 400', async (period) => {
    expect(errorOf(await invoice(period), 400, 'BAD_REQUEST')).toMatch(/YYYY-MM/);
  });
});
