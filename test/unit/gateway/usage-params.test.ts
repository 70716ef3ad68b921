// The usage range's from and to: ISO 8601 dates and epoch ms inside years 1970-9999; anything else is a
// 400 naming the parameter (never a 500 from a date that cannot be shown).
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parseTime } from '../../../gateway/routes/usage.js';
import { BadRequestError } from '../../../core/errors.js';
import { AUTH, testGateway, type TestGateway } from './fakes.js';

describe('parseTime', () => {
  it.each([
    ['1767225600000', 1767225600000],
    ['0', 0],
    ['2026-01-01', Date.UTC(2026, 0, 1)],
    ['2026-01-01T10:00:00Z', Date.UTC(2026, 0, 1, 10)],
    ['2026-01-01T10:00:00.123Z', Date.UTC(2026, 0, 1, 10, 0, 0, 123)],
    ['2026-01-01T10:00:00+02:00', Date.UTC(2026, 0, 1, 8)],
    ['2026-01-01t10:00z', Date.UTC(2026, 0, 1, 10)],
    ['2026-01-01 10:00:00Z', Date.UTC(2026, 0, 1, 10)],
    ['2024-02-29', Date.UTC(2024, 1, 29)],
    ['9999-12-31T23:59:59.999Z', Date.UTC(9999, 11, 31, 23, 59, 59, 999)],
  ])('takes %s', (value, ms) => {
    expect(parseTime('from', value, -1)).toBe(ms);
  });

  it('takes a local date-time without offset as Date.parse does', () => {
    expect(parseTime('from', '2026-01-01T10:00', -1)).toBe(Date.parse('2026-01-01T10:00'));
  });

  it('falls back when absent', () => {
    expect(parseTime('from', undefined, 42)).toBe(42);
    expect(parseTime('from', '', 42)).toBe(42);
  });

  it.each([
    '1e20',
    '-1e20',
    '99999999999999999999',
    '12345678901234567',
    '8640000000000000',
    '253402300800000',
    '2026-13-45',
    '2026-02-30',
    '2025-02-29',
    '2026-01-01T24:00:00Z',
    '2026-01-01T10:60Z',
    '+275760-09-13',
    '275760-09-13',
    '10000-01-01',
    '1969-12-31T23:59:59Z',
    '1970-01-01T00:00:00+01:00',
    '-5',
    '0x10',
    'Nov 1 2026',
    'yesterday',
    ' 2026-01-01',
  ])('refuses %j with a BadRequestError naming the field', (value) => {
    expect(() => parseTime('to', value, 0)).toThrow(BadRequestError);
    expect(() => parseTime('to', value, 0)).toThrow(/^to /);
  });
});

describe('GET /api/v1/usage and /api/v1/invoices with absurd input', () => {
  let gw: TestGateway;
  beforeEach(async () => {
    gw = await testGateway({ FAAS_BILLING_TIMEZONE: 'Europe/Berlin' });
  });
  afterEach(async () => {
    await gw.app.close();
  });

  it.each([
    ['to', '1e20'],
    ['from', '-1e20'],
    ['to', '99999999999999999999'],
    ['to', '12345678901234567'],
    ['to', '8640000000000000'],
    ['from', '2026-13-45'],
  ])('answers 400 for %s=%s', async (field, value) => {
    const res = await gw.inject({ url: `/api/v1/usage?${field}=${encodeURIComponent(value)}`, headers: AUTH });
    expect(res.statusCode).toBe(400);
    expect(res.json()).toEqual({ error: { code: 'BAD_REQUEST', message: expect.stringMatching(new RegExp(`^${field} `)) } });
  });

  it.each(['9999-99', '0000-01', '0001-01', '1969-12', '+275760-09', '275760-09', '10000-01'])('answers 400 for the invoice period %s', async (period) => {
    const res = await gw.inject({ url: `/api/v1/invoices/${encodeURIComponent(period)}`, headers: AUTH });
    expect(res.statusCode).toBe(400);
    expect(res.json()).toEqual({ error: { code: 'BAD_REQUEST', message: expect.stringMatching(/period/) } });
  });

  it('still bills the last and first periods it accepts', async () => {
    for (const period of ['1970-01', '9999-12']) {
      const res = await gw.inject({ url: `/api/v1/invoices/${period}`, headers: AUTH });
      expect(res.statusCode, res.body).toBe(200);
    }
  });
});
