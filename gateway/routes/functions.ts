// Management of functions: deploy (create or update), list, get, delete, and recent invocation logs.
import type { FastifyInstance } from 'fastify';
import type { AsyncQueues } from '../../invoker/async/async-queues.js';
import { scheduleProblem } from '../../invoker/async/schedule.js';
import { BadRequestError, ConflictError, FunctionNotFoundError } from '../../invoker/core/errors.js';
import { defaultFunctionConfig, type FunctionConfig, type FunctionSpec } from '../../invoker/core/function-spec.js';
import type { InvocationLogStore } from '../../invoker/metering/usage-record.js';
import type { FunctionRegistry } from '../../invoker/registry/function-registry.js';
import { functionId, functionPath, presentSpec, splitFunctionId, splitTriggerId, triggerId } from '../../invoker/tenancy/names.js';
import { deployBody, errorBody, functionParams, functionSpec, type DeployBody } from '../schemas/function.js';

export interface FunctionRoutesDeps {
  registry: FunctionRegistry;
  logs: InvocationLogStore;
  publicUrl: string;
  maxCodeBytes: number;
  /** Async triggers (schedulers, queues): told of deploys and deletes. Absent in gateway-only unit tests. */
  triggers?: Pick<AsyncQueues, 'syncFunction' | 'removeFunction'>;
  /** Whether a tenant of this id exists (a default-tenant function may not take a tenant's name). */
  tenantExists?: (id: string) => Promise<boolean>;
}

/** A named queue has one consumer: deploying a second one for it is a conflict. Names are stored ids. */
async function checkQueueOwners(registry: FunctionRegistry, id: string, queues: string[]): Promise<void> {
  if (queues.length === 0) return;
  for (const other of await registry.list()) {
    if (other.name === id) continue;
    const taken = other.queues.find((queue) => queues.includes(queue));
    if (taken) {
      throw new ConflictError(
        `queue "${splitTriggerId(taken).name}" is consumed by function "${splitFunctionId(other.name).name}"; a queue has one consumer (use a topic to fan out)`,
      );
    }
  }
}

type NameParams = { name: string };

const deployed = { type: 'object', properties: { function: functionSpec, url: { type: 'string' } } } as const;

const SETTING_KEYS = [
  'memoryMb',
  'cpus',
  'timeoutMs',
  'concurrency',
  'minScale',
  'maxScale',
  'idleTimeoutMs',
  'env',
  'network',
  'queues',
  'topics',
  'schedules',
  'maxAttempts',
  'maxEventAgeMs',
  'maxBacklog',
  'batchSize',
] as const;

/** The deployed settings: what the body gives, else the previous version's, else the defaults. */
export function mergeConfig(body: DeployBody, previous: FunctionSpec | undefined): FunctionConfig {
  const config: FunctionConfig = { ...defaultFunctionConfig() };
  for (const key of SETTING_KEYS) {
    const value = body[key] ?? previous?.[key];
    if (value !== undefined) (config as unknown as Record<string, unknown>)[key] = value;
  }
  if (config.minScale > config.maxScale) {
    throw new BadRequestError(`minScale (${config.minScale}) must not exceed maxScale (${config.maxScale})`);
  }
  for (const schedule of config.schedules) {
    const problem = scheduleProblem(schedule);
    if (problem) throw new BadRequestError(problem);
  }
  return config;
}

export function functionRoutes(app: FastifyInstance, deps: FunctionRoutesDeps): void {
  const urlOf = (id: string) => {
    const { tenant, name } = splitFunctionId(id);
    return `${deps.publicUrl}${functionPath(tenant, name)}`;
  };
  /** The caller's own function, or 404 as if it did not exist (another tenant's is never revealed). */
  const own = async (tenant: string, name: string): Promise<FunctionSpec> => {
    const spec = await deps.registry.get(functionId(tenant, name));
    if (!spec) throw new FunctionNotFoundError(name);
    return spec;
  };

  app.put<{ Params: NameParams; Body: DeployBody }>(
    '/functions/:name',
    {
      // Room for JSON escaping of the code; the code's own size is checked below, with a clear 400.
      bodyLimit: deps.maxCodeBytes * 2 + 1024 * 1024,
      schema: {
        params: functionParams,
        body: deployBody,
        response: { 200: deployed, 201: deployed },
      },
    },
    async (request, reply) => {
      const { name } = request.params;
      const tenant = request.principal.tenant;
      const id = functionId(tenant, name);
      const code = Buffer.from(request.body.code, 'utf8');
      if (code.length > deps.maxCodeBytes) {
        throw new BadRequestError(`code is ${code.length} bytes; the limit is ${deps.maxCodeBytes} bytes (FAAS_MAX_CODE_BYTES)`);
      }
      const previous = await deps.registry.get(id);
      // `/fn/<tenant>/...` belongs to the tenant: a default-tenant function cannot take a tenant's name.
      if (!previous && id === name && (await deps.tenantExists?.(name))) {
        throw new ConflictError(`"${name}" is the name of a tenant; choose another function name`);
      }
      // Stored queue and topic names carry the tenant, so tenants never share a queue or topic.
      const config = mergeConfig(request.body, previous && presentSpec(previous));
      config.queues = config.queues.map((q) => triggerId(tenant, q));
      config.topics = config.topics.map((t) => triggerId(tenant, t));
      await checkQueueOwners(deps.registry, id, config.queues);
      const spec = await deps.registry.deploy({ name: id, code, config });
      await deps.triggers?.syncFunction(spec);
      return reply.code(spec.version === 1 ? 201 : 200).send({ function: presentSpec(spec), url: urlOf(id) });
    },
  );

  app.get('/functions', { schema: { response: { 200: { type: 'object', properties: { functions: { type: 'array', items: functionSpec } } } } } }, async (request) => ({
    functions: (await deps.registry.list()).filter((spec) => splitFunctionId(spec.name).tenant === request.principal.tenant).map(presentSpec),
  }));

  app.get<{ Params: NameParams }>(
    '/functions/:name',
    { schema: { params: functionParams, response: { 200: deployed, 404: errorBody } } },
    async (request) => {
      const spec = await own(request.principal.tenant, request.params.name);
      return { function: presentSpec(spec), url: urlOf(spec.name) };
    },
  );

  app.delete<{ Params: NameParams }>('/functions/:name', { schema: { params: functionParams } }, async (request, reply) => {
    const id = functionId(request.principal.tenant, request.params.name);
    const removed = await deps.registry.remove(id);
    if (!removed) throw new FunctionNotFoundError(request.params.name);
    await deps.logs.clear(id);
    await deps.triggers?.removeFunction(id);
    return reply.code(204).send();
  });

  app.get<{ Params: NameParams; Querystring: { limit: string } }>(
    '/functions/:name/logs',
    {
      schema: {
        params: functionParams,
        // Query values are strings (types are not coerced), so the range 1..100 is a pattern.
        querystring: { type: 'object', additionalProperties: false, properties: { limit: { type: 'string', pattern: '^(100|[1-9][0-9]?)$', default: '20' } } },
      },
    },
    async (request) => {
      const spec = await own(request.principal.tenant, request.params.name);
      const logs = await deps.logs.recent(spec.name, Number(request.query.limit));
      return { logs: logs.map((entry) => ({ ...entry, fn: request.params.name })) };
    },
  );
}
