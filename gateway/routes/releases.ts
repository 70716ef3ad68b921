// A function's releases over the API: its kept versions, its aliases (with canaries), the default alias, and
// rollback. Every change is one atomic write of the function's record (registry.updateReleases); each check
// is core/releases.ts's, so a refused change writes nothing and the old pointer stays.
import type { FastifyInstance } from 'fastify';
import { FunctionNotFoundError } from '../../core/errors.js';
import type { FunctionRecord } from '../../core/function-spec.js';
import { ConflictError } from '../../core/errors.js';
import { ALIAS_NAME_PATTERN, removeAlias, removeVersion, rollback, routedBy, setAlias, setDefaultAlias, type Releases } from '../../core/releases.js';
import type { FunctionRegistry, ReleasesChange } from '../../registry/function-registry.js';
import { functionId, presentSpec } from '../../tenancy/names.js';
import { errorBody, functionParams, functionSpec, releasesSchema } from '../schemas/function.js';

export interface ReleaseRoutesDeps {
  registry: Pick<FunctionRegistry, 'get' | 'versions' | 'updateReleases' | 'restart'>;
}

const aliasParams = {
  type: 'object',
  required: ['name', 'alias'],
  properties: { ...functionParams.properties, alias: { type: 'string', pattern: ALIAS_NAME_PATTERN } },
} as const;

const versionParams = {
  type: 'object',
  required: ['name', 'version'],
  properties: { ...functionParams.properties, version: { type: 'string', pattern: '^[1-9][0-9]{0,9}$' } },
} as const;

const canary = {
  type: 'object',
  required: ['version', 'percent'],
  additionalProperties: false,
  properties: { version: { type: 'integer', minimum: 1 }, percent: { type: 'number', exclusiveMinimum: 0, exclusiveMaximum: 100 } },
} as const;

const aliasBody = {
  type: 'object',
  required: ['version'],
  additionalProperties: false,
  properties: { version: { type: 'integer', minimum: 1 }, canary },
} as const;

const rollbackBody = {
  type: 'object',
  additionalProperties: false,
  properties: { alias: { type: 'string', pattern: ALIAS_NAME_PATTERN }, to: { type: 'integer', minimum: 1 } },
} as const;

const releasesReply = { type: 'object', properties: { releases: releasesSchema } } as const;

const versionsReply = {
  type: 'object',
  properties: {
    versions: { type: 'array', items: { type: 'object', properties: { ...functionSpec.properties, aliases: { type: 'array', items: { type: 'string' } } } } },
    releases: releasesSchema,
  },
} as const;

type NameParams = { name: string };
type AliasParams = NameParams & { alias: string };

export function releaseRoutes(app: FastifyInstance, deps: ReleaseRoutesDeps): void {
  /** Changes the caller's own function's releases; another tenant's function is never found. */
  const change = async (tenant: string, name: string, fn: (record: FunctionRecord) => Releases): Promise<{ releases: Releases }> => {
    const record = await deps.registry.updateReleases(functionId(tenant, name), fn as ReleasesChange);
    if (!record) throw new FunctionNotFoundError(name);
    return { releases: record.releases };
  };
  const now = () => new Date().toISOString();

  app.get<{ Params: NameParams }>(
    '/functions/:name/versions',
    { schema: { params: functionParams, response: { 200: versionsReply, 404: errorBody } } },
    async (request) => {
      const id = functionId(request.principal.tenant, request.params.name);
      const record = await deps.registry.get(id);
      if (!record) throw new FunctionNotFoundError(request.params.name);
      const versions = await deps.registry.versions(id);
      return {
        versions: versions.map((spec) => ({ ...presentSpec(spec), aliases: routedBy(record.releases, spec.version) })),
        releases: record.releases,
      };
    },
  );

  app.delete<{ Params: NameParams & { version: string } }>(
    '/functions/:name/versions/:version',
    { schema: { params: versionParams, response: { 200: releasesReply, 404: errorBody, 409: errorBody } } },
    async (request) =>
      change(request.principal.tenant, request.params.name, (record) =>
        removeVersion(record.releases, request.params.name, Number(request.params.version), record.version),
      ),
  );

  app.get<{ Params: NameParams }>(
    '/functions/:name/aliases',
    { schema: { params: functionParams, response: { 200: releasesReply, 404: errorBody } } },
    async (request) => {
      const record = await deps.registry.get(functionId(request.principal.tenant, request.params.name));
      if (!record) throw new FunctionNotFoundError(request.params.name);
      return { releases: record.releases };
    },
  );

  app.put<{ Params: AliasParams; Body: { version: number; canary?: { version: number; percent: number } } }>(
    '/functions/:name/aliases/:alias',
    { schema: { params: aliasParams, body: aliasBody, response: { 200: releasesReply, 400: errorBody, 404: errorBody } } },
    async (request) =>
      change(request.principal.tenant, request.params.name, (record) =>
        setAlias(record.releases, request.params.name, request.params.alias, request.body, now()),
      ),
  );

  app.delete<{ Params: AliasParams }>(
    '/functions/:name/aliases/:alias',
    { schema: { params: aliasParams, response: { 200: releasesReply, 404: errorBody, 409: errorBody } } },
    async (request) =>
      change(request.principal.tenant, request.params.name, (record) => {
        if (record.triggerAlias === request.params.alias) {
          throw new ConflictError(
            `alias ${request.params.alias} is what the triggers of ${request.params.name} call (--trigger-alias); redeploy with another first`,
          );
        }
        return removeAlias(record.releases, request.params.name, request.params.alias);
      }),
  );

  app.put<{ Params: NameParams; Body: { alias: string } }>(
    '/functions/:name/default-alias',
    {
      schema: {
        params: functionParams,
        body: { type: 'object', required: ['alias'], additionalProperties: false, properties: { alias: { type: 'string', pattern: ALIAS_NAME_PATTERN } } },
        response: { 200: releasesReply, 404: errorBody },
      },
    },
    async (request) =>
      change(request.principal.tenant, request.params.name, (record) => setDefaultAlias(record.releases, request.params.name, request.body.alias)),
  );

  app.post<{ Params: NameParams }>('/functions/:name/restart', { schema: { params: functionParams, response: { 404: errorBody } } }, async (request, reply) => {
    const record = await deps.registry.restart(functionId(request.principal.tenant, request.params.name));
    if (!record) throw new FunctionNotFoundError(request.params.name);
    return reply.code(204).send();
  });

  app.post<{ Params: NameParams; Body: { alias?: string; to?: number } }>(
    '/functions/:name/rollback',
    { schema: { params: functionParams, body: rollbackBody, response: { 200: releasesReply, 404: errorBody, 409: errorBody } } },
    async (request) =>
      change(request.principal.tenant, request.params.name, (record) =>
        rollback(record.releases, request.params.name, request.body?.alias ?? record.releases.defaultAlias, request.body?.to, now()),
      ),
  );
}
