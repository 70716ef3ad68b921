// Wires one platform process by role: gateway and invoker together ('all'), a gateway relaying to remote
// invokers, or an invoker serving gateways. Redis holds what they share.
import { randomBytes } from 'node:crypto';
import { chmod, mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import Docker from 'dockerode';
import type { Redis } from 'ioredis';
import { pino, type Logger } from 'pino';
import { asyncSlotsOf, gatewayConfigOf, type PlatformConfig } from './config.js';
import { buildApp } from '../gateway/app.js';
import { createMetrics } from '../metrics/platform-metrics.js';
import { DockerDriver } from '../invoker/driver/docker/docker-driver.js';
import { HostDirectories } from '../invoker/driver/docker/host-directories.js';
import { ContainerPool } from '../invoker/pool/container-pool.js';
import { CodeCache } from '../invoker/code-cache.js';
import { InProcessInvoker } from '../invoker/in-process-invoker.js';
import type { InvocationEvents, Invoker } from '../core/invoker.js';
import { runtimeConnections } from '../invoker/runtime/undici-runtime-connection.js';
import { RedisFunctionRegistry } from '../registry/redis-function-registry.js';
import { routedBy } from '../core/releases.js';
import { splitFunctionId } from '../core/function-spec.js';
import { SecretStore } from '../secrets/secret-store.js';
import { SECRETS_KEY_FILE } from '../secrets/secrets-key.js';
import { RedisUsageStore } from '../metering/redis-usage-store.js';
import { RedisRollupStore } from '../metering/redis-rollups.js';
import { backfillRollups } from '../metering/rollup-backfill.js';
import { RedisInvocationLogStore } from '../metering/redis-invocation-log-store.js';
import { attachMeter } from '../metering/meter.js';
import { UsageJournal } from '../metering/usage-journal.js';
import { toContainerRecord } from '../metering/usage-math.js';
import { ContainerCensus } from '../tenancy/container-census.js';
import { TenantQuotaCache, TenantStore } from '../tenancy/tenant-store.js';
import { QuotaGuard } from '../tenancy/quota-guard.js';
import { InvokerDirectory } from '../invoker/remote/invoker-directory.js';
import { InvokerServer } from '../invoker/remote/invoker-server.js';
import { RemoteInvoker } from '../invoker/remote/remote-invoker.js';
import type { Readiness } from '../gateway/routes/health.js';
import { ensureRuntimeImage } from '../runtime-images/node/build-image.js';
import { defaultRuntimeNote, NodeRuntimeImages } from '../runtime-images/node/node-runtimes.js';
import { AsyncDispatcher } from '../triggers/dispatcher.js';
import { ThreadedDispatcher } from '../triggers/threaded-dispatcher.js';
import { Doorbell } from '../triggers/doorbell.js';
import { announcedUrl } from '../invoker/remote/announced-url.js';

/** The async workers, in this thread or their own. */
type Dispatcher = Pick<AsyncDispatcher, 'start' | 'close' | 'onRetry'>;
import { AsyncQueues } from '../triggers/async-queues.js';
import type { BindingServices } from '../bindings/binding-server.js';
import { KvStore } from '../bindings/kv-store.js';
import { QueuedBytes } from '../triggers/queued-bytes.js';
import { connectRedis, ReplicaWait } from './redis-connection.js';
import type { NodeView } from '../gateway/routes/nodes.js';
import { rankInvokers } from '../invoker/remote/placement.js';

export interface RunningPlatform {
  /** Where this process listens: the gateway's URL, or for role 'invoker' the invoker server's. */
  url: string;
  token: string;
  /** Set when the token was generated and saved rather than given by FAAS_TOKEN. */
  tokenFile?: string;
  close(): Promise<void>;
}

export interface StartOptions {
  onProgress?: (message: string) => void;
  /** Listen on this port instead of config.port (0 = any free port; tests use it). */
  port?: number;
  /** Invoker server port instead of config.invokerPort (role 'invoker'). */
  invokerPort?: number;
}

/** Logs a Redis connection's outage once (not every reconnect attempt) and its recovery. */
function watchRedis(redis: Redis, log: Logger, name: string): void {
  let down = false;
  redis.on('error', (err: Error) => {
    if (down) return;
    down = true;
    log.warn({ err: err.message, connection: name }, 'Redis unreachable; reconnecting');
  });
  redis.on('ready', () => {
    if (!down) return;
    down = false;
    log.info({ connection: name }, 'Redis reachable again');
  });
}

/** Returns FAAS_TOKEN, or the token saved under dataDir, or a new one saved there (mode 0600). */
async function resolveToken(config: PlatformConfig): Promise<{ token: string; tokenFile?: string }> {
  if (config.token) return { token: config.token };
  const tokenFile = path.join(config.dataDir, 'token');
  const saved = await readFile(tokenFile, 'utf8').catch(() => '');
  if (saved.trim()) return { token: saved.trim(), tokenFile };
  const token = randomBytes(24).toString('base64url');
  await writeFile(tokenFile, `${token}\n`, { mode: 0o600 });
  return { token, tokenFile };
}

/** The invoker half: Docker driver, pool, in-process invoker, metering. */
async function startLocalInvoker(
  config: PlatformConfig,
  shared: {
    redis: Redis;
    bullConnection: Redis;
    registry: RedisFunctionRegistry;
    secrets: SecretStore;
    log: Logger;
    quotas: QuotaGuard;
    bindingServices: BindingServices;
  },
  progress: (message: string) => void,
): Promise<{ invoker: InProcessInvoker; dispatcher: Dispatcher; close(): Promise<void> }> {
  const docker = new Docker({ socketPath: config.dockerSocket });
  progress('checking the runtime image');
  const note = defaultRuntimeNote();
  if (note) shared.log.warn(note);
  // The default runtime's image now (FAAS_RUNTIME_IMAGE, or built); another runtime's on its first use.
  const images = new NodeRuntimeImages(docker, {
    onProgress: (line) => shared.log.info({ line }, 'runtime image'),
    base: config.runtimeBase,
    given: config.runtimeImages,
  });
  const image = config.runtimeImage ?? (await ensureRuntimeImage(docker, { onProgress: progress, base: config.runtimeBase }));
  const tenantQuotas = new TenantQuotaCache(new TenantStore({ redis: shared.redis, prefix: config.redisPrefix }));
  await tenantQuotas.start((err) => shared.log.warn({ err: err.message }, 'tenant quotas not refreshed; retrying'));
  const journal = new UsageJournal({
    redis: config.redis,
    prefix: config.redisPrefix,
    dir: path.join(config.dataDir, 'journal'),
    journalId: config.invokerId,
    onError: (err) => shared.log.warn({ err: err.message }, 'usage journal not shipped yet; retrying'),
  });
  await journal.open();
  // The tenants' container counts shared with other invokers, so maxContainers holds across them.
  // Functions with network join the platform's own Docker network, firewalled off this host and private ranges.
  // Fail closed: without it, only functions with network are refused. Its rules stay on close (function-network.ts).
  const driver = new DockerDriver(docker);
  progress('preparing the function network');
  await driver
    .prepareNetwork({ allow: config.functionNetworkAllow })
    .catch((err: Error) => shared.log.error({ err: err.message }, 'function network not ready: functions deployed with network will not start'));
  const census = new ContainerCensus({ redis: shared.redis, prefix: config.redisPrefix, invokerId: config.invokerId, local: () => pool.liveByTenant() });
  const pool = new ContainerPool({
    tenantLimit: (tenant) => tenantQuotas.maxContainers(tenant),
    tenantElsewhere: (tenant) => census.elsewhere(tenant),
    secretsOf: (fn, names) => shared.secrets.reveal(splitFunctionId(fn).tenant, names),
    // minScale holds for the versions an alias routes to; the others scale to zero.
    // (A function no longer known — deleted — keeps its own: its containers' idle time was asked for.)
    keepsWarm: (fn, version) => {
      const record = shared.registry.peek(fn);
      return record === undefined || routedBy(record.releases, version).length > 0;
    },
    // A container's life (idle time, and CPU and peak memory of containers serving several calls at once).
    onRetired: (container) => journal.write({ usage: toContainerRecord(container) }),
    driver,
    connect: runtimeConnections({ maxResponseBytes: config.maxBodyBytes, maxStreamBytes: config.maxStreamBytes }),
    host: new HostDirectories({ dataDir: config.dataDir, codeCache: new CodeCache({ dataDir: config.dataDir, registry: shared.registry }) }),
    image,
    imageFor: (runtime) => images.imageFor(runtime),
    bindingServices: shared.bindingServices,
    owner: config.invokerId,
    poolMemoryMb: config.poolMemoryMb,
    maxQueue: config.maxQueue,
    maxQueueWaitMs: config.maxQueueWaitMs,
    pidsLimit: config.pidsLimit,
    tmpMb: config.tmpMb,
    prewarmCount: config.prewarmCount,
    ...(config.pauseAfterMs === undefined ? {} : { pauseAfterMs: config.pauseAfterMs }),
    log: shared.log.child({ component: 'pool' }),
  });
  progress('removing containers left behind');
  await pool.start();
  await census.start((err) => shared.log.warn({ err: err.message }, 'container counts not shared; retrying'));
  const invoker = new InProcessInvoker({ registry: shared.registry, pool, invokerId: config.invokerId });
  const detachMeter = attachMeter(invoker, journal);
  progress('starting async workers');
  // By default the async workers run in a thread of their own, off the HTTP event loop; their invocations
  // come back to this thread's invoker (FAAS_ASYNC_WORKERS=inline keeps them here).
  const dispatcher: Dispatcher =
    config.asyncWorkers === 'thread'
      ? new ThreadedDispatcher({
          redis: config.redis,
          redisPrefix: config.redisPrefix,
          stallMs: config.asyncStallMs,
          slots: asyncSlotsOf(config),
          maxResultBytes: config.maxBodyBytes,
          callbackAllowLocal: config.callbackAllowLocal,
          logLevel: config.logLevel,
          invoker,
          events: invoker,
          admit: (fn) => shared.quotas.admit(fn),
          onError: (err) => shared.log.error({ err: err.message }, 'async workers thread failed'),
        })
      : new AsyncDispatcher({
          connection: shared.bullConnection,
          redisPrefix: config.redisPrefix,
          registry: shared.registry,
          invoker,
          events: invoker,
          stallMs: config.asyncStallMs,
          slots: asyncSlotsOf(config),
          maxResultBytes: config.maxBodyBytes,
          admit: (fn) => shared.quotas.admit(fn),
          callbackAllowLocal: config.callbackAllowLocal,
          log: shared.log.child({ component: 'async' }),
        });
  await dispatcher.start();
  return {
    invoker,
    dispatcher,
    async close() {
      // Workers first: they finish their running jobs through the invoker before it drains.
      await dispatcher.close();
      await invoker.close();
      detachMeter();
      await journal.close();
      await census.stop();
      tenantQuotas.stop();
    },
  };
}

/** A PEM file a setting names; an error naming the setting when it cannot be read. */
async function readPem(file: string, setting: string): Promise<Buffer> {
  try {
    return await readFile(file);
  } catch (err) {
    throw new Error(`${setting}=${file} cannot be read: ${(err as Error).message}`);
  }
}

export async function startPlatform(config: PlatformConfig, options: StartOptions = {}): Promise<RunningPlatform> {
  const progress = options.onProgress ?? (() => {});
  const log = pino({ level: config.logLevel });
  // Only this user may enter it (token, usage journal, code). Containers see their code and socket through
  // bind mounts, which need no way through the host's path: code stays readable by the functions' uid 65534.
  await mkdir(config.dataDir, { recursive: true, mode: 0o700 });
  await chmod(config.dataDir, 0o700);
  const { token, tokenFile } = await resolveToken(config);
  const closers: Array<() => Promise<void>> = [];
  // Our Redis connections wait for Redis forever while it is down (maxRetriesPerRequest: null): right while
  // running, wrong while closing, where a closer needing Redis (journal flush, census, BullMQ) would hang.
  // Closing turns that off: commands fail at once while Redis is unreachable (the journal stays on disk and
  // ships at the next start), and those already waiting fail at the next reconnect attempt (within 2 s).
  const connections: Redis[] = [];
  let closing: Promise<void> | undefined;
  // Reverse order of start: the gateway stops taking requests, in-flight calls finish, the invoker drains its
  // pool, the usage journal flushes, and the Redis connections go last. Called twice, it is closed once.
  const close = () =>
    (closing ??= (async () => {
      for (const connection of connections) {
        connection.options.maxRetriesPerRequest = 0;
        connection.options.enableOfflineQueue = false;
      }
      for (const closer of closers.splice(0).reverse()) {
        // Connections we do not hold (BullMQ's blocking ones) may still wait for Redis: while Redis stays
        // unreachable for 3 s during one step, that step is left behind and the next one runs.
        let downFor = 0;
        let poll: NodeJS.Timeout | undefined;
        const givenUp = new Promise<void>((resolve) => {
          poll = setInterval(() => {
            downFor = connections.some((c) => c.status !== 'ready') ? downFor + 100 : 0;
            if (downFor >= 3_000) resolve();
          }, 100);
        });
        await Promise.race([closer().catch((err: Error) => log.warn({ err: err.message }, 'closing: a step failed')), givenUp]);
        clearInterval(poll);
      }
    })());

  try {
    const redis = connectRedis(config.redis, { enableAutoPipelining: true, maxRetriesPerRequest: null, lazyConnect: true });
    watchRedis(redis, log, 'main');
    await redis.connect();
    connections.push(redis);
    closers.push(async () => redis.disconnect());
    const registry = await RedisFunctionRegistry.open({ redis, prefix: config.redisPrefix, versionsKept: config.versionsKept });
    closers.push(() => registry.close());
    const secrets = await SecretStore.open(redis, config.redisPrefix, { envValue: config.secretsKey, dataDir: config.dataDir });
    if (config.role !== 'all' && !config.secretsKey) {
      log.warn(
        { keyFile: path.join(config.dataDir, SECRETS_KEY_FILE) },
        'FAAS_SECRETS_KEY is unset: this process seals and opens secrets with its own key file; gateways and invokers that run apart must share one key (set FAAS_SECRETS_KEY on every process)',
      );
    }
    // BullMQ wants its own connection settings (no per-command retry limit); its workers duplicate it for
    // blocking reads. Not auto-pipelined: ioredis builds each turn's pipeline by copying every script defined
    // on the connection — BullMQ's 64 — which took 50–90 µs per turn, more than the socket writes it saved
    // (an async accept's add: 2.0–2.4 → 1.9 ms on average, the same jobs/s under 32 senders).
    const bullConnection = connectRedis(config.redis, { maxRetriesPerRequest: null, lazyConnect: true, enableAutoPipelining: false });
    watchRedis(bullConnection, log, 'jobs');
    await bullConnection.connect();
    connections.push(bullConnection);
    closers.push(async () => bullConnection.disconnect());
    const usage = new RedisUsageStore({ redis, prefix: config.redisPrefix });
    // Usage shipped by versions without rollups gets its rollups once, in the background.
    void backfillRollups(redis, config.redisPrefix)
      .then((records) => records > 0 && log.info({ records }, 'usage rollups built for earlier records'))
      .catch((err: Error) => log.warn({ err: err.message }, 'usage rollups of earlier records not built; retried at the next start'));
    const tenants = new TenantStore({ redis, prefix: config.redisPrefix });
    // GB-seconds quotas: checked by gateways on calls and by invokers on async jobs.
    const quotas = new QuotaGuard({
      usage,
      tenants,
      timeZone: config.billingTimeZone,
      onError: (err) => log.warn({ err: err.message }, 'quota figures not refreshed; retrying'),
    });
    await quotas.start();
    closers.push(async () => quotas.stop());
    const logs = new RedisInvocationLogStore({ redis, prefix: config.redisPrefix });
    const directory = new InvokerDirectory({ redis, prefix: config.redisPrefix });
    closers.push(() => directory.close());

    let invoker: Invoker & InvocationEvents;
    // The async queues: the gateway's (POST /queues/…, async calls), and what queue producer bindings send
    // through — made on first use in a process that runs no gateway.
    const newQueues = (): AsyncQueues => {
      // Warned at most once a minute: after a failover the new master has no replica until one is added.
      let shortWarnedAt = 0;
      const jobReplicas = new ReplicaWait(bullConnection, config.redis, (acked, wanted, err) => {
        if (Date.now() - shortWarnedAt < 60_000) return;
        shortWarnedAt = Date.now();
        log.warn(
          { acked, wanted, ...(err ? { err: err.message } : {}) },
          'accepted async jobs reach fewer Redis replicas than FAAS_REDIS_WAIT_REPLICAS: a master lost now would lose them',
        );
      });
      return new AsyncQueues({
        connection: bullConnection,
        redisPrefix: config.redisPrefix,
        registry,
        retryDelayMs: config.retryDelayMs,
        keepResultsMs: config.keepResultsMs,
        maxMessageBytes: config.maxAsyncBodyBytes,
        queuedBytes: new QueuedBytes({ redis: bullConnection, prefix: config.redisPrefix, defaultLimitBytes: config.maxQueuedBytes }),
        doorbell: Doorbell.of(bullConnection, config.redisPrefix, config.asyncStallMs),
        ...(config.redis.waitReplicas > 0 ? { replicated: () => jobReplicas.afterWrite() } : {}),
      });
    };
    // With a gateway here (role all), its queues, made now and started before it serves; in an invoker
    // alone, a send-only instance made at the first send (made again after a failed start).
    let gatewayQueues: AsyncQueues | undefined = config.role === 'invoker' ? undefined : newQueues();
    let gatewayStarted: () => void = () => {};
    let gatewayFailed: (err: Error) => void = () => {};
    const gatewayReady = new Promise<void>((resolve, reject) => {
      gatewayStarted = resolve;
      gatewayFailed = reject;
    });
    // Never an unhandled rejection: each send awaits it and fails with it.
    gatewayReady.catch(() => {});
    // A send waiting for queues that never start (a failed start, a close during it) fails rather than hangs.
    closers.push(async () => gatewayFailed(new Error('the platform is closing')));
    let bindingQueues: Promise<AsyncQueues> | undefined;
    const queuesForBindings = async (): Promise<AsyncQueues> => {
      if (gatewayQueues) {
        await gatewayReady;
        return gatewayQueues;
      }
      bindingQueues ??= (async () => {
        const own = newQueues();
        try {
          await own.start({ sendOnly: true });
        } catch (err) {
          bindingQueues = undefined;
          await own.close().catch(() => {});
          throw err;
        }
        closers.push(() => own.close());
        return own;
      })();
      return bindingQueues;
    };
    const bindingServices: BindingServices = {
      kv: new KvStore({ redis, prefix: config.redisPrefix, limits: config.kv }),
      sendToQueue: async (queueId, message) => (await queuesForBindings()).send(queueId, message),
      // A KV value as it is; queue messages base64 in JSON (4/3 of their bytes, and their framing).
      maxBodyBytes: Math.max(config.kv.maxValueBytes, Math.ceil((config.maxAsyncBodyBytes * 4) / 3)) + 64 * 1024,
    };
    let dispatcher: Dispatcher | undefined;
    let localClose: (() => Promise<void>) | undefined;
    let readiness: (() => Readiness) | undefined;
    let nodes: (() => Promise<NodeView[]>) | undefined;
    if (config.role === 'gateway') {
      await directory.watch();
      const remote = new RemoteInvoker({
        invokers: () => directory.current(),
        refresh: () => directory.refresh(),
        waitForInvokerMs: config.waitForInvokerMs,
        token,
        maxBodyBytes: config.maxBodyBytes,
        ...(config.invokerTls.caFile ? { tlsCa: await readPem(config.invokerTls.caFile, 'FAAS_INVOKER_TLS_CA') } : {}),
        onHealthChange: (id, up, reason) =>
          up ? log.info({ invoker: id }, 'invoker back: calls go to it again') : log.warn({ invoker: id, reason }, 'invoker down: calls go to the next one'),
      });
      closers.push(() => remote.close());
      invoker = remote;
      readiness = () => {
        const ids = directory.current().map((i) => i.id);
        const live = ids.filter((id) => remote.health.isUp(id)).length;
        return { ready: live > 0, invokers: { live, down: ids.length - live } };
      };
      nodes = async () => {
        const entries = directory.current();
        const ids = entries.map((e) => e.id);
        const placed = new Map<string, number>();
        for (const spec of await registry.list()) {
          const first = rankInvokers(spec.name, ids)[0];
          if (first) placed.set(first, (placed.get(first) ?? 0) + 1);
        }
        return Promise.all(
          entries.map(async (e) => {
            const containers = await remote.containerCountsOn(e).catch(() => undefined);
            return {
              id: e.id,
              url: e.url,
              state: remote.health.isUp(e.id) ? ('up' as const) : ('down' as const),
              lastSeenMs: Math.max(0, Date.now() - e.seenAt),
              ...(containers ? { containers } : {}),
              functions: placed.get(e.id) ?? 0,
            };
          }),
        );
      };
    } else {
      const local = await startLocalInvoker(config, { redis, bullConnection, registry, secrets, log, quotas, bindingServices }, progress);
      localClose = () => local.close();
      closers.push(localClose);
      invoker = local.invoker;
      dispatcher = local.dispatcher;
    }

    if (config.role === 'invoker') {
      const metrics = createMetrics(invoker, invoker, { retries: dispatcher! });
      const server = new InvokerServer({
        invoker,
        token,
        maxFrameBytes: config.maxBodyBytes + 1024 * 1024,
        ...(config.invokerTls.certFile && config.invokerTls.keyFile
          ? {
              tls: {
                cert: await readPem(config.invokerTls.certFile, 'FAAS_INVOKER_TLS_CERT'),
                key: await readPem(config.invokerTls.keyFile, 'FAAS_INVOKER_TLS_KEY'),
              },
            }
          : {}),
        metrics: async () => ({ contentType: metrics.registry.contentType, text: await metrics.registry.metrics() }),
      });
      const url = await server.listen(config.host, options.invokerPort ?? config.invokerPort);
      // Shutting down: leave the directory and turn new calls away (gateways send them to another invoker),
      // let the calls running here finish, then close the server.
      closers.splice(closers.indexOf(localClose!), 0, async () => {
        metrics.detach();
        await server.close();
      });
      closers.push(async () => {
        await directory.close();
        server.drain();
      });
      await directory.announce(
        config.invokerId,
        announcedUrl({ serverUrl: url, listenHost: config.host, configured: config.invokerUrl, redisLocalAddress: redis.stream?.localAddress }),
      );
      return { url, token, ...(tokenFile ? { tokenFile } : {}), close };
    }

    const queues = gatewayQueues ?? newQueues();
    gatewayQueues = queues;
    closers.push(() => queues.close());
    await queues.start().catch((err: Error) => {
      gatewayFailed(err);
      throw err;
    });
    gatewayStarted();
    const app = await buildApp({
      config: gatewayConfigOf(config),
      token,
      tenants,
      secrets,
      admit: (fn) => quotas.admit(fn),
      registry,
      invoker,
      events: invoker,
      rollups: new RedisRollupStore({ redis, prefix: config.redisPrefix }),
      logs,
      queues,
      ...(dispatcher ? { retries: dispatcher } : {}),
      ...(readiness ? { readiness } : {}),
      nodes:
        nodes ??
        (async () => [
          {
            id: config.invokerId,
            url: 'in-process',
            state: 'up' as const,
            lastSeenMs: 0,
            containers: await invoker.containerCounts(),
            functions: (await registry.list()).length,
          },
        ]),
      logger: log,
    });
    closers.push(async () => {
      // server.close() drops only the keep-alive connections idle at that moment; those finishing a
      // request later would stay open until their keep-alive timeout. Sweep them as they go idle.
      const sweeper = setInterval(() => app.server.closeIdleConnections(), 50);
      try {
        await app.close();
      } finally {
        clearInterval(sweeper);
      }
    });
    const address = await app.listen({ host: config.host, port: options.port ?? config.port });
    const url = options.port === undefined ? config.publicUrl : address.replace('[::1]', '127.0.0.1');
    return { url, token, ...(tokenFile ? { tokenFile } : {}), close };
  } catch (err) {
    await close().catch(() => {});
    throw err;
  }
}
