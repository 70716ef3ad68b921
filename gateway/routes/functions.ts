// Management of functions: deploy (create or update), list, get, delete, and recent invocation logs.
import type { FastifyInstance } from 'fastify';
import type { TriggerIndex } from '../../triggers/trigger-index.js';
import type { AsyncQueues } from '../../triggers/async-queues.js';
import { scheduleProblem, shortestIntervalMs } from '../../triggers/schedule.js';
import {
  BadRequestError,
  ConflictError,
  FunctionNotFoundError,
  LimitExceededError,
  NoHandlerError,
  QuotaExceededError,
  RuntimeUnavailableError,
} from '../../core/errors.js';
import { addonProblem } from './addon-check.js';
import { runtimeProblem } from '../../runtime-images/node/node-runtimes.js';
import { ambiguousDefault, azureTriggerProblem, handlerProblem } from './bundle-check.js';
import { aliasOf, AliasNotFoundError, LATEST_ALIAS } from '../../core/releases.js';
import { SecretNotFoundError, type SecretStore } from '../../secrets/secret-store.js';
import { includedPathProblem, includedTreeProblem, packCode } from '../../core/code-archive.js';
import { CONTAINER } from '../../runtime-images/node/protocol.js';
import { defaultFunctionConfig, MAX_WARM_POOL_SHARE, type FunctionConfig, type FunctionSpec } from '../../core/function-spec.js';
import { SETTING_KEYS, type RuntimeName } from '../../core/function-settings.js';
import { functionHostUrl } from '../edge/function-host.js';
import type { InvocationLogEntry, InvocationLogStore } from '../../metering/usage-record.js';
import type { FunctionRegistry } from '../../registry/function-registry.js';
import { functionId, functionPath, presentSpec, splitFunctionId, splitTriggerId, triggerId } from '../../tenancy/names.js';
import { tenantLimitProblem, type TenantLimits } from '../../tenancy/tenant-limits.js';
import { deployBody, errorBody, functionParams, functionSpec, logsReply, type DeployBody } from '../schemas/function.js';

export interface FunctionRoutesDeps {
  registry: FunctionRegistry;
  logs: InvocationLogStore;
  publicUrl: string;
  /** Functions answer at their own host under this domain too ('' when off). */
  domain?: string;
  maxCodeBytes: number;
  /** Images given for runtimes: those deploy even where their binary is not installed. */
  runtimeImages?: Partial<Record<RuntimeName, string>>;
  /** Async triggers (schedulers, queues): told of deploys and deletes. Absent in gateway-only unit tests. */
  triggers?: Pick<AsyncQueues, 'syncFunction' | 'removeFunction'>;
  /** What is deployed, indexed by queue and tenant (the triggers' index); without it, deploys list every function. */
  deployed?: Pick<TriggerIndex, 'claimantsOf' | 'functionsOf'>;
  /** Whether a tenant of this id exists (a default-tenant function may not take a tenant's name). */
  tenantExists?: (id: string) => Promise<boolean>;
  /** Memory one invoker's pool may hold (FAAS_POOL_MEMORY_MB) and the largest cpus of a function, for deploy checks. */
  poolMemoryMb: number;
  maxCpusPerFunction: number;
  /** Largest /tmp a function may ask for (FAAS_MAX_TMP_MB); unlimited when absent. */
  maxTmpMb?: number;
  /** Shortest time between two runs of a cron trigger (FAAS_MIN_SCHEDULE_INTERVAL_MS); any when absent. */
  minScheduleIntervalMs?: number;
  /** What one tenant may deploy in all (functions, queues, topics, cron triggers); no limit where absent. */
  tenantLimits?: TenantLimits;
  /** The tenants' secrets: a deploy naming one the tenant has not set is refused. */
  secrets?: Pick<SecretStore, 'missing'>;
  /** The tenant's maxContainers quota (undefined: none); absent in gateway-only unit tests (no tenants). */
  tenantQuota?: (tenant: string) => Promise<{ maxContainers?: number | undefined }>;
}

/** What a deploy's settings are checked against: the platform's capacity and the deploying tenant's quota. */
export interface DeployLimits {
  poolMemoryMb: number;
  maxCpusPerFunction: number;
  maxTmpMb?: number | undefined;
  minScheduleIntervalMs?: number | undefined;
  tenant: string;
  maxContainers?: number | undefined;
}

const thousands = (n: number) => n.toLocaleString('en-US');

/**
 * Why the deployed settings can never be honoured here, or undefined. `config` is the merged result (a
 * previous version's memory or minScale counts too); maxScale is held to the quota only when this deploy
 * sets it, since its default (10) is only a ceiling and the pool enforces the quota at run time anyway.
 */
export function limitProblem(config: FunctionConfig, body: Pick<DeployBody, 'maxScale'>, limits: DeployLimits): string | undefined {
  if (config.memoryMb > limits.poolMemoryMb) {
    return `memoryMb ${config.memoryMb} exceeds this platform's pool memory of ${thousands(limits.poolMemoryMb)} MB; a container of it could never start`;
  }
  if (config.cpus > limits.maxCpusPerFunction) {
    return `cpus ${config.cpus} exceeds this platform's limit of ${limits.maxCpusPerFunction} CPUs per function`;
  }
  if (limits.maxTmpMb !== undefined && config.tmpMb > limits.maxTmpMb) {
    return `tmpMb ${config.tmpMb} exceeds this platform's limit of ${thousands(limits.maxTmpMb)} MB for /tmp (FAAS_MAX_TMP_MB)`;
  }
  if (limits.minScheduleIntervalMs !== undefined) {
    for (const schedule of config.schedules) {
      const gapMs = shortestIntervalMs(schedule, new Date());
      if (gapMs < limits.minScheduleIntervalMs)
        return `schedule "${schedule.cron}" runs ${gapMs / 1000} s apart; this platform runs a schedule at most every ${limits.minScheduleIntervalMs / 1000} s (FAAS_MIN_SCHEDULE_INTERVAL_MS)`;
    }
  }
  if (config.tmpMb >= config.memoryMb) {
    return `tmpMb ${config.tmpMb} needs more memory than memoryMb ${config.memoryMb}: files in /tmp are held in the function's memory; raise --memory above --tmp`;
  }
  const quota = limits.maxContainers;
  if (quota !== undefined && config.minScale > quota) {
    return `minScale ${config.minScale} exceeds tenant ${limits.tenant}'s maxContainers quota (${quota})`;
  }
  if (quota !== undefined && body.maxScale !== undefined && body.maxScale > quota) {
    return `maxScale ${body.maxScale} exceeds tenant ${limits.tenant}'s maxContainers quota (${quota})`;
  }
  const warm = config.minScale * config.memoryMb;
  const warmLimit = Math.floor(limits.poolMemoryMb * MAX_WARM_POOL_SHARE);
  if (warm > warmLimit) {
    return `minScale ${config.minScale} × memory ${config.memoryMb} MB needs ${thousands(warm)} MB; the platform keeps at most ${thousands(warmLimit)} MB warm per function`;
  }
  return undefined;
}

/** A named queue has one consumer: deploying a second one for it is a conflict. Names are stored ids. */
function checkQueueOwners(claimantsOf: (queue: string) => readonly FunctionSpec[], id: string, queues: string[]): void {
  for (const queue of queues) {
    const other = claimantsOf(queue).find((spec) => spec.name !== id);
    if (other) {
      throw new ConflictError(
        `queue "${splitTriggerId(queue).name}" is consumed by function "${splitFunctionId(other.name).name}"; a queue has one consumer (use a topic to fan out)`,
      );
    }
  }
}

/** What is deployed, as the deploy checks ask: from the trigger index when there is one, else from a full list. */
async function deployedView(
  deps: FunctionRoutesDeps,
  tenant: string,
): Promise<{ claimantsOf(queue: string): FunctionSpec[]; tenantFunctions: FunctionSpec[] }> {
  if (deps.deployed) {
    const index = deps.deployed;
    return { claimantsOf: (queue) => index.claimantsOf(queue), tenantFunctions: index.functionsOf(tenant) };
  }
  const all = await deps.registry.list();
  return {
    claimantsOf: (queue) => all.filter((spec) => spec.queues.includes(queue)),
    tenantFunctions: all.filter((spec) => splitFunctionId(spec.name).tenant === tenant),
  };
}

type NameParams = { name: string };

/** Settings that are the function's rather than one version's: its triggers and how their jobs run. */
const TRIGGER_SETTINGS = ['queues', 'topics', 'schedules', 'triggerAlias', 'maxAttempts', 'maxEventAgeMs', 'maxBacklog', 'batchSize'] as const;

/** A function and where it answers: under the gateway's /fn, and at its own host when a domain is set. */
const deployed = {
  type: 'object',
  properties: { function: functionSpec, created: { type: 'boolean' }, url: { type: 'string' }, hostUrl: { type: 'string' } },
} as const;

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
  const urlsOf = (id: string) => ({ url: urlOf(id), ...(deps.domain ? { hostUrl: functionHostUrl(deps.publicUrl, deps.domain, splitFunctionId(id)) } : {}) });
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
      const bundle = Buffer.from(request.body.code, 'utf8');
      const files = new Map<string, Buffer>();
      for (const [file, content] of Object.entries(request.body.files ?? {})) {
        const problem = includedPathProblem(file, CONTAINER.codeFile);
        if (problem) throw new BadRequestError(`files: ${problem}`);
        files.set(file, Buffer.from(content, 'base64'));
      }
      const clash = includedTreeProblem(files.keys());
      if (clash) throw new BadRequestError(`files: ${clash}`);
      const foreign = addonProblem(files);
      if (foreign) throw new BadRequestError(foreign);
      const total = bundle.length + [...files.values()].reduce((sum, f) => sum + f.length, 0);
      if (total > deps.maxCodeBytes) {
        throw new BadRequestError(
          `code${files.size ? ' and files' : ''} come to ${total} bytes; the limit is ${deps.maxCodeBytes} bytes (FAAS_MAX_CODE_BYTES)`,
        );
      }
      const code = packCode(bundle, files);
      const previous = await deps.registry.get(id);
      // `/fn/<tenant>/...` belongs to the tenant: a default-tenant function cannot take a tenant's name.
      if (!previous && id === name && (await deps.tenantExists?.(name))) {
        throw new ConflictError(`"${name}" is the name of a tenant; choose another function name`);
      }
      const config = mergeConfig(request.body, previous && presentSpec(previous));
      // Secrets the tenant has set, and no environment variable of the same name (one would hide the other).
      if (config.secrets.length > 0) {
        const missing = deps.secrets ? await deps.secrets.missing(tenant, config.secrets) : config.secrets;
        if (missing.length > 0) throw new SecretNotFoundError(`secret ${missing.join(', ')} is not set; set it first (faas secret set ${missing[0]})`);
        const clash = config.secrets.find((name) => Object.hasOwn(config.env, name));
        if (clash) throw new BadRequestError(`${clash} is both an environment variable (--env) and a secret (--secret); keep one`);
      }
      // Triggers call an alias that exists (a rollback of it moves them too).
      if (config.triggerAlias && !(previous ? aliasOf(previous.releases, config.triggerAlias) : config.triggerAlias === LATEST_ALIAS)) {
        throw new AliasNotFoundError(
          `--trigger-alias ${config.triggerAlias}: function ${name} has no such alias yet; create it first (faas alias set ${name} ${config.triggerAlias} <version>)`,
        );
      }
      const noRuntime = deps.runtimeImages?.[config.runtime] ? undefined : runtimeProblem(config.runtime);
      if (noRuntime) throw new RuntimeUnavailableError(noRuntime);
      const noHandler = await handlerProblem(request.body.code, config.handler, config);
      if (noHandler) {
        // A setting kept from an earlier deploy is named as such: the new code is checked against it too.
        const kept =
          request.body.handler === undefined && config.handler
            ? `; --handler ${config.handler} is kept from the deploy of v${previous?.version}: give --handler default (or another export) to change it`
            : '';
        throw new NoHandlerError(`${noHandler}${kept}`);
      }
      const unattached = azureTriggerProblem(request.body.code, config);
      if (unattached) throw new BadRequestError(unattached);
      // A shape two contracts share is refused rather than guessed (a wrong guess answers wrongly).
      if (!config.style && !config.handler) {
        const ambiguous = await ambiguousDefault(request.body.code);
        if (ambiguous) throw new NoHandlerError(ambiguous);
      }
      // What can never be honoured (host memory and CPUs, warm memory, the tenant's quota) is refused now.
      const quota = await deps.tenantQuota?.(tenant);
      const problem = limitProblem(config, request.body, {
        poolMemoryMb: deps.poolMemoryMb,
        maxCpusPerFunction: deps.maxCpusPerFunction,
        maxTmpMb: deps.maxTmpMb,
        minScheduleIntervalMs: deps.minScheduleIntervalMs,
        tenant,
        maxContainers: quota?.maxContainers,
      });
      if (problem) throw new LimitExceededError(problem);
      // Stored queue and topic names carry the tenant, so tenants never share a queue or topic.
      config.queues = config.queues.map((q) => triggerId(tenant, q));
      config.topics = config.topics.map((t) => triggerId(tenant, t));
      // What is deployed, for both checks (indexed: a deploy costs the same with 10 functions or 10,000).
      if (config.queues.length > 0 || deps.tenantLimits) {
        const deployed = await deployedView(deps, tenant);
        checkQueueOwners(deployed.claimantsOf, id, config.queues);
        if (deps.tenantLimits) {
          const others = deployed.tenantFunctions.filter((s) => s.name !== id);
          const isNew = others.length === deployed.tenantFunctions.length;
          const tooMany = tenantLimitProblem(config, others, isNew, tenant, deps.tenantLimits);
          if (tooMany) throw new QuotaExceededError(tooMany);
        }
      }
      // Triggers and their settings are the function's (its newest version's): a version that changes them
      // takes effect for them at once, so it cannot be kept from traffic.
      if (request.body.promote === false && previous) {
        const changed = TRIGGER_SETTINGS.filter((key) => JSON.stringify(config[key]) !== JSON.stringify(previous[key]));
        if (changed.length > 0) {
          throw new ConflictError(
            `--no-promote cannot change ${changed.join(', ')}: triggers and their settings are the function's and would apply at once; deploy them promoted, or keep them as they are`,
          );
        }
      }
      const { spec, created } = await deps.registry.deploy({ name: id, code, config, promote: request.body.promote !== false });
      await deps.triggers?.syncFunction(spec);
      return reply.code(!previous ? 201 : 200).send({ function: presentSpec(spec), created, ...urlsOf(id) });
    },
  );

  app.get(
    '/functions',
    { schema: { response: { 200: { type: 'object', properties: { functions: { type: 'array', items: functionSpec } } } } } },
    async (request) => ({
      functions: (await deps.registry.list()).filter((spec) => splitFunctionId(spec.name).tenant === request.principal.tenant).map(presentSpec),
    }),
  );

  app.get<{ Params: NameParams }>('/functions/:name', { schema: { params: functionParams, response: { 200: deployed, 404: errorBody } } }, async (request) => {
    const spec = await own(request.principal.tenant, request.params.name);
    return { function: presentSpec(spec), ...urlsOf(spec.name) };
  });

  app.delete<{ Params: NameParams }>('/functions/:name', { schema: { params: functionParams } }, async (request, reply) => {
    const id = functionId(request.principal.tenant, request.params.name);
    const removed = await deps.registry.remove(id);
    if (!removed) throw new FunctionNotFoundError(request.params.name);
    await deps.logs.clear(id);
    await deps.triggers?.removeFunction(id);
    return reply.code(204).send();
  });

  app.get<{ Params: NameParams; Querystring: { limit: string; after?: string } }>(
    '/functions/:name/logs',
    {
      schema: {
        params: functionParams,
        // Query values are strings (types are not coerced), so the range 1..100 is a pattern. `after`: a
        // cursor from an earlier answer (or 'end'): what was written since, oldest first (`faas logs -f`).
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: {
            limit: { type: 'string', pattern: '^(100|[1-9][0-9]?)$', default: '20' },
            after: { type: 'string', pattern: '^(end|0|[0-9]{1,15}-[0-9]{1,10})$' },
          },
        },
        response: { 200: logsReply },
      },
    },
    async (request) => {
      const spec = await own(request.principal.tenant, request.params.name);
      const shown = (entries: InvocationLogEntry[]) => entries.map((entry) => ({ ...entry, fn: request.params.name }));
      const { after } = request.query;
      if (after === undefined) {
        const [logs, cursor] = await Promise.all([deps.logs.recent(spec.name, Number(request.query.limit)), deps.logs.end(spec.name)]);
        return { logs: shown(logs), cursor };
      }
      if (after === 'end') return { logs: [], cursor: await deps.logs.end(spec.name) };
      const { entries, cursor } = await deps.logs.after(spec.name, after);
      return { logs: shown(entries), cursor };
    },
  );
}
