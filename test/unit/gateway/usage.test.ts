// GET /api/v1/usage over a fake store: time range parsing, defaults, prices and totals.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AUTH, errorOf, testGateway, type TestGateway } from './fakes.js';

let gw: TestGateway;
beforeEach(async () => {
  gw = await testGateway({ FAAS_PRICE_GB_SECOND: '0.00002', FAAS_PRICE_PER_MILLION_REQUESTS: '0.4' });
});
afterEach(async () => {
  await gw.app.close();
});

const usage = (query = '') => gw.app.inject({ url: `/api/v1/usage${query}`, headers: AUTH });
const DAY_MS = 86_400_000;

describe('usage', () => {
  it('defaults to the last 30 days and sums the per-function totals with the configured prices', async () => {
    gw.usage.totalsToReturn = [
      { fn: 'a', invocations: 2_000_000, errors: 3, coldStarts: 4, gbSeconds: 100, billedDurationMs: 1, cost: { compute: 0.002, requests: 0.8, total: 0.802 } },
      { fn: 'b', invocations: 1_000_000, errors: 1, coldStarts: 1, gbSeconds: 50, billedDurationMs: 1, cost: { compute: 0.001, requests: 0.4, total: 0.401 } },
    ];
    const before = Date.now();
    const res = await usage();
    expect(res.statusCode).toBe(200);
    const body = res.json();
    const [query] = gw.usage.queries;
    expect(query!.to).toBeGreaterThanOrEqual(before);
    expect(query!.to - query!.from).toBe(30 * DAY_MS);
    expect(query!.fn).toBeUndefined();
    expect(body.from).toBe(new Date(query!.from).toISOString());
    expect(body.prices).toEqual({ perGbSecond: 0.00002, perMillionRequests: 0.4 });
    expect(body.functions).toHaveLength(2);
    expect(body.total).toMatchObject({ invocations: 3_000_000, errors: 4, coldStarts: 5, gbSeconds: 150 });
    expect(body.total.cost.compute).toBeCloseTo(0.003, 9);
    expect(body.total.cost.requests).toBeCloseTo(1.2, 9);
    expect(body.total.cost.total).toBeCloseTo(1.203, 9);
  });

  it('accepts ISO 8601 and epoch ms, and a function filter', async () => {
    const res = await usage('?from=2026-01-01T00:00:00Z&to=1767312000000&function=hello');
    expect(res.statusCode).toBe(200);
    expect(gw.usage.queries[0]).toEqual({ from: Date.parse('2026-01-01T00:00:00Z'), to: 1_767_312_000_000, fn: 'hello' });
    expect(res.json()).toMatchObject({ from: '2026-01-01T00:00:00.000Z', to: '2026-01-02T00:00:00.000Z' });
  });

  it.each([
    ['an unparseable from', '?from=yesterday', /from/],
    ['an unparseable to', '?to=soon', /to/],
    ['from after to', '?from=2000&to=1000', /before/],
    ['from equal to to', '?from=1000&to=1000', /before/],
    ['a bad function name', '?function=NOPE!', /function/],
    ['an unknown parameter', '?fn=hello', /fn/],
  ])('rejects %s with 400', async (_label, query, message) => {
    expect(errorOf(await usage(query), 400, 'BAD_REQUEST')).toMatch(message);
    expect(gw.usage.queries).toHaveLength(0);
  });

  it('requires the token', async () => {
    errorOf(await gw.app.inject({ url: '/api/v1/usage' }), 401, 'UNAUTHORIZED');
  });
});
