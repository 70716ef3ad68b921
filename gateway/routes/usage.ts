// Usage over any range grouped by tenant, function and minute/hour/day/month, and invoices per tenant per
// period (JSON or CSV), from the usage rollups. Both price through the billing module, so every total
// agrees to the cent.
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { BadRequestError } from '../../invoker/core/errors.js';
import { FUNCTION_NAME_PATTERN, TENANT_ID_PATTERN } from '../../invoker/core/function-spec.js';
import type { PricePlan } from '../../invoker/metering/billing.js';
import { buildInvoice, invoiceCsv } from '../../invoker/metering/invoice.js';
import { INTERVALS, PeriodError, bucketStarts, isoInZone, parsePeriod, periodOf, type Interval } from '../../invoker/metering/periods.js';
import type { UsageRollups } from '../../invoker/metering/redis-rollups.js';
import { rollupPartials, type GroupKey } from '../../invoker/metering/rollup.js';
import { actingTenant } from '../plugins/auth.js';

const DAY_MS = 86_400_000;
/** Buckets listed at most (a week of minutes). */
const MAX_BUCKETS = 10_080;
const UTC = new Set(['UTC', 'Etc/UTC', 'Etc/GMT', 'GMT']);
const GROUPINGS: Record<string, GroupKey[]> = { function: ['function'], tenant: ['tenant'], 'tenant,function': ['tenant', 'function'], none: [] };

/** Epoch ms from an ISO 8601 date or an epoch-ms number; BadRequestError naming the field otherwise. */
export function parseTime(field: string, value: string | undefined, fallback: number): number {
  if (value === undefined || value === '') return fallback;
  const ms = /^\d+$/.test(value) ? Number(value) : Date.parse(value);
  if (!Number.isFinite(ms)) throw new BadRequestError(`${field} must be an ISO 8601 date or epoch milliseconds, got "${value}"`);
  return ms;
}

export interface UsageRoutesDeps {
  rollups: UsageRollups;
  plan: PricePlan;
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
      },
    },
    async (request, reply) => {
      const now = clock();
      let period;
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
