// Every per-function setting, defined once: its schema (type, range, default, documentation) and its CLI
// flag. The TypeScript type (FunctionConfig), the defaults, the ranges deploy checks, the API's JSON schema,
// the keys a redeploy merges and `faas deploy`'s flags are all derived from this table. A new setting is
// one entry here.
import Type, { type Static, type TSchema } from 'typebox';

/** Queue and topic names: safe in URLs and Redis keys; dots allowed (`orders.created`). */
export const TRIGGER_NAME_PATTERN = '^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$';

/** Secret names: usable as an environment variable and a file name (under /run/secrets); never FAAS_*. */
export const SECRET_NAME_PATTERN = '^(?!FAAS_)[A-Za-z_][A-Za-z0-9_]{0,63}$';

/** Binding names (KV namespaces, queue producers): a JavaScript name the function reads as env.NAME. */
export const BINDING_NAME_PATTERN = '^[A-Za-z_][A-Za-z0-9_]{0,63}$';

/** Function environment variable names: never the platform's own FAAS_*. */
export const ENV_NAME_PATTERN = '^(?!FAAS_)[A-Za-z_][A-Za-z0-9_]*$';

/**
 * How `faas deploy` takes a setting: the flag and its argument, how its text becomes the value, and its help.
 * integer/number/duration: one value; names: a repeatable flag collected into a list of trigger names;
 * pairs: repeatable KEY=VALUE; switch: a flag without argument; schedules: repeatable cron expressions,
 * with --timezone applying to them.
 */
export interface CliFlag {
  flag: string;
  parse: 'integer' | 'number' | 'duration' | 'text' | 'names' | 'pairs' | 'switch' | 'schedules';
  help: string;
}

const setting = <S extends TSchema>(schema: S, cli: CliFlag) => ({ schema, cli });

const integer = (minimum: number, maximum: number, def: number, description: string) => Type.Integer({ minimum, maximum, default: def, description });

const names = (description: string) =>
  Type.Array(Type.String({ pattern: TRIGGER_NAME_PATTERN }), { maxItems: 20, uniqueItems: true, default: [], description });

const ScheduleSchema = Type.Object(
  {
    cron: Type.String({ minLength: 1, maxLength: 200 }),
    /** IANA time zone, e.g. Europe/Paris (default UTC). */
    timezone: Type.Optional(Type.String({ minLength: 1, maxLength: 64 })),
  },
  { additionalProperties: false },
);

/** A cron trigger: a 5-field (or 6-field, with seconds) cron expression, in a time zone (default UTC). */
export type Schedule = Static<typeof ScheduleSchema>;

/** An export's name (JavaScript identifier); `file.name` as serverless.yml writes it is accepted by the CLI. */
export const HANDLER_NAME_PATTERN = '^[A-Za-z_$][A-Za-z0-9_$]{0,99}$';

/** The Node.js versions a function runs on (--runtime); the platform's own Node is node20. */
export const RUNTIMES = ['node20', 'node22', 'node24'] as const;
export type RuntimeName = (typeof RUNTIMES)[number];
/** Functions that never chose one (and those deployed before runtimes were a setting) run on it. */
export const DEFAULT_RUNTIME: RuntimeName = 'node20';

export const SETTINGS = {
  handler: setting(
    Type.String({
      pattern: '^(?:[A-Za-z_$][A-Za-z0-9_$]{0,99})?$',
      default: '',
      description: "The export that handles calls; '' finds it: default (a function or { fetch }), or handler.",
    }),
    { flag: '--handler <export>', parse: 'text', help: 'the export that handles calls, e.g. hello or handler.hello (default: default, or handler)' },
  ),
  style: setting(
    Type.Union(
      [
        Type.Literal(''),
        Type.Literal('web'),
        Type.Literal('lambda'),
        Type.Literal('workers'),
        Type.Literal('fission'),
        Type.Literal('openwhisk'),
        Type.Literal('openfaas'),
        Type.Literal('knative'),
        Type.Literal('vercel'),
        Type.Literal('azure'),
      ],
      {
        default: '',
        description:
          "The handler contract: 'web' (request[, context]) => Response, 'lambda' (event, context), 'workers' { fetch, scheduled, queue }, 'fission' (context) => { status, body }, 'openwhisk' main(params), 'openfaas' (event, context) with context.succeed, 'knative' handle(context, body), 'vercel' (req, res) with Vercel's helpers, 'azure' Azure Functions v3 (context, req) with context.res (v4's app.http is recognised); '' recognises it by shape and export name.",
      },
    ),
    {
      flag: '--style <contract>',
      parse: 'text',
      help: 'handler contract: web, lambda, workers, fission, openwhisk, openfaas, knative, vercel or azure (default: recognised by shape)',
    },
  ),
  runtime: setting(
    Type.Union(
      RUNTIMES.map((name) => Type.Literal(name)),
      {
        default: DEFAULT_RUNTIME,
        description:
          "The Node.js version the function runs on: 'node20' (the platform's own), 'node22' or 'node24' (LTS, installed from the npm registry's binary packages). Each has its own runtime image and prewarmed containers.",
      },
    ),
    { flag: '--runtime <node20|node22|node24>', parse: 'text', help: 'Node.js version: node20 (default), node22 or node24' },
  ),
  eventFormat: setting(
    Type.Union([Type.Literal('2.0'), Type.Literal('1.0')], {
      default: '2.0',
      description: "The HTTP event Lambda-style handlers get: '2.0' API Gateway HTTP API, '1.0' API Gateway REST (httpMethod, path, multiValue fields).",
    }),
    { flag: '--event-format <1.0|2.0>', parse: 'text', help: 'HTTP event of Lambda handlers: 2.0 (HTTP API, default) or 1.0 (REST API)' },
  ),
  memoryMb: setting(integer(32, 10_240, 128, 'Memory limit of each container in MB, swap equal to it (as Lambda, 128 by default).'), {
    flag: '--memory <MB>',
    parse: 'integer',
    help: 'memory limit in MB (default 128)',
  }),
  cpus: setting(Type.Number({ minimum: 0.05, maximum: 64, default: 1, description: 'CPU limit of each container in cores (0.1 = 10% of one core).' }), {
    flag: '--cpu <cores>',
    parse: 'number',
    help: 'CPU limit in cores, e.g. 0.5 (default 1)',
  }),
  timeoutMs: setting(integer(100, 900_000, 30_000, 'Wall-clock limit of one invocation, ms.'), {
    flag: '--timeout <duration>',
    parse: 'duration',
    help: 'time limit per call, e.g. 30s (default 30s)',
  }),
  concurrency: setting(integer(1, 1_000, 1, 'Requests one container serves at the same time.'), {
    flag: '--concurrency <n>',
    parse: 'integer',
    help: 'requests one container serves at once (default 1)',
  }),
  minScale: setting(integer(0, 100, 0, 'Containers kept warm even when idle.'), {
    flag: '--min-scale <n>',
    parse: 'integer',
    help: 'containers kept warm (default 0)',
  }),
  maxScale: setting(integer(1, 1_000, 10, 'Containers at most, across busy, idle and starting.'), {
    flag: '--max-scale <n>',
    parse: 'integer',
    help: 'containers at most (default 10)',
  }),
  idleTimeoutMs: setting(integer(1_000, 86_400_000, 600_000, 'An idle container above minScale is removed after this long, ms (scale to zero).'), {
    flag: '--idle-timeout <duration>',
    parse: 'duration',
    help: 'idle time before a container is removed, e.g. 10m (default 10m)',
  }),
  tmpMb: setting(integer(0, 10_240, 0, "Size of the function's /tmp in MB (held in memory, so counted in memoryMb); 0: the platform's FAAS_TMP_MB."), {
    flag: '--tmp <MB>',
    parse: 'integer',
    help: "size of /tmp in MB, held in the function's memory (default: the platform's, 64)",
  }),
  env: setting(
    Type.Unsafe<Record<string, string>>({
      type: 'object',
      propertyNames: { pattern: ENV_NAME_PATTERN },
      additionalProperties: { type: 'string', maxLength: 32_768 },
      maxProperties: 256,
      default: {},
      description: "Environment variables given to the function (never the platform's own FAAS_*).",
    }),
    { flag: '--env <KEY=VALUE>', parse: 'pairs', help: 'environment variable for the function (repeatable)' },
  ),
  secrets: setting(
    Type.Array(Type.String({ pattern: SECRET_NAME_PATTERN }), {
      maxItems: 20,
      uniqueItems: true,
      default: [],
      description: "The tenant's secrets (faas secret set) the function gets, by name: as environment variables and files /run/secrets/<NAME>.",
    }),
    { flag: '--secret <NAME>', parse: 'names', help: 'give the function this secret as $NAME and /run/secrets/NAME (repeatable)' },
  ),
  kv: setting(
    Type.Array(Type.String({ pattern: BINDING_NAME_PATTERN }), {
      maxItems: 10,
      uniqueItems: true,
      default: [],
      description:
        "Workers KV namespaces of the function's tenant, bound by name: `env.NAME` has the KV API (get, getWithMetadata, put, delete, list), kept in Redis; functions of one tenant binding the same name share it.",
    }),
    { flag: '--kv <NAME>', parse: 'names', help: 'bind the tenant’s KV namespace NAME as env.NAME (Workers KV API; repeatable)' },
  ),
  queueBindings: setting(
    Type.Unsafe<Record<string, string>>({
      type: 'object',
      propertyNames: { pattern: BINDING_NAME_PATTERN },
      additionalProperties: { type: 'string', pattern: TRIGGER_NAME_PATTERN },
      maxProperties: 10,
      default: {},
      description: "Workers queue producer bindings: `env.NAME.send(body)` / `sendBatch(messages)` send to the tenant's queue (NAME=queue).",
    }),
    { flag: '--queue-binding <NAME=queue>', parse: 'pairs', help: 'bind a producer of the tenant’s queue as env.NAME (send, sendBatch; repeatable)' },
  ),
  network: setting(Type.Boolean({ default: false, description: 'Outbound network allowed; when false the container has network mode none.' }), {
    flag: '--network',
    parse: 'switch',
    help: 'allow outbound network from the function',
  }),
  queues: setting(names('Named queues this function consumes (each queue has one consumer function).'), {
    flag: '--queue <name>',
    parse: 'names',
    help: 'consume messages sent to this queue (repeatable)',
  }),
  topics: setting(names('Event topics this function is subscribed to (every subscriber gets every event).'), {
    flag: '--on <topic>',
    parse: 'names',
    help: 'receive every CloudEvent published to this topic (repeatable)',
  }),
  schedules: setting(Type.Array(ScheduleSchema, { maxItems: 10, default: [], description: 'Cron triggers.' }), {
    flag: '--schedule <cron>',
    parse: 'schedules',
    help: 'run on this cron schedule, e.g. "*/5 * * * *" (repeatable)',
  }),
  triggerAlias: setting(
    Type.String({
      pattern: '^(?:[a-z][a-z0-9-]{0,31})?$',
      default: '',
      description: "The alias queue, topic and cron triggers call (followed when each runs, so a rollback moves them too); '' the default alias.",
    }),
    { flag: '--trigger-alias <alias>', parse: 'text', help: 'alias that queue, topic and cron triggers call (default: the default alias)' },
  ),
  maxAttempts: setting(integer(1, 20, 3, 'Runs of one async job, queue message, event or cron tick before it is dead-lettered (Lambda: 3).'), {
    flag: '--attempts <n>',
    parse: 'integer',
    help: 'runs of an async call, message, event or tick before it is dead-lettered (default 3)',
  }),
  maxEventAgeMs: setting(
    integer(1_000, 604_800_000, 21_600_000, 'A job older than this when its turn comes is dead-lettered instead of run, ms (Lambda: 6 hours).'),
    {
      flag: '--max-event-age <duration>',
      parse: 'duration',
      help: 'drop (dead-letter) async work older than this, e.g. 1h (default 6h)',
    },
  ),
  maxBacklog: setting(integer(1, 10_000_000, 100_000, 'Jobs waiting for the function (async calls and events; queue messages per queue) before 429.'), {
    flag: '--max-backlog <n>',
    parse: 'integer',
    help: 'jobs waiting before sends are refused with 429 (default 100000)',
  }),
  batchSize: setting(integer(1, 100, 1, 'Queue messages delivered in one invocation.'), {
    flag: '--batch-size <n>',
    parse: 'integer',
    help: 'queue messages delivered per invocation (default 1)',
  }),
};

type Settings = typeof SETTINGS;
export type SettingKey = keyof Settings;

/** The settings' schema: validates a whole FunctionConfig, and is the source of its type. */
export const FunctionConfigSchema = Type.Object(
  Object.fromEntries(Object.entries(SETTINGS).map(([key, s]) => [key, s.schema])) as { [K in SettingKey]: Settings[K]['schema'] },
  { additionalProperties: false },
);

/** Per-function settings a deploy sets. */
export type FunctionConfig = Static<typeof FunctionConfigSchema>;

/** Every setting's name, in the table's order: what a redeploy merges. */
export const SETTING_KEYS = Object.keys(SETTINGS) as SettingKey[];

export function defaultFunctionConfig(): FunctionConfig {
  return Object.fromEntries(
    SETTING_KEYS.map((key) => [key, structuredClone((SETTINGS[key].schema as unknown as { default: unknown }).default)]),
  ) as FunctionConfig;
}

export interface Range {
  readonly min: number;
  readonly max: number;
  readonly default: number;
}

type NumericKey = { [K in SettingKey]: FunctionConfig[K] extends number ? K : never }[SettingKey];

/** Accepted ranges and defaults of the numeric settings (units in the names), from their schemas. */
export const LIMIT_RANGES = Object.fromEntries(
  SETTING_KEYS.flatMap((key) => {
    const schema = SETTINGS[key].schema as unknown as { minimum?: number; maximum?: number; default: unknown };
    return schema.minimum === undefined ? [] : [[key, { min: schema.minimum, max: schema.maximum!, default: schema.default as number }]];
  }),
) as Readonly<Record<NumericKey, Range>>;

/**
 * A schema as the API validates with it: without `default`, since the API's validator would otherwise fill
 * in defaults, and a redeploy must keep the previous version's settings where the body leaves them out.
 */
export function withoutDefaults<T>(schema: T): T {
  if (Array.isArray(schema)) return schema.map(withoutDefaults) as T;
  if (schema === null || typeof schema !== 'object') return schema;
  return Object.fromEntries(
    Object.entries(schema)
      .filter(([key]) => key !== 'default')
      .map(([key, value]) => [key, withoutDefaults(value)]),
  ) as T;
}

/** The settings' properties for the API's JSON schemas (each optional in a deploy body). */
export const settingsApiProperties = withoutDefaults(FunctionConfigSchema.properties);
