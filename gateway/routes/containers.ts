// Live containers: by state, and one by one (`faas ps`); the caller's tenant's (prewarmed runtimes are
// nobody's), or every one for the admin.
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { TENANT_ID_PATTERN, splitFunctionId } from '../../core/function-spec.js';
import type { Invoker } from '../../core/invoker.js';
import { actingTenant } from '../plugins/auth.js';
import { containerCountsReply, containerListReply } from '../schemas/container.js';

type Query = { Querystring: { tenant?: string } };

const querystring = { type: 'object', additionalProperties: false, properties: { tenant: { type: 'string', pattern: TENANT_ID_PATTERN } } } as const;

/** undefined: every tenant's (an admin that named none). */
const tenantOf = (request: FastifyRequest<Query>) =>
  request.principal.admin && !request.query.tenant ? undefined : actingTenant(request, request.query.tenant);

export function containerRoutes(api: FastifyInstance, deps: { invoker: Pick<Invoker, 'containerCounts' | 'containerList'> }): void {
  api.get<Query>('/containers', { schema: { querystring, response: { 200: containerCountsReply } } }, async (request) => {
    const tenant = tenantOf(request);
    return { ...(tenant ? { tenant } : {}), containers: await deps.invoker.containerCounts(tenant) };
  });

  api.get<Query>('/containers/list', { schema: { querystring, response: { 200: containerListReply } } }, async (request) => {
    const tenant = tenantOf(request);
    const list = await deps.invoker.containerList(tenant);
    return {
      ...(tenant ? { tenant } : {}),
      containers: list.map(({ fn, ...c }) => ({ ...c, ...(fn ? splitFunctionId(fn) : { tenant: null, name: null }) })),
    };
  });
}
