// Tenants and their tokens (admin token only), and /whoami for any token.
import type { FastifyInstance } from 'fastify';
import { ConflictError, TenantNotFoundError } from '../../core/errors.js';
import { DEFAULT_TENANT, TENANT_ID_PATTERN } from '../../core/function-spec.js';
import type { FunctionRegistry } from '../../registry/function-registry.js';
import { splitFunctionId } from '../../tenancy/names.js';
import type { TenantQuotas, TenantStore } from '../../tenancy/tenant-store.js';
import { requireAdmin } from '../plugins/auth.js';
import { createdTokenReply, tenantListReply, tenantReply, tokenListReply, whoamiReply } from '../schemas/tenant.js';

export interface TenantRoutesDeps {
  tenants: TenantStore;
  registry: FunctionRegistry;
}

const quotaProperties = {
  maxContainers: { type: ['integer', 'null'], minimum: 1, maximum: 100_000 },
  maxGbSecondsPerPeriod: { type: ['number', 'null'], exclusiveMinimum: 0 },
  maxQueuedBytes: { type: ['integer', 'null'], minimum: 0 },
} as const;
const tenantParams = { type: 'object', required: ['id'], properties: { id: { type: 'string', pattern: TENANT_ID_PATTERN } } } as const;
const tokenParams = { type: 'object', required: ['id'], properties: { id: { type: 'string', pattern: '^[0-9a-f]{12}$' } } } as const;

type Quotas = { [K in keyof TenantQuotas]?: number | null };

const withoutNulls = (quotas: Quotas): TenantQuotas =>
  Object.fromEntries(Object.entries(quotas).filter(([, v]) => v !== null && v !== undefined)) as TenantQuotas;

export function tenantRoutes(api: FastifyInstance, deps: TenantRoutesDeps): void {
  const functionsOf = async (tenant: string) => (await deps.registry.list()).filter((spec) => splitFunctionId(spec.name).tenant === tenant);

  api.get('/whoami', { schema: { response: { 200: whoamiReply } } }, async (request) => {
    const tenant = await deps.tenants.get(request.principal.tenant);
    return {
      tenant: request.principal.tenant,
      admin: request.principal.admin,
      quotas: tenant?.quotas ?? {},
      ...(request.principal.tokenId ? { tokenId: request.principal.tokenId } : {}),
    };
  });

  api.get('/tenants', { schema: { response: { 200: tenantListReply } } }, async (request) => {
    requireAdmin(request);
    return { tenants: await deps.tenants.list() };
  });

  api.post<{ Body: { id: string } & Quotas }>(
    '/tenants',
    {
      schema: {
        body: {
          type: 'object',
          required: ['id'],
          additionalProperties: false,
          properties: { id: { type: 'string', pattern: TENANT_ID_PATTERN }, ...quotaProperties },
        },
        response: { 201: tenantReply },
      },
    },
    async (request, reply) => {
      requireAdmin(request);
      const { id, ...quotas } = request.body;
      // /fn/<id>/... would be ambiguous with a default-tenant function of that name.
      if (await deps.registry.get(id)) throw new ConflictError(`a function of the default tenant is named "${id}"; choose another tenant id`);
      return reply.code(201).send({ tenant: await deps.tenants.create(id, withoutNulls(quotas)) });
    },
  );

  api.patch<{ Params: { id: string }; Body: Quotas }>(
    '/tenants/:id',
    { schema: { params: tenantParams, body: { type: 'object', additionalProperties: false, properties: quotaProperties }, response: { 200: tenantReply } } },
    async (request) => {
      requireAdmin(request);
      return { tenant: await deps.tenants.setQuotas(request.params.id, request.body as TenantQuotas) };
    },
  );

  api.delete<{ Params: { id: string } }>('/tenants/:id', { schema: { params: tenantParams } }, async (request, reply) => {
    requireAdmin(request);
    if (request.params.id === DEFAULT_TENANT) throw new ConflictError('the default tenant cannot be removed');
    if (!(await deps.tenants.get(request.params.id))) throw new TenantNotFoundError(request.params.id);
    const left = await functionsOf(request.params.id);
    if (left.length > 0) {
      throw new ConflictError(
        `tenant "${request.params.id}" still has ${left.length} function(s) (${left.map((s) => splitFunctionId(s.name).name).join(', ')}); delete them first`,
      );
    }
    await deps.tenants.remove(request.params.id);
    return reply.code(204).send();
  });

  api.post<{ Params: { id: string }; Body: { name?: string } }>(
    '/tenants/:id/tokens',
    {
      schema: {
        params: tenantParams,
        body: { type: ['object', 'null'], additionalProperties: false, properties: { name: { type: 'string', minLength: 1, maxLength: 100 } } },
        response: { 201: createdTokenReply },
      },
    },
    async (request, reply) => {
      requireAdmin(request);
      const { token, info } = await deps.tenants.createToken(request.params.id, request.body?.name ?? 'token');
      return reply.code(201).send({ token, ...info, note: 'the token is shown once; store it now' });
    },
  );

  api.get<{ Querystring: { tenant?: string } }>(
    '/tokens',
    {
      schema: {
        querystring: { type: 'object', additionalProperties: false, properties: { tenant: { type: 'string', pattern: TENANT_ID_PATTERN } } },
        response: { 200: tokenListReply },
      },
    },
    async (request) => {
      requireAdmin(request);
      return { tokens: await deps.tenants.tokens(request.query.tenant) };
    },
  );

  api.delete<{ Params: { id: string } }>('/tokens/:id', { schema: { params: tokenParams } }, async (request, reply) => {
    requireAdmin(request);
    await deps.tenants.revoke(request.params.id);
    return reply.code(204).send();
  });
}
