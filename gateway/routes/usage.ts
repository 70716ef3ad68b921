// Usage totals per function over a time range, with estimated cost.
import type { FastifyInstance } from 'fastify';
import { BadRequestError } from '../../invoker/core/errors.js';
import { sumTotals } from '../../invoker/metering/usage-math.js';
import type { Prices, UsageStore } from '../../invoker/metering/usage-record.js';
import { FUNCTION_NAME_PATTERN } from '../../invoker/core/function-spec.js';

const DAY_MS = 86_400_000;

/** Epoch ms from an ISO 8601 date or an epoch-ms number; BadRequestError naming the field otherwise. */
export function parseTime(field: string, value: string | undefined, fallback: number): number {
  if (value === undefined || value === '') return fallback;
  const ms = /^\d+$/.test(value) ? Number(value) : Date.parse(value);
  if (!Number.isFinite(ms)) throw new BadRequestError(`${field} must be an ISO 8601 date or epoch milliseconds, got "${value}"`);
  return ms;
}

export function usageRoutes(app: FastifyInstance, deps: { usage: UsageStore; prices: Prices; clock?: () => number }): void {
  const clock = deps.clock ?? Date.now;
  app.get<{ Querystring: { from?: string; to?: string; function?: string } }>(
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
          },
        },
      },
    },
    async (request) => {
      const now = clock();
      const to = parseTime('to', request.query.to, now);
      const from = parseTime('from', request.query.from, to - 30 * DAY_MS);
      if (from >= to) throw new BadRequestError('from must be before to');
      const functions = await deps.usage.totals({ from, to, ...(request.query.function ? { fn: request.query.function } : {}) }, deps.prices);
      return {
        from: new Date(from).toISOString(),
        to: new Date(to).toISOString(),
        prices: deps.prices,
        functions,
        total: sumTotals(functions, deps.prices),
      };
    },
  );
}
