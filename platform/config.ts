// Platform configuration, read once from the environment with defaults inline; nothing else reads process.env.
import type { KvLimits } from '../bindings/kv-store.js';
import { DEFAULT_RUNTIME, RUNTIMES, type RuntimeName } from '../core/function-settings.js';
import { readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import ipaddr from 'ipaddr.js';
import type { PricePlan } from '../metering/billing.js';
import type { GatewayConfig } from '../gateway/app.js';
import { parseSentinels, type RedisTarget } from './redis-connection.js';
import type { SlotPolicy } from '../triggers/worker-slots.js';
import { DEFAULT_VERSIONS_KEPT } from '../core/releases.js';

export interface PlatformConfig {
  /** Address the gateway listens on. FAAS_HOST, default 127.0.0.1 (compose sets 0.0.0.0). */
  host: string;
  /** FAAS_PORT, default 8080. */
  port: number;
  /** URL users reach the gateway at, for printed function URLs. FAAS_PUBLIC_URL, default http://<host>:<port>. */
  publicUrl: string;
  /** Bearer token of the management API. FAAS_TOKEN; when unset it is generated and saved under dataDir. */
  token: string | undefined;
  /**
   * Key(s) sealing the tenants' secrets in Redis. FAAS_SECRETS_KEY: 32 bytes as base64 or hex; several
   * comma-separated during a rotation (the first seals). Unset: <dataDir>/secrets.key, created at first start.
   */
  secretsKey: string | undefined;
  /** Versions kept per function besides those an alias routes to (FAAS_VERSIONS_KEPT, default 20). */
  versionsKept: number;
  /**
   * Bearer token that reads the full /metrics (every tenant's function and queue names) and nothing else, for
   * Prometheus. FAAS_METRICS_TOKEN; unset, only the admin token does. Without a token /metrics has platform-wide series only.
   */
  metricsToken: string | undefined;
  /**
   * Functions also answer at `<name>.<domain>` (and `<name>.<tenant>.<domain>`), at the root of their own
   * host. FAAS_DOMAIN, default localhost (`http://hello.localhost:8080/` works in browsers and curl); `none`
   * turns it off.
   */
  domain: string;
  /**
   * Where an invoker process runs its async workers: 'thread' (default: a worker thread of their own, off the
   * HTTP event loop) or 'inline' (the main thread). FAAS_ASYNC_WORKERS.
   */
  asyncWorkers: 'thread' | 'inline';
  /** Request line and headers must arrive within this. FAAS_HEADERS_TIMEOUT_MS, default 15 000 (Node 60 000, nginx 60 s). */
  headersTimeoutMs: number;
  /** Longest silence inside a request body. FAAS_BODY_IDLE_TIMEOUT_MS, default 15 000 (nginx client_body_timeout 60 s; Node none). */
  bodyIdleTimeoutMs: number;
  /** A whole request, headers and body, must arrive within this. FAAS_REQUEST_TIMEOUT_MS, default 120 000 (Node 300 000; nginx none). */
  requestTimeoutMs: number;
  /** An idle keep-alive connection is closed after this. FAAS_KEEP_ALIVE_TIMEOUT_MS, default 72 000 (nginx 75 s, Node 5 s). */
  keepAliveTimeoutMs: number;
  /**
   * Open client connections in all; past it the longest-idle or slowest-receiving one is closed for a new one (or the
   * new one refused when all are busy). FAAS_MAX_CONNECTIONS, default half the process's open-file limit, at most 10 000.
   */
  maxConnections: number;
  /** Open connections from one client address (IPv6: one /64). FAAS_MAX_CONNECTIONS_PER_CLIENT, default 512; raise it behind a load balancer. */
  maxConnectionsPerClient: number;
  /**
   * Shortest time between two runs of a cron trigger; a deploy whose schedule fires more often is refused.
   * FAAS_MIN_SCHEDULE_INTERVAL_MS, default 60 000 (EventBridge and Cloudflare Cron Triggers: one minute).
   */
  minScheduleIntervalMs: number;
  /**
   * Largest body of an async call, queue message or event: it waits in Redis until run (and its job, results and
   * dead letters are kept). FAAS_MAX_ASYNC_BODY_BYTES, default 1 MiB (Lambda's async payload and SQS's message limit).
   */
  maxAsyncBodyBytes: number;
  /**
   * Bytes one tenant may keep waiting in Redis (bodies of async calls, queue messages and events not yet run,
   * and dead letters), unless its maxQueuedBytes quota says otherwise; past it, 429 QUOTA_EXCEEDED.
   * FAAS_MAX_QUEUED_BYTES, default 256 MiB (256 messages at the largest size, ~2.6 million of 100 bytes);
   * "none" for no limit. Size Redis's memory as tenants × this.
   */
  maxQueuedBytes: number | undefined;
  /**
   * What one tenant may deploy in all; a deploy past it is 429 QUOTA_EXCEEDED naming the limit. Each costs
   * something no call pays for: a function holds a BullMQ worker (a Redis connection) on every invoker, a
   * consumed queue two. FAAS_MAX_FUNCTIONS_PER_TENANT (500, as Cloudflare Workers per paid account),
   * FAAS_MAX_QUEUES_PER_TENANT (100), FAAS_MAX_TOPICS_PER_TENANT (100), FAAS_MAX_SCHEDULES_PER_TENANT (100: with
   * the one-minute minimum, at most 100 cron runs a minute per tenant; Cloudflare allows 250 per account).
   */
  maxFunctionsPerTenant: number;
  maxQueuesPerTenant: number;
  maxTopicsPerTenant: number;
  maxSchedulesPerTenant: number;
  /**
   * A gateway apart from its invokers (FAAS_ROLE=gateway) with none live yet holds a call this long for one to
   * announce itself before 503 NO_CAPACITY. FAAS_WAIT_FOR_INVOKER_MS, default 10 000; /readyz says 503 meanwhile.
   */
  waitForInvokerMs: number;
  /** REDIS_URL, default redis://127.0.0.1:6379 (rediss:// for TLS; user:password@ for an ACL user; /N a database). */
  redisUrl: string;
  /**
   * How to reach Redis: REDIS_URL, or with REDIS_SENTINELS (host:port,...) the master REDIS_SENTINEL_MASTER
   * (default mymaster) the sentinels name, followed across failovers (REDIS_URL then gives only credentials,
   * TLS and database; REDIS_SENTINEL_PASSWORD the sentinels' own). FAAS_REDIS_WAIT_REPLICAS (default 1 with
   * sentinels, else 0) replicas must hold an accepted async job and a shipped usage batch (Redis WAIT, at most
   * FAAS_REDIS_WAIT_TIMEOUT_MS, default 1 000).
   */
  redis: RedisTarget;
  /** Key prefix in Redis, so several platforms (or test runs) share one server. FAAS_REDIS_PREFIX, default "faas:". */
  redisPrefix: string;
  /** State on this host: token, code cache, container sockets. FAAS_DATA_DIR, default ./.faas (absolute). */
  dataDir: string;
  /** DOCKER_SOCKET, default /var/run/docker.sock. */
  dockerSocket: string;
  /** Runtime image to use instead of building one. FAAS_RUNTIME_IMAGE. */
  runtimeImage: string | undefined;
  /**
   * Images given for the runtimes (FAAS_RUNTIME_IMAGE for node20, FAAS_RUNTIME_IMAGE_NODE22 and _NODE24, as
   * `npm run images` writes them): used as they are, and a runtime with one given is available to deploys
   * even where its binary is not installed (a gateway apart from its invokers).
   */
  runtimeImages: Partial<Record<RuntimeName, string>>;
  /**
   * What the built runtime image starts from. FAAS_RUNTIME_BASE: 'scratch' (default; the host's node
   * binary, no registry needed) or 'official' (node:20-slim, for hosts that reach a registry).
   */
  runtimeBase: 'scratch' | 'official';
  /** Memory all function containers of this invoker may use together. FAAS_POOL_MEMORY_MB, default 75% of host RAM. */
  poolMemoryMb: number;
  /**
   * Largest `cpus` a deploy may ask for: Docker refuses a container more CPUs than the host has, so such a
   * function could never start. FAAS_MAX_CPUS_PER_FUNCTION, default the host's CPU count (os.availableParallelism()).
   */
  maxCpusPerFunction: number;
  /** Requests waiting per function before 429. FAAS_MAX_QUEUE, default 100. */
  maxQueue: number;
  /** Longest wait for a container slot before 503. FAAS_MAX_QUEUE_WAIT_MS, default 30 000. */
  maxQueueWaitMs: number;
  /**
   * Prewarmed runtimes kept ready, so a cold start of a function without network only loads its code
   * (OpenWhisk's stem cells). FAAS_PREWARM, default 2; 0 turns it off.
   */
  prewarmCount: number;
  /**
   * A function container with no call in flight is paused (cgroup freezer: no CPU time between calls, memory
   * kept) after this long, so work a function leaves running after it answers cannot run on between calls.
   * FAAS_PAUSE_AFTER_MS, default 0: at once, as Lambda freezes (50 is OpenWhisk's pause grace); the next call
   * resumes it with one write to the cgroup (about 0.03 ms; see cgroup-freezer.ts). "never" keeps idle
   * containers running.
   */
  pauseAfterMs: number | undefined;
  /** pids limit of every function container. FAAS_PIDS_LIMIT, default 128. */
  pidsLimit: number;
  /** Size of each container's /tmp tmpfs. FAAS_TMP_MB, default 64. */
  tmpMb: number;
  /** Largest /tmp a function may ask for (--tmp). FAAS_MAX_TMP_MB, default 2048. */
  maxTmpMb: number;
  /** Largest request or response body of a function call. FAAS_MAX_BODY_BYTES, default 6 MiB (as Lambda). */
  maxBodyBytes: number;
  /**
   * Largest answer a function streams (relayed with backpressure: the gateway holds about 64 KiB of it at a
   * time, whatever its size). FAAS_MAX_STREAM_BYTES, default 1 GiB.
   */
  maxStreamBytes: number;
  /** Largest bundle a deploy accepts. FAAS_MAX_CODE_BYTES, default 20 MiB. */
  maxCodeBytes: number;
  /**
   * Workers KV (--kv): the largest value (FAAS_KV_MAX_VALUE_BYTES, default 1 MiB), the bytes one tenant
   * keeps in all its namespaces (FAAS_KV_MAX_BYTES, default 64 MiB) and its keys (FAAS_KV_MAX_KEYS,
   * default 100 000). A put past them fails in the function, naming the limit.
   */
  kv: KvLimits;
  /** USD per GB-second. FAAS_PRICE_GB_SECOND, default 0.0000166667 (AWS Lambda x86). */
  pricePerGbSecond: number;
  /** USD per million requests. FAAS_PRICE_PER_MILLION_REQUESTS, default 0.20 (AWS Lambda). */
  pricePerMillionRequests: number;
  /** USD per CPU-second measured in cgroups. FAAS_PRICE_CPU_SECOND, default 0 (Lambda bills memory × time only). */
  pricePerCpuSecond: number;
  /** USD per GB-second kept warm for minScale. FAAS_PRICE_IDLE_GB_SECOND, default 0.0000041667 (Lambda provisioned concurrency). */
  pricePerIdleGbSecond: number;
  /** Free per tenant per billing period. FAAS_FREE_REQUESTS (default 1 000 000), FAAS_FREE_GB_SECONDS (400 000), FAAS_FREE_CPU_SECONDS (0). */
  freeRequests: number;
  freeGbSeconds: number;
  freeCpuSeconds: number;
  /** Time zone of billing periods (calendar months) and of usage by hour/day. FAAS_BILLING_TIMEZONE, default UTC. */
  billingTimeZone: string;
  /** Currency shown on invoices. FAAS_CURRENCY, default USD. */
  currency: string;
  /** pino level. FAAS_LOG_LEVEL, default info. */
  logLevel: string;
  /**
   * Names this invoker's containers (Docker label faas.owner), so a restarted invoker removes what it
   * left behind and never another invoker's. FAAS_INVOKER_ID, default <hostname>-<port>.
   */
  invokerId: string;
  /**
   * What this process runs. FAAS_ROLE: 'all' (default: gateway and invoker in one process), 'gateway'
   * (relays to remote invokers found in Redis) or 'invoker' (runs containers, serves gateways).
   */
  role: 'all' | 'gateway' | 'invoker';
  /** Port of an invoker process's server for gateways. FAAS_INVOKER_PORT, default 8081. */
  invokerPort: number;
  /**
   * URL gateways reach this invoker at. FAAS_INVOKER_URL, default http(s)://<host>:<invokerPort>, or — when
   * FAAS_HOST is a wildcard such as 0.0.0.0 — the address this host reaches Redis from (announced-url.ts).
   */
  invokerUrl: string | undefined;
  /**
   * Gateway↔invoker TLS: an invoker with FAAS_INVOKER_TLS_CERT and FAAS_INVOKER_TLS_KEY (PEM files) serves
   * https://; gateways check invokers' certificates against FAAS_INVOKER_TLS_CA (PEM; the system's CAs when
   * unset). The platform token still authenticates the gateway.
   */
  invokerTls: { certFile?: string; keyFile?: string; caFile?: string };
  /**
   * A running async job's lock lasts this long (renewed at half of it); a job whose invoker died runs
   * again within about twice this. FAAS_ASYNC_STALL_MS, default 30 000 (BullMQ's).
   */
  asyncStallMs: number;
  /**
   * Async workers per process: at most this many queues (functions' own and named queues with work) have a
   * live BullMQ worker, each holding a Redis connection (a named queue's, two); the others wait their turn.
   * FAAS_ASYNC_MAX_WORKERS, default 32 — so one host holds under 100 Redis connections however many
   * functions are deployed.
   */
  asyncMaxWorkers: number;
  /**
   * A worker that ran nothing for this long is closed (its queue rung, so a later retry or cron tick brings
   * one back); one live twice this long gives way when other queues wait. FAAS_ASYNC_WORKER_IDLE_MS, default 5 000.
   */
  asyncWorkerIdleMs: number;
  /** First retry delay of a failed async job; doubled each time, with jitter. FAAS_RETRY_DELAY_MS, default 1 000. */
  retryDelayMs: number;
  /** How long results of finished async jobs are kept. FAAS_KEEP_RESULTS_MS, default 24 hours. */
  keepResultsMs: number;
  /**
   * Callback URLs may point to loopback and link-local addresses (this host's services, cloud metadata).
   * FAAS_CALLBACK_ALLOW_LOCAL=1; default refused, since anyone who can call /async/fn names the URL.
   */
  callbackAllowLocal: boolean;
  /**
   * `faas up` on SIGINT/SIGTERM: longest time for stopping intake, finishing in-flight calls, flushing
   * metering and stopping its own redis-server; then it logs what is pending and exits 1.
   * FAAS_SHUTDOWN_TIMEOUT_MS, default 30 000.
   */
  shutdownTimeoutMs: number;
  /**
   * Destinations inside the private, link-local and reserved ranges that functions deployed with network may
   * reach anyway (an internal API, a database, a DNS resolver on a private address). FAAS_FUNCTION_NETWORK_ALLOW,
   * comma-separated: CIDRs (a bare address is /32), an address or CIDR with a TCP port (10.0.0.5:5432), or
   * host:PORT for one service of this host (as functions see it: the network's gateway). Default none. This
   * host stays unreachable except for the ports named so. Host-wide: the platform started last on a host sets it.
   */
  functionNetworkAllow: readonly string[];
}

const ROLES = ['all', 'gateway', 'invoker'] as const;

export class ConfigError extends Error {}

type Env = Record<string, string | undefined>;

function num(env: Env, key: string, fallback: number, min = 0): number {
  const raw = env[key];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value) || value < min) {
    throw new ConfigError(`${key}=${raw} is not a number >= ${min}`);
  }
  return value;
}

function pauseAfter(env: Env): number | undefined {
  const raw = env.FAAS_PAUSE_AFTER_MS?.trim() ?? '';
  if (raw.toLowerCase() === 'never') return undefined;
  if (raw === '') return 0;
  const value = Number(raw);
  if (!Number.isFinite(value) || value < 0) throw new ConfigError(`FAAS_PAUSE_AFTER_MS=${raw} is not a number >= 0 or "never"`);
  return value;
}

function oneOf<T extends string>(env: Env, key: string, values: readonly T[], fallback: T): T {
  const raw = env[key];
  if (!raw) return fallback;
  if ((values as readonly string[]).includes(raw)) return raw as T;
  throw new ConfigError(`${key}=${raw} is not one of ${values.join(', ')}`);
}

function timeZone(env: Env, key: string): string {
  const raw = env[key] || 'UTC';
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: raw });
  } catch {
    throw new ConfigError(`${key}=${raw} is not an IANA time zone (e.g. UTC, Europe/Berlin)`);
  }
  return raw;
}

/**
 * Comma-separated destinations: an IPv4 CIDR (a bare address is /32), optionally with a TCP port
 * (`10.0.0.5:5432`, `10.1.2.0/24:443`), or `host:<port>` for a service of this host. Normalised to
 * `<network>/<bits>[:<port>]` and `host:<port>`.
 */
function allowList(env: Env, key: string): string[] {
  const entries = (env[key] ?? '')
    .split(',')
    .map((entry) => entry.trim())
    .filter(Boolean);
  return entries.map((entry) => {
    const m = /^(.*?)(?::(\d{1,5}))?$/.exec(entry)!;
    const [, target = '', portText] = m;
    const port = portText === undefined ? undefined : Number(portText);
    if (port !== undefined && (port < 1 || port > 65_535)) throw new ConfigError(`${key}: ${entry} has port ${portText}; ports are 1-65535`);
    if (target === 'host') {
      if (port === undefined) throw new ConfigError(`${key}: ${entry} needs a port: this host is opened one service at a time (host:5432)`);
      return `host:${port}`;
    }
    const cidr = target.includes('/') ? target : `${target}/32`;
    if (!ipaddr.IPv4.isValidCIDRFourPartDecimal(cidr))
      throw new ConfigError(`${key}: ${entry} is not an IPv4 CIDR such as 10.1.2.0/24, an address and port such as 10.0.0.5:5432, or host:PORT`);
    const [, bits] = ipaddr.IPv4.parseCIDR(cidr);
    const network = `${ipaddr.IPv4.networkAddressFromCIDR(cidr).toString()}/${bits}`;
    return port === undefined ? network : `${network}:${port}`;
  });
}

function invokerTls(env: Env): PlatformConfig['invokerTls'] {
  const certFile = env.FAAS_INVOKER_TLS_CERT || undefined;
  const keyFile = env.FAAS_INVOKER_TLS_KEY || undefined;
  if (!certFile !== !keyFile) throw new ConfigError('FAAS_INVOKER_TLS_CERT and FAAS_INVOKER_TLS_KEY go together: set both (PEM files) or neither');
  const caFile = env.FAAS_INVOKER_TLS_CA || undefined;
  return { ...(certFile ? { certFile } : {}), ...(keyFile ? { keyFile } : {}), ...(caFile ? { caFile } : {}) };
}

function redisTarget(env: Env): RedisTarget {
  const url = env.REDIS_URL || 'redis://127.0.0.1:6379';
  if (!/^rediss?:\/\//.test(url)) throw new ConfigError(`REDIS_URL=${url} must start with redis:// or rediss://`);
  let sentinels: RedisTarget['sentinels'];
  try {
    sentinels = env.REDIS_SENTINELS ? parseSentinels(env.REDIS_SENTINELS) : undefined;
  } catch (err) {
    throw new ConfigError(`REDIS_SENTINELS: ${(err as Error).message} (e.g. 10.0.0.1:26379,10.0.0.2:26379)`);
  }
  return {
    url,
    ...(sentinels?.length ? { sentinels, masterName: env.REDIS_SENTINEL_MASTER || 'mymaster' } : {}),
    ...(env.REDIS_SENTINEL_PASSWORD ? { sentinelPassword: env.REDIS_SENTINEL_PASSWORD } : {}),
    waitReplicas: num(env, 'FAAS_REDIS_WAIT_REPLICAS', sentinels?.length ? 1 : 0, 0),
    waitTimeoutMs: num(env, 'FAAS_REDIS_WAIT_TIMEOUT_MS', 1_000, 1),
  };
}

/** The HTTP edge's timeouts and connection caps. */
function edgeLimits(env: Env) {
  const headersTimeoutMs = num(env, 'FAAS_HEADERS_TIMEOUT_MS', 15_000, 100);
  const requestTimeoutMs = num(env, 'FAAS_REQUEST_TIMEOUT_MS', 120_000, 100);
  // Node refuses a headers timeout longer than the request's.
  if (headersTimeoutMs > requestTimeoutMs)
    throw new ConfigError(`FAAS_HEADERS_TIMEOUT_MS (${headersTimeoutMs}) must not exceed FAAS_REQUEST_TIMEOUT_MS (${requestTimeoutMs})`);
  return {
    headersTimeoutMs,
    bodyIdleTimeoutMs: num(env, 'FAAS_BODY_IDLE_TIMEOUT_MS', 15_000, 100),
    requestTimeoutMs,
    keepAliveTimeoutMs: num(env, 'FAAS_KEEP_ALIVE_TIMEOUT_MS', 72_000, 100),
    maxConnections: num(env, 'FAAS_MAX_CONNECTIONS', Math.min(10_000, Math.floor(openFileLimit() / 2)), 1),
    maxConnectionsPerClient: num(env, 'FAAS_MAX_CONNECTIONS_PER_CLIENT', 512, 1),
  };
}

/** The process's soft limit of open files (Linux /proc), or 1024 where it cannot be read. */
function openFileLimit(): number {
  try {
    const line = /^Max open files\s+(\d+|unlimited)/m.exec(readFileSync('/proc/self/limits', 'utf8'))?.[1];
    return line === undefined ? 1024 : line === 'unlimited' ? 1_000_000 : Number(line);
  } catch {
    return 1024;
  }
}

/** The price plan every usage figure, invoice and quota is computed with. */
export function pricePlanOf(config: PlatformConfig): PricePlan {
  return {
    currency: config.currency,
    perGbSecond: config.pricePerGbSecond,
    perMillionRequests: config.pricePerMillionRequests,
    perCpuSecond: config.pricePerCpuSecond,
    perIdleGbSecond: config.pricePerIdleGbSecond,
    freeTier: { requests: config.freeRequests, gbSeconds: config.freeGbSeconds, cpuSeconds: config.freeCpuSeconds },
    timeZone: config.billingTimeZone,
  };
}

/** The async workers' slot policy (worker-slots.ts) from the settings. */
export function asyncSlotsOf(config: Pick<PlatformConfig, 'asyncMaxWorkers' | 'asyncWorkerIdleMs'>): SlotPolicy {
  return { max: config.asyncMaxWorkers, idleMs: config.asyncWorkerIdleMs, fairShareMs: 2 * config.asyncWorkerIdleMs };
}

/** The gateway's part of the configuration. */
export function gatewayConfigOf(config: PlatformConfig): GatewayConfig {
  return {
    publicUrl: config.publicUrl,
    maxBodyBytes: config.maxBodyBytes,
    maxStreamBytes: config.maxStreamBytes,
    maxCodeBytes: config.maxCodeBytes,
    runtimeImages: config.runtimeImages,
    poolMemoryMb: config.poolMemoryMb,
    maxCpusPerFunction: config.maxCpusPerFunction,
    maxTmpMb: config.maxTmpMb,
    minScheduleIntervalMs: config.minScheduleIntervalMs,
    tenantLimits: {
      maxFunctions: config.maxFunctionsPerTenant,
      maxQueues: config.maxQueuesPerTenant,
      maxTopics: config.maxTopicsPerTenant,
      maxSchedules: config.maxSchedulesPerTenant,
    },
    callbackAllowLocal: config.callbackAllowLocal,
    metricsToken: config.metricsToken,
    domain: config.domain,
    plan: pricePlanOf(config),
    edge: {
      headersTimeoutMs: config.headersTimeoutMs,
      bodyIdleTimeoutMs: config.bodyIdleTimeoutMs,
      requestTimeoutMs: config.requestTimeoutMs,
      keepAliveTimeoutMs: config.keepAliveTimeoutMs,
      maxConnections: config.maxConnections,
      maxPerClient: config.maxConnectionsPerClient,
    },
  };
}

export function loadConfig(env: Env = process.env, cwd = process.cwd()): Readonly<PlatformConfig> {
  const host = env.FAAS_HOST || '127.0.0.1';
  const port = num(env, 'FAAS_PORT', 8080);
  const shownHost = host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host;
  return Object.freeze({
    host,
    port,
    publicUrl: (env.FAAS_PUBLIC_URL || `http://${shownHost}:${port}`).replace(/\/+$/, ''),
    token: env.FAAS_TOKEN || undefined,
    secretsKey: env.FAAS_SECRETS_KEY || undefined,
    versionsKept: num(env, 'FAAS_VERSIONS_KEPT', DEFAULT_VERSIONS_KEPT, 1),
    metricsToken: env.FAAS_METRICS_TOKEN || undefined,
    domain: env.FAAS_DOMAIN === 'none' ? '' : (env.FAAS_DOMAIN || 'localhost').toLowerCase().replace(/^\.+|\.+$/g, ''),
    asyncWorkers: env.FAAS_ASYNC_WORKERS === 'inline' ? 'inline' : 'thread',
    ...edgeLimits(env),
    minScheduleIntervalMs: num(env, 'FAAS_MIN_SCHEDULE_INTERVAL_MS', 60_000, 0),
    maxAsyncBodyBytes: num(env, 'FAAS_MAX_ASYNC_BODY_BYTES', 1024 * 1024, 0),
    maxQueuedBytes: env.FAAS_MAX_QUEUED_BYTES?.trim().toLowerCase() === 'none' ? undefined : num(env, 'FAAS_MAX_QUEUED_BYTES', 256 * 1024 * 1024, 0),
    maxFunctionsPerTenant: num(env, 'FAAS_MAX_FUNCTIONS_PER_TENANT', 500, 1),
    maxQueuesPerTenant: num(env, 'FAAS_MAX_QUEUES_PER_TENANT', 100, 0),
    maxTopicsPerTenant: num(env, 'FAAS_MAX_TOPICS_PER_TENANT', 100, 0),
    maxSchedulesPerTenant: num(env, 'FAAS_MAX_SCHEDULES_PER_TENANT', 100, 0),
    waitForInvokerMs: num(env, 'FAAS_WAIT_FOR_INVOKER_MS', 10_000, 0),
    redisUrl: env.REDIS_URL || 'redis://127.0.0.1:6379',
    redis: redisTarget(env),
    redisPrefix: env.FAAS_REDIS_PREFIX || 'faas:',
    dataDir: path.resolve(cwd, env.FAAS_DATA_DIR || '.faas'),
    dockerSocket: env.DOCKER_SOCKET || '/var/run/docker.sock',
    runtimeImage: env.FAAS_RUNTIME_IMAGE || undefined,
    runtimeImages: Object.fromEntries(
      RUNTIMES.flatMap((runtime) => {
        const image = runtime === DEFAULT_RUNTIME ? env.FAAS_RUNTIME_IMAGE : env[`FAAS_RUNTIME_IMAGE_${runtime.toUpperCase()}`];
        return image ? [[runtime, image]] : [];
      }),
    ),
    runtimeBase: oneOf(env, 'FAAS_RUNTIME_BASE', ['scratch', 'official'] as const, 'scratch'),
    poolMemoryMb: num(env, 'FAAS_POOL_MEMORY_MB', Math.floor((os.totalmem() / 1024 / 1024) * 0.75), 32),
    maxCpusPerFunction: num(env, 'FAAS_MAX_CPUS_PER_FUNCTION', os.availableParallelism(), 0.05),
    maxQueue: num(env, 'FAAS_MAX_QUEUE', 100),
    maxQueueWaitMs: num(env, 'FAAS_MAX_QUEUE_WAIT_MS', 30_000),
    prewarmCount: num(env, 'FAAS_PREWARM', 2),
    pauseAfterMs: pauseAfter(env),
    pidsLimit: num(env, 'FAAS_PIDS_LIMIT', 128, 8),
    tmpMb: num(env, 'FAAS_TMP_MB', 64, 1),
    maxTmpMb: num(env, 'FAAS_MAX_TMP_MB', 2048, 1),
    maxBodyBytes: num(env, 'FAAS_MAX_BODY_BYTES', 6 * 1024 * 1024, 1024),
    maxStreamBytes: num(env, 'FAAS_MAX_STREAM_BYTES', 1024 * 1024 * 1024, 1024),
    maxCodeBytes: num(env, 'FAAS_MAX_CODE_BYTES', 20 * 1024 * 1024, 1024),
    kv: {
      maxValueBytes: num(env, 'FAAS_KV_MAX_VALUE_BYTES', 1024 * 1024, 1),
      maxTenantBytes: num(env, 'FAAS_KV_MAX_BYTES', 64 * 1024 * 1024, 1024),
      maxKeys: num(env, 'FAAS_KV_MAX_KEYS', 100_000, 1),
    },
    pricePerGbSecond: num(env, 'FAAS_PRICE_GB_SECOND', 0.0000166667),
    pricePerMillionRequests: num(env, 'FAAS_PRICE_PER_MILLION_REQUESTS', 0.2),
    pricePerCpuSecond: num(env, 'FAAS_PRICE_CPU_SECOND', 0),
    pricePerIdleGbSecond: num(env, 'FAAS_PRICE_IDLE_GB_SECOND', 0.0000041667),
    freeRequests: num(env, 'FAAS_FREE_REQUESTS', 1_000_000),
    freeGbSeconds: num(env, 'FAAS_FREE_GB_SECONDS', 400_000),
    freeCpuSeconds: num(env, 'FAAS_FREE_CPU_SECONDS', 0),
    billingTimeZone: timeZone(env, 'FAAS_BILLING_TIMEZONE'),
    currency: env.FAAS_CURRENCY || 'USD',
    logLevel: env.FAAS_LOG_LEVEL || 'info',
    invokerId: env.FAAS_INVOKER_ID || `${os.hostname()}-${port}`,
    role: oneOf(env, 'FAAS_ROLE', ROLES, 'all'),
    invokerPort: num(env, 'FAAS_INVOKER_PORT', 8081),
    invokerUrl: env.FAAS_INVOKER_URL || undefined,
    invokerTls: invokerTls(env),
    asyncStallMs: num(env, 'FAAS_ASYNC_STALL_MS', 30_000, 500),
    asyncMaxWorkers: num(env, 'FAAS_ASYNC_MAX_WORKERS', 32, 1),
    asyncWorkerIdleMs: num(env, 'FAAS_ASYNC_WORKER_IDLE_MS', 5_000, 100),
    retryDelayMs: num(env, 'FAAS_RETRY_DELAY_MS', 1_000, 0),
    keepResultsMs: num(env, 'FAAS_KEEP_RESULTS_MS', 86_400_000, 1_000),
    callbackAllowLocal: ['1', 'true', 'yes'].includes((env.FAAS_CALLBACK_ALLOW_LOCAL ?? '').toLowerCase()),
    shutdownTimeoutMs: num(env, 'FAAS_SHUTDOWN_TIMEOUT_MS', 30_000, 1_000),
    functionNetworkAllow: Object.freeze(allowList(env, 'FAAS_FUNCTION_NETWORK_ALLOW')),
  });
}
