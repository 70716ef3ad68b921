// Live containers by state: the caller's tenant's (prewarmed runtimes are nobody's), or every one for the admin.
import type { FastifyInstance } from 'fastify';
import { TENANT_ID_PATTERN } from '../../invoker/core/function-spec.js';
import type { Invoker } from '../../invoker/invoker.js';
import { actingTenant } from '../plugins/auth.js';

export function containerRoutes(api: FastifyInstance, deps: { invoker: Pick<Invoker, 'containerCounts'> }): void {
  api.get<{ Querystring: { tenant?: string } }>(
    '/containers',
    { schema: { querystring: { type: 'object', additionalProperties: false, properties: { tenant: { type: 'string', pattern: TENANT_ID_PATTERN } } } } },
    async (request) => {
      const tenant = request.principal.admin && !request.query.tenant ? undefined : actingTenant(request, request.query.tenant);
      return { ...(tenant ? { tenant } : {}), containers: await deps.invoker.containerCounts(tenant) };
    },
  );
}
