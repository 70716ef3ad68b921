// Usage over any range grouped by tenant, function and minute/hour/day/month, and invoices per tenant per
// period (JSON or CSV), from the usage rollups. Both price through the billing module, so every total
// agrees to the cent.
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { BadRequestError } from '../../core/errors.js';
import { FUNCTION_NAME_PATTERN, TENANT_ID_PATTERN } from '../../core/function-spec.js';
import type { PricePlan } from '../../metering/billing.js';
import { buildInvoice, invoiceCsv } from '../../metering/invoice.js';
import { INTERVALS, PeriodError, bucketStarts, isoInZone, parsePeriod, periodOf, type Interval } from '../../metering/periods.js';
import type { UsageRollups } from '../../metering/redis-rollups.js';
import { rollupPartials, type GroupKey } from '../../metering/rollup.js';
import { actingTenant } from '../plugins/auth.js';
import { invoiceReply, usageReply } from '../schemas/usage.js';

const DAY_MS = 86_400_000;
/** Buckets listed at most (a week of minutes). */
const MAX_BUCKETS = 10_080;
const UTC = new Set(['UTC', 'Etc/UTC', 'Etc/GMT', 'GMT']);
const GROUPINGS: Record<string, GroupKey[]> = {
  function: ['function'],
  version: ['function', 'version'],
  tenant: ['tenant'],
  'tenant,function': ['tenant', 'function'],
  'tenant,function,version': ['tenant', 'function', 'version'],
  none: [],
};

/** The instants a usage range may name: years 1970 to 9999 (UTC), which every date API can show. */
const MIN_TIME_MS = 0;
const MAX_TIME_MS = Date.UTC(9999, 11, 31, 23, 59, 59, 999);
/** ISO 8601 / RFC 3339: a date, or a date and time (seconds, fraction, offset optional; 'T' or a space). */
const ISO_TIME = /^(\d{4})-(\d{2})-(\d{2})(?:[Tt ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?([Zz]|[+-]\d{2}:?\d{2})?)?$/;
const EPOCH_MS = /^\d{1,16}$/;

const shown = (value: string): string => JSON.stringify(value.length > 64 ? `${value.slice(0, 64)}…` : value);

/** Epoch ms of a strict ISO 8601 date or date-time (no offset: local time, as Date.parse), NaN when not a real one. */
function parseIso(value: string): number {
  const m = ISO_TIME.exec(value);
  if (!m) return Number.NaN;
  const [, y, mo, d, h, mi, sec, frac, offset] = m;
  const year = Number(y);
  const month = Number(mo);
  const day = Number(d);
  const daysInMonth = new Date(Date.UTC(year, month, 0)).getUTCDate();
  if (month < 1 || month > 12 || day < 1 || day > daysInMonth) return Number.NaN;
  if (h === undefined) return Date.UTC(year, month - 1, day);
  if (Number(h) > 23 || Number(mi) > 59 || Number(sec ?? 0) > 59) return Number.NaN;
  let zone = '';
  if (offset) {
    zone = offset.toUpperCase() === 'Z' ? 'Z' : `${offset.slice(0, 3)}:${offset.slice(-2)}`;
    if (zone !== 'Z' && (Number(zone.slice(1, 3)) > 23 || Number(zone.slice(4)) > 59)) return Number.NaN;
  }
  const ms = (frac ?? '').padEnd(3, '0').slice(0, 3);
  return Date.parse(`${y}-${mo}-${d}T${h}:${mi}:${sec ?? '00'}.${ms}${zone}`);
}

/**
 * Epoch ms from an ISO 8601 date (or date-time) or an epoch-ms number, within years 1970-9999;
 * BadRequestError naming the field otherwise (never a time no Date can show).
 */
export function parseTime(field: string, value: string | undefined, fallback: number): number {
  if (value === undefined || value === '') return fallback;
  const ms = EPOCH_MS.test(value) ? Number(value) : parseIso(value);
  if (!Number.isFinite(ms)) {
    throw new BadRequestError(`${field} must be an ISO 8601 date (e.g. 2026-11-01 or 2026-11-01T10:00:00Z) or epoch milliseconds, got ${shown(value)}`);
  }
  if (ms < MIN_TIME_MS || ms > MAX_TIME_MS) {
    throw new BadRequestError(`${field} must be between 1970-01-01T00:00:00Z and 9999-12-31T23:59:59.999Z, got ${shown(value)}`);
  }
  return ms;
}

export interface UsageRoutesDeps {
  rollups: UsageRollups;
  plan: PricePlan;
  /** Bytes a tenant keeps waiting in queues now, and its limit (absent without async triggers). */
  queued?: (tenant: string) => Promise<{ bytes: number; limitBytes?: number } | undefined>;
  clock?: () => number;
}

type UsageQuery = { from?: string; to?: string; function?: string; tenant?: string; groupBy?: string; interval?: Interval };

/** Whose usage a request may read: one tenant's (a tenant token always; the admin with ?tenant=), or all (admin). */
function scopeOf(request: FastifyRequest, tenant: string | undefined): string | undefined {
  if (request.principal.admin && !tenant) return undefined;
  return actingTenant(request, tenant);
}

export function usageRoutes(app: FastifyInstance, deps: UsageRoutesDeps): void {
  const clock = deps.clock ?? Date.now;
  const { plan } = deps;

  app.get<{ Querystring: UsageQuery }>(
    '/usage',
    {
      schema: {
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: {
            from: { type: 'string' },
            to: { type: 'string' },
            function: { type: 'string', pattern: FUNCTION_NAME_PATTERN },
            tenant: { type: 'string', pattern: TENANT_ID_PATTERN },
            groupBy: { type: 'string', enum: Object.keys(GROUPINGS) },
            interval: { type: 'string', enum: INTERVALS },
          },
        },
        response: { 200: usageReply },
      },
    },
    async (request) => {
      const { query } = request;
      const now = clock();
      const to = parseTime('to', query.to, now);
      const from = parseTime('from', query.from, to - 30 * DAY_MS);
      if (from >= to) throw new BadRequestError('from must be before to');
      const tenant = scopeOf(request, query.tenant);
      const answer = await deps.rollups.query({
        from,
        to,
        utcDays: !query.interval || (UTC.has(plan.timeZone) && (query.interval === 'day' || query.interval === 'month')),
        ...(tenant ? { tenants: [tenant] } : {}),
        ...(query.function ? { fn: query.function } : {}),
      });
      if (query.interval === 'minute' && answer.granularity !== 'minute') {
        throw new BadRequestError('interval=minute is kept for the last 3 days only; use hour, day or month for older ranges');
      }
      const groupBy = GROUPINGS[query.groupBy ?? 'function']!;
      const { rows, total } = rollupPartials(answer.partials, { groupBy, ...(query.interval ? { interval: query.interval } : {}), plan });
      return {
        // The range covered: whole minutes within the last 3 days, whole hours before.
        from: new Date(answer.from).toISOString(),
        to: new Date(answer.to).toISOString(),
        granularity: answer.granularity,
        timeZone: plan.timeZone,
        currency: plan.currency,
        ...(tenant ? { tenant } : {}),
        groupBy,
        ...(query.interval ? { interval: query.interval, buckets: bucketStarts(answer.from, answer.to, query.interval, plan.timeZone, MAX_BUCKETS) } : {}),
        rows: rows.map((row) => (row.bucket === undefined ? row : { ...row, bucketStart: isoInZone(row.bucket, plan.timeZone) })),
        total,
        // Storage now, not over the range: what the tenant keeps waiting in Redis (not priced).
        ...(tenant && deps.queued ? { queued: await deps.queued(tenant) } : {}),
        plan,
      };
    },
  );

  app.get<{ Params: { period: string }; Querystring: { tenant?: string; format?: 'json' | 'csv' } }>(
    '/invoices/:period',
    {
      schema: {
        params: { type: 'object', required: ['period'], properties: { period: { type: 'string' } } },
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: { tenant: { type: 'string', pattern: TENANT_ID_PATTERN }, format: { type: 'string', enum: ['json', 'csv'] } },
        },
        // The JSON form; the CSV one is sent as text (a string with its own content type is never serialized).
        response: { 200: invoiceReply },
      },
    },
    async (request, reply) => {
      const now = clock();
      let period: ReturnType<typeof parsePeriod>;
      try {
        period = request.params.period === 'current' ? periodOf(now, plan.timeZone) : parsePeriod(request.params.period, plan.timeZone);
      } catch (err) {
        if (err instanceof PeriodError) throw new BadRequestError(err.message);
        throw err;
      }
      const tenant = actingTenant(request, request.query.tenant);
      const { partials } = await deps.rollups.query({ from: period.from, to: period.to, tenants: [tenant], utcDays: true });
      const invoice = buildInvoice(tenant, period, partials, plan, now);
      const wantsCsv = request.query.format === 'csv' || (!request.query.format && /\btext\/csv\b/.test(request.headers.accept ?? ''));
      if (!wantsCsv) return { invoice };
      return reply
        .header('content-type', 'text/csv; charset=utf-8')
        .header('content-disposition', `attachment; filename="invoice-${tenant}-${period.id}.csv"`)
        .send(invoiceCsv(invoice));
    },
  );
}
