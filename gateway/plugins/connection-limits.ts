// The connection guard (edge/connection-guard.ts) on the management API's requests, through fastify's hooks.
// The function trigger (trigger/) calls the same guard without them.
import type { FastifyInstance } from 'fastify';
import type { ConnectionGuard } from '../edge/connection-guard.js';

export function registerConnectionLimits(app: FastifyInstance, guard: ConnectionGuard): void {
  // First of the onRequest hooks (registered before the edge's): the request is being received.
  app.addHook('onRequest', async (request, reply) => {
    guard.receiving(request.raw, reply.raw);
  });
  // Past the body parser: the request is being handled.
  app.addHook('preHandler', async (request) => {
    guard.handling(request.raw.socket);
  });
}
