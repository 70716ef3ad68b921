// Builds the gateway: error handling, the HTTP trigger, the token-protected management API, health and metrics.
import { createServer } from 'node:http';
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import type { InvocationEvents, Invoker } from '../core/invoker.js';
import type { InvocationLogStore } from '../metering/usage-record.js';
import type { UsageRollups } from '../metering/redis-rollups.js';
import type { FunctionRegistry } from '../registry/function-registry.js';
import type { PricePlan } from '../metering/billing.js';
import { requireToken } from './plugins/auth.js';
import { registerErrorHandling } from './plugins/error-handler.js';
import { originOf } from './edge/forwarded-headers.js';
import { clientErrorHandler, frameworkErrors, registerHttpEdge } from './plugins/http-edge.js';
import { registerConnectionLimits } from './plugins/connection-limits.js';
import { ConnectionGuard, type EdgeLimits } from './edge/connection-guard.js';
import { HttpTrigger } from './trigger/http-trigger.js';
import { readBody } from './trigger/request-body.js';
import { createMetrics, type AsyncSources } from '../metrics/platform-metrics.js';
import { functionRoutes } from './routes/functions.js';
import { releaseRoutes } from './routes/releases.js';
import { secretRoutes } from './routes/secrets.js';
import type { SecretStore } from '../secrets/secret-store.js';
import { healthRoutes, type Readiness } from './routes/health.js';
import type { TenantLimits } from '../tenancy/tenant-limits.js';
import { nodeRoutes, type NodeView } from './routes/nodes.js';
import { usageRoutes } from './routes/usage.js';
import { asyncRoutes } from './routes/async.js';
import { jobRoutes } from './routes/jobs.js';
import type { AsyncQueues } from '../triggers/async-queues.js';
import type { TenantStore } from '../tenancy/tenant-store.js';
import { tenantRoutes } from './routes/tenants.js';
import { containerRoutes } from './routes/containers.js';
import { dashboardRoutes } from './routes/dashboard.js';
import type { RuntimeName } from '../core/function-settings.js';

/** The settings the gateway reads; the platform's composition root fills them from its config. */
export interface GatewayConfig {
  publicUrl: string;
  maxBodyBytes: number;
  maxStreamBytes: number;
  maxCodeBytes: number;
  /** Images given for runtimes (FAAS_RUNTIME_IMAGE_*): those runtimes deploy even where their binary is not installed. */
  runtimeImages?: Partial<Record<RuntimeName, string>>;
  poolMemoryMb: number;
  maxCpusPerFunction: number;
  /** Largest /tmp a function may ask for, MB. */
  maxTmpMb?: number;
  /** Shortest time between two runs of a cron trigger, ms. */
  minScheduleIntervalMs?: number;
  /** What one tenant may deploy in all. */
  tenantLimits?: TenantLimits;
  callbackAllowLocal: boolean;
  metricsToken?: string | undefined;
  /** Functions answer at `<name>[.<tenant>].<domain>` too; '' turns it off. */
  domain: string;
  /** Prices and the free tier invoices and usage figures are computed with. */
  plan: PricePlan;
  /** Timeouts and connection caps of the HTTP edge. */
  edge: EdgeLimits;
}

export interface GatewayDeps {
  config: GatewayConfig;
  token: string;
  registry: FunctionRegistry;
  invoker: Invoker;
  events: InvocationEvents;
  /** Usage rollups the usage API, invoices and the dashboard read. */
  rollups: UsageRollups;
  logs: InvocationLogStore;
  /** Async calls, queues, events, cron and dead letters; absent in gateway-only unit tests. */
  queues?: AsyncQueues;
  /** Retries of async jobs run in this process (role 'all'), for /metrics. */
  retries?: AsyncSources['retries'];
  /** Tenants and their tokens; absent in gateway-only unit tests (the admin token only). */
  tenants?: TenantStore;
  /** The tenants' sealed secrets; absent in gateway-only unit tests (deploys naming a secret are then refused). */
  secrets?: SecretStore;
  /** Throws QuotaExceededError when a function's tenant is past its GB-seconds quota. */
  admit?: (fn: string) => void;
  /** The process's pino logger; none in tests. */
  logger?: FastifyBaseLogger;
  /** The invokers behind this gateway, for `faas nodes`; the route is absent without it. */
  nodes?: () => Promise<NodeView[]>;
  /** Whether calls can run now (a gateway apart: some invoker is live), for /healthz and /readyz; always when absent. */
  readiness?: () => Readiness;
}

export async function buildApp(deps: GatewayDeps): Promise<FastifyInstance> {
  const { config } = deps;
  const metrics = createMetrics(deps.events, deps.invoker, {
    ...(deps.queues ? { counts: () => deps.queues!.jobs.counts() } : {}),
    ...(deps.retries ? { retries: deps.retries } : {}),
  });
  const guard = new ConnectionGuard(config.edge, { onShed: (reason) => metrics.countShedConnection(reason) });
  const admit = deps.admit;
  const origin = originOf(config.publicUrl);
  const trigger = new HttpTrigger({
    invoker: deps.invoker,
    metrics,
    guard,
    maxBodyBytes: config.maxBodyBytes,
    maxStreamBytes: config.maxStreamBytes,
    origin,
    domain: config.domain,
    known: (id: string) => deps.registry.has(id),
    ...(admit ? { admit } : {}),
    logError: (err, message) => app.log.error({ err }, message),
  });
  const app = Fastify({
    ...(deps.logger ? { loggerInstance: deps.logger } : { logger: false }),
    // No per-request log lines: the trigger is the hot path; outcomes are in metrics and invocation logs.
    logController: new LogController({ disableRequestLogging: true }),
    // Function calls (/fn/…, a function's own host) go to the trigger; the rest to fastify's router.
    serverFactory: (handler) => {
      const server = createServer(
        {
          // A missing Host is answered by the edge in the API's error shape, not by Node's bare 400.
          requireHostHeader: false,
          headersTimeout: config.edge.headersTimeoutMs,
          requestTimeout: config.edge.requestTimeoutMs,
          // How often Node looks for requests past their header or request timeout (default 30 s late).
          connectionsCheckingInterval: 1_000,
        },
        (req, res) => (trigger.serves(req) ? trigger.handle(req, res) : handler(req, res)),
      );
      server.keepAliveTimeout = config.edge.keepAliveTimeoutMs;
      guard.attach(server);
      return server;
    },
    clientErrorHandler,
    frameworkErrors,
    // Bodies are checked as sent: no dropping unknown fields, no turning 1 into "1" or "256" into 256.
    ajv: { customOptions: { removeAdditional: false, coerceTypes: false, allErrors: false } },
  });
  registerErrorHandling(app);
  registerConnectionLimits(app, guard);
  registerHttpEdge(app);
  // Calls arriving on connections still open while the server closes are answered 503 (fastify does so for its routes).
  app.addHook('preClose', async () => trigger.close());
  app.addHook('onClose', async () => metrics.detach());

  healthRoutes(
    app,
    metrics,
    {
      token: deps.token,
      metricsToken: config.metricsToken,
      lookup: deps.tenants ? (token) => deps.tenants!.authenticate(token) : undefined,
    },
    deps.readiness,
  );
  dashboardRoutes(app);
  const queues = deps.queues;
  if (queues) {
    // The async trigger takes raw bodies as the sync one does (whole, up to FAAS_MAX_BODY_BYTES).
    await app.register(async (scope) => {
      scope.removeAllContentTypeParsers();
      scope.addContentTypeParser('*', (request, payload, done) => {
        readBody(payload, request.headers, { maxBodyBytes: config.maxBodyBytes }).then(
          (body) => done(null, body),
          (err: Error) => done(err, undefined),
        );
      });
      asyncRoutes(scope, {
        registry: deps.registry,
        queues,
        origin,
        callbackAllowLocal: config.callbackAllowLocal,
        ...(admit ? { admit } : {}),
      });
    });
  }
  const tenants = deps.tenants;
  await app.register(
    async (api) => {
      requireToken(api, deps.token, tenants ? (token) => tenants.authenticate(token) : undefined);
      functionRoutes(api, {
        registry: deps.registry,
        logs: deps.logs,
        publicUrl: config.publicUrl,
        domain: config.domain,
        maxCodeBytes: config.maxCodeBytes,
        ...(config.runtimeImages ? { runtimeImages: config.runtimeImages } : {}),
        ...(queues ? { triggers: queues, deployed: queues.index } : {}),
        ...(tenants ? { tenantExists: async (id: string) => (await tenants.get(id)) !== undefined } : {}),
        poolMemoryMb: config.poolMemoryMb,
        maxCpusPerFunction: config.maxCpusPerFunction,
        ...(config.maxTmpMb !== undefined ? { maxTmpMb: config.maxTmpMb } : {}),
        ...(config.minScheduleIntervalMs !== undefined ? { minScheduleIntervalMs: config.minScheduleIntervalMs } : {}),
        ...(config.tenantLimits ? { tenantLimits: config.tenantLimits } : {}),
        ...(tenants ? { tenantQuota: async (id: string) => (await tenants.get(id))?.quotas ?? {} } : {}),
        ...(deps.secrets ? { secrets: deps.secrets } : {}),
      });
      releaseRoutes(api, { registry: deps.registry });
      if (deps.secrets) secretRoutes(api, { secrets: deps.secrets, registry: deps.registry });
      if (tenants) tenantRoutes(api, { tenants, registry: deps.registry });
      containerRoutes(api, { invoker: deps.invoker });
      if (deps.nodes) nodeRoutes(api, { nodes: deps.nodes });
      if (queues) {
        await api.register(async (raw) => {
          raw.removeAllContentTypeParsers();
          raw.addContentTypeParser('*', { parseAs: 'buffer', bodyLimit: config.maxBodyBytes }, (_req, body, done) => done(null, body));
          jobRoutes(raw, { queues });
        });
      }
      usageRoutes(api, { rollups: deps.rollups, plan: config.plan, ...(queues ? { queued: (tenant: string) => queues.queuedBytesOf(tenant) } : {}) });
    },
    { prefix: '/api/v1' },
  );
  return app;
}
