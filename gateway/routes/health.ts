// Liveness and the Prometheus scrape endpoint (no token).
import type { FastifyInstance } from 'fastify';
import type { GatewayMetrics } from '../plugins/metrics.js';

export function healthRoutes(app: FastifyInstance, metrics: GatewayMetrics): void {
  app.get('/healthz', { schema: { response: { 200: { type: 'object', properties: { status: { type: 'string' } } } } } }, async () => ({
    status: 'ok',
  }));
  app.get('/metrics', async (_request, reply) => {
    const text = await metrics.registry.metrics();
    return reply.type(metrics.registry.contentType).send(text);
  });
}
