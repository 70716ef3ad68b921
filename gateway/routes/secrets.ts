// A tenant's secrets over the API: set, list (names and dates only: a value never leaves by any API), delete
// (refused while a kept version uses it, unless forced), and the admin's re-seal after a key rotation.
import type { FastifyInstance } from 'fastify';
import { ConflictError, LimitExceededError } from '../../core/errors.js';
import { splitFunctionId } from '../../core/function-spec.js';
import type { FunctionRegistry } from '../../registry/function-registry.js';
import { MAX_SECRET_BYTES, MAX_SECRETS_PER_TENANT, SECRET_NAME_PATTERN, SecretNotFoundError, type SecretStore } from '../../secrets/secret-store.js';
import { requireAdmin } from '../plugins/auth.js';
import { errorBody } from '../schemas/function.js';

export interface SecretRoutesDeps {
  secrets: SecretStore;
  registry: Pick<FunctionRegistry, 'list' | 'versions' | 'restart'>;
}

const nameParams = { type: 'object', required: ['name'], properties: { name: { type: 'string', pattern: SECRET_NAME_PATTERN } } } as const;

const secretInfo = {
  type: 'object',
  properties: {
    name: { type: 'string' },
    createdAt: { type: 'string' },
    updatedAt: { type: 'string' },
    /** The kept versions naming it, as `function@version`. */
    usedBy: { type: 'array', items: { type: 'string' } },
  },
} as const;

export function secretRoutes(app: FastifyInstance, deps: SecretRoutesDeps): void {
  /** Every kept version of the tenant's functions naming each secret: its function's id and `name@version`. */
  const usersOf = async (tenant: string): Promise<Map<string, Array<{ id: string; label: string }>>> => {
    const users = new Map<string, Array<{ id: string; label: string }>>();
    for (const record of await deps.registry.list()) {
      const { tenant: owner, name } = splitFunctionId(record.name);
      if (owner !== tenant) continue;
      for (const spec of await deps.registry.versions(record.name)) {
        for (const secret of spec.secrets) users.set(secret, [...(users.get(secret) ?? []), { id: record.name, label: `${name}@${spec.version}` }]);
      }
    }
    return users;
  };

  app.get('/secrets', { schema: { response: { 200: { type: 'object', properties: { secrets: { type: 'array', items: secretInfo } } } } } }, async (request) => {
    const users = await usersOf(request.principal.tenant);
    const secrets = await deps.secrets.list(request.principal.tenant);
    return { secrets: secrets.map((s) => ({ ...s, usedBy: (users.get(s.name) ?? []).map((u) => u.label) })) };
  });

  app.put<{ Params: { name: string }; Body: { value: string } }>(
    '/secrets/:name',
    {
      schema: {
        params: nameParams,
        body: { type: 'object', required: ['value'], additionalProperties: false, properties: { value: { type: 'string' } } },
        response: { 200: { type: 'object', properties: { secret: secretInfo, created: { type: 'boolean' } } }, 400: errorBody },
      },
    },
    async (request, reply) => {
      const { name } = request.params;
      const tenant = request.principal.tenant;
      const bytes = Buffer.byteLength(request.body.value, 'utf8');
      if (bytes > MAX_SECRET_BYTES) throw new LimitExceededError(`secret ${name} is ${bytes} bytes; a secret holds at most ${MAX_SECRET_BYTES} bytes (32 KiB)`);
      if (request.body.value.includes('\0')) throw new LimitExceededError(`secret ${name} holds a NUL character, which no environment variable can; base64 it`);
      if (!(await deps.secrets.exists(tenant, name)) && (await deps.secrets.count(tenant)) >= MAX_SECRETS_PER_TENANT) {
        throw new LimitExceededError(`tenant ${tenant} has ${MAX_SECRETS_PER_TENANT} secrets, the most one tenant may keep; delete one first`);
      }
      const { created } = await deps.secrets.set(tenant, name, request.body.value);
      // A new value: the containers holding the old one are replaced (idle ones now, busy ones when done).
      if (!created) for (const id of new Set(((await usersOf(tenant)).get(name) ?? []).map((u) => u.id))) await deps.registry.restart(id);
      const info = (await deps.secrets.list(tenant)).find((s) => s.name === name);
      return reply.code(created ? 201 : 200).send({ secret: info, created });
    },
  );

  app.delete<{ Params: { name: string }; Querystring: { force?: string } }>(
    '/secrets/:name',
    {
      schema: {
        params: nameParams,
        querystring: { type: 'object', additionalProperties: false, properties: { force: { type: 'string', enum: ['true', 'false'] } } },
        response: { 404: errorBody, 409: errorBody },
      },
    },
    async (request, reply) => {
      const { name } = request.params;
      const tenant = request.principal.tenant;
      if (!(await deps.secrets.exists(tenant, name))) throw new SecretNotFoundError(`secret ${name} is not set`);
      const users = ((await usersOf(tenant)).get(name) ?? []).map((u) => u.label);
      if (users.length > 0 && request.query.force !== 'true') {
        throw new ConflictError(`secret ${name} is used by ${users.join(', ')}; their containers could not start without it (delete anyway with --force)`);
      }
      await deps.secrets.remove(tenant, name);
      return reply.code(204).send();
    },
  );

  app.post('/secrets/rotate', { schema: { response: { 200: { type: 'object', properties: { resealed: { type: 'integer' } } } } } }, async (request) => {
    requireAdmin(request);
    return { resealed: await deps.secrets.reseal() };
  });
}
