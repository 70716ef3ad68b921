// Liveness (no token) and the Prometheus scrape endpoint. /metrics with the admin token (FAAS_TOKEN) or the
// scrape token (FAAS_METRICS_TOKEN) has every series, per tenant, function and queue; with no Authorization
// header it has only platform-wide series (process, Node.js, containers by state, totals over all functions),
// since anyone may call it and tenants must not learn each other's function or queue names. A tenant's token
// gets 403, any other token 401.
import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Registry } from 'prom-client';
import { ForbiddenError, UnauthorizedError } from '../../core/errors.js';
import type { TokenLookup } from '../plugins/auth.js';
import type { GatewayMetrics } from '../../metrics/platform-metrics.js';

export interface MetricsAccess {
  /** The admin token (FAAS_TOKEN). */
  token: string;
  /** FAAS_METRICS_TOKEN: reads the full /metrics and nothing else. */
  metricsToken?: string | undefined;
  /** Finds a tenant's token, so that it gets 403 rather than 401. */
  lookup?: TokenLookup | undefined;
}

const digest = (value: string) => createHash('sha256').update(value).digest();

/** Whether this gateway can run calls: for a gateway apart from its invokers, how many are live and how many marked down. */
export interface Readiness {
  ready: boolean;
  invokers?: { live: number; down: number };
}

const healthReply = {
  type: 'object',
  properties: {
    status: { type: 'string' },
    invokers: { type: 'object', properties: { live: { type: 'integer' }, down: { type: 'integer' } } },
  },
} as const;

export function healthRoutes(app: FastifyInstance, metrics: GatewayMetrics, access: MetricsAccess, readiness: () => Readiness = () => ({ ready: true })): void {
  const admin = digest(access.token);
  const scraper = access.metricsToken ? digest(access.metricsToken) : undefined;

  /** The registry this request may read: the public one without a token; throws 401/403 for a token that is not the operator's. */
  const registryFor = async (request: FastifyRequest): Promise<Registry> => {
    const header = request.headers.authorization;
    if (header === undefined) return metrics.publicRegistry;
    const token = /^Bearer\s+(.+)$/i.exec(header)?.[1]?.trim();
    if (!token)
      throw new UnauthorizedError(
        'invalid token: send `Authorization: Bearer <token>` (FAAS_TOKEN or FAAS_METRICS_TOKEN), or no Authorization header for platform-wide series only',
      );
    const given = digest(token);
    // Both compared in constant time, without short-circuit.
    const isAdmin = timingSafeEqual(given, admin);
    const isScraper = scraper ? timingSafeEqual(given, scraper) : false;
    if (isAdmin || isScraper) return metrics.registry;
    if (access.lookup && (await access.lookup(token))) {
      throw new ForbiddenError(
        "a tenant's token cannot read /metrics (it names every tenant's functions): use the admin token (FAAS_TOKEN) or FAAS_METRICS_TOKEN, or no token for platform-wide series only; a tenant's own usage is at /api/v1/usage",
      );
    }
    throw new UnauthorizedError('invalid or revoked token');
  };

  // Liveness: the process answers (and says what it knows of its invokers). Readiness, for a load balancer:
  // 503 while no invoker is live, so traffic goes to a gateway that can run it.
  app.get('/healthz', { schema: { response: { 200: healthReply } } }, async () => {
    const { invokers } = readiness();
    return { status: 'ok', ...(invokers ? { invokers } : {}) };
  });
  app.get('/readyz', { schema: { response: { 200: healthReply, 503: healthReply } } }, async (_request, reply) => {
    const { ready, invokers } = readiness();
    return reply.code(ready ? 200 : 503).send({ status: ready ? 'ready' : 'no invoker is live', ...(invokers ? { invokers } : {}) });
  });
  app.get('/metrics', async (request, reply) => {
    const registry = await registryFor(request);
    const text = await registry.metrics();
    // The answer depends on the token: no shared cache may serve one caller's answer to another.
    return reply.type(registry.contentType).header('vary', 'authorization').header('cache-control', 'no-store').send(text);
  });
}
