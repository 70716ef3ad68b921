// What a deployed function is: its name, code and limits, with the ranges and defaults the API enforces.

/** Function names: DNS-label-like, so they are safe in URLs, container names and Redis keys. */
export const FUNCTION_NAME_PATTERN = '^[a-z][a-z0-9-]{0,62}$';

/** The tenant of the single-tenant API and of the admin token; its functions keep their bare names. */
export const DEFAULT_TENANT = 'default';

/** Tenant ids: like function names, no dots (a function id is `tenant.name`), at most 32 characters. */
export const TENANT_ID_PATTERN = '^[a-z][a-z0-9-]{0,31}$';

/**
 * A function's id across the platform (registry key, container label, queue, metrics): the bare name in
 * the default tenant, `tenant.name` in any other (neither part holds a dot).
 */
export function functionId(tenant: string, name: string): string {
  return tenant === DEFAULT_TENANT ? name : `${tenant}.${name}`;
}

export function splitFunctionId(id: string): { tenant: string; name: string } {
  const dot = id.indexOf('.');
  return dot === -1 ? { tenant: DEFAULT_TENANT, name: id } : { tenant: id.slice(0, dot), name: id.slice(dot + 1) };
}

export interface Range {
  readonly min: number;
  readonly max: number;
  readonly default: number;
}

/** Accepted ranges and defaults of the per-function settings (units in the names). */
export const LIMIT_RANGES = {
  /** Memory limit of each container, swap equal to it. Default 128 MB (as Lambda). */
  memoryMb: { min: 32, max: 10_240, default: 128 },
  /** CPU limit of each container, in cores (0.1 = 10% of one core). */
  cpus: { min: 0.05, max: 64, default: 1 },
  /** Wall-clock limit of one invocation. */
  timeoutMs: { min: 100, max: 900_000, default: 30_000 },
  /** Requests one container serves at the same time. */
  concurrency: { min: 1, max: 1_000, default: 1 },
  /** Containers kept warm even when idle. */
  minScale: { min: 0, max: 100, default: 0 },
  /** Containers at most, across busy, idle and starting. */
  maxScale: { min: 1, max: 1_000, default: 10 },
  /** An idle container above minScale is removed after this long (scale to zero). */
  idleTimeoutMs: { min: 1_000, max: 86_400_000, default: 600_000 },
  /** Runs of one async job, queue message, event or cron tick before it is dead-lettered (Lambda: 3). */
  maxAttempts: { min: 1, max: 20, default: 3 },
  /** A job older than this when its turn comes is dead-lettered instead of run (Lambda: 6 hours). */
  maxEventAgeMs: { min: 1_000, max: 604_800_000, default: 21_600_000 },
  /** Jobs waiting for the function (async calls and events; queue messages per queue) before 429. */
  maxBacklog: { min: 1, max: 10_000_000, default: 100_000 },
  /** Queue messages delivered in one invocation. */
  batchSize: { min: 1, max: 100, default: 1 },
} as const satisfies Record<string, Range>;

/**
 * Share of the pool's memory (FAAS_POOL_MEMORY_MB) one function may keep warm with minScale: minScale ×
 * memoryMb above it is refused at deploy. Half, so a single function's idle warm containers can never take
 * the room every other function (and the prewarmed runtimes) start in, while one large function can still
 * keep a substantial warm fleet.
 */
export const MAX_WARM_POOL_SHARE = 0.5;

/** Queue and topic names: safe in URLs and Redis keys; dots allowed (`orders.created`). */
export const TRIGGER_NAME_PATTERN = '^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$';

/** A cron trigger: a 5-field (or 6-field, with seconds) cron expression, in a time zone (default UTC). */
export interface Schedule {
  cron: string;
  /** IANA time zone, e.g. Europe/Paris. */
  timezone?: string;
}

/** Per-function settings a deploy sets. */
export interface FunctionConfig {
  memoryMb: number;
  cpus: number;
  timeoutMs: number;
  concurrency: number;
  minScale: number;
  maxScale: number;
  idleTimeoutMs: number;
  /** Environment variables given to the function (never the platform's own). */
  env: Record<string, string>;
  /** Outbound network allowed; when false the container has network mode none. */
  network: boolean;
  /** Named queues this function consumes (each queue has one consumer function). */
  queues: string[];
  /** Event topics this function is subscribed to (every subscriber gets every event). */
  topics: string[];
  /** Cron triggers. */
  schedules: Schedule[];
  maxAttempts: number;
  maxEventAgeMs: number;
  maxBacklog: number;
  batchSize: number;
}

/** A deployed function version. `version` grows by one on every deploy of the same name. */
export interface FunctionSpec extends FunctionConfig {
  name: string;
  version: number;
  /** sha256 (hex) of the bundled ESM code; the code itself is stored by this hash. */
  codeSha256: string;
  codeBytes: number;
  /** ISO 8601. */
  createdAt: string;
  updatedAt: string;
}

export function defaultFunctionConfig(): FunctionConfig {
  return {
    memoryMb: LIMIT_RANGES.memoryMb.default,
    cpus: LIMIT_RANGES.cpus.default,
    timeoutMs: LIMIT_RANGES.timeoutMs.default,
    concurrency: LIMIT_RANGES.concurrency.default,
    minScale: LIMIT_RANGES.minScale.default,
    maxScale: LIMIT_RANGES.maxScale.default,
    idleTimeoutMs: LIMIT_RANGES.idleTimeoutMs.default,
    env: {},
    network: false,
    queues: [],
    topics: [],
    schedules: [],
    maxAttempts: LIMIT_RANGES.maxAttempts.default,
    maxEventAgeMs: LIMIT_RANGES.maxEventAgeMs.default,
    maxBacklog: LIMIT_RANGES.maxBacklog.default,
    batchSize: LIMIT_RANGES.batchSize.default,
  };
}
