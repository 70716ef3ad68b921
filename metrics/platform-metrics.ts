// Prometheus metrics: invocations, durations, cold starts, queue waits and GB-seconds from invocation events; containers by state at scrape time.
// Two registries: `registry` has every series, with function, tenant and queue labels (the operator's scrape);
// `publicRegistry` has only platform-wide series (process_*, nodejs_*, containers by state, and the same
// faas_* names summed over all functions), which name no tenant, function or queue (the anonymous scrape).
import client from 'prom-client';
import type { InvocationEvents, Invoker } from '../core/invoker.js';
import { billedDurationMs, gbSeconds } from '../metering/usage-math.js';
import { splitFunctionId } from '../core/function-spec.js';
import type { QueueCounts } from '../triggers/job-inspection.js';
import { registerAsyncMetrics, summedCounter } from './async-metrics.js';

export interface GatewayMetrics {
  /** Every series, per function, tenant and queue: only for the admin token or FAAS_METRICS_TOKEN. */
  registry: client.Registry;
  /** Platform-wide series only, with no tenant, function or queue label: safe to show without a token. */
  publicRegistry: client.Registry;
  /** Counts a request the platform refused before it reached a container (429, 503). */
  countRejected(fn: string, status: 'throttled' | 'queue_timeout' | 'no_capacity'): void;
  /** Counts a connection the HTTP edge refused, or closed to make room (gateway/edge/connection-guard.ts). */
  countShedConnection(reason: 'client_limit' | 'total_limit' | 'evicted'): void;
  detach(): void;
}

const DURATION_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];
const COLD_BUCKETS = [0.05, 0.1, 0.15, 0.2, 0.3, 0.5, 0.75, 1, 2, 5, 10];

/** Where async work's figures come from: queue counts (a gateway) and retries as they start (an invoker). */
export interface AsyncSources {
  counts?: () => Promise<QueueCounts[]>;
  retries?: { onRetry(listener: (fn: string) => void): () => void };
}

export function createMetrics(events: InvocationEvents, invoker: Pick<Invoker, 'containerCounts'>, sources: AsyncSources = {}): GatewayMetrics {
  const registry = new client.Registry();
  const publicRegistry = new client.Registry();
  const asyncMetrics = registerAsyncMetrics(registry, sources.counts, publicRegistry);
  const detachRetries = sources.retries?.onRetry((fn) => asyncMetrics.countRetry(fn));
  // Standard names (process_*, nodejs_*), so stock Node.js dashboards work unchanged.
  client.collectDefaultMetrics({ register: registry });
  // Gauges named like counters, which Prometheus' own linter (promtool check metrics) rejects; the same
  // figures remain as nodejs_active_handles, nodejs_active_requests and nodejs_active_resources.
  for (const name of ['nodejs_active_handles_total', 'nodejs_active_requests_total', 'nodejs_active_resources_total']) registry.removeSingleMetric(name);
  // The same metric objects in the public registry: no labels that name a tenant or function.
  for (const { name } of registry.getMetricsAsArray()) {
    if (name.startsWith('process_') || name.startsWith('nodejs_')) publicRegistry.registerMetric(registry.getSingleMetric(name)!);
  }
  const shed = new client.Counter({
    name: 'faas_connections_shed_total',
    help: 'Connections refused at a connection limit (per client, in total) or closed to make room for a new one',
    labelNames: ['reason'],
    registers: [registry, publicRegistry],
  });
  const invocations = new client.Counter({
    name: 'faas_invocations_total',
    help: 'Invocations by function, outcome and whether the container was cold',
    labelNames: ['function', 'status', 'start'],
    registers: [registry],
  });
  const duration = new client.Histogram({
    name: 'faas_invocation_duration_seconds',
    help: 'Time the function ran, request sent to the container to response read',
    labelNames: ['function'],
    buckets: DURATION_BUCKETS,
    registers: [registry],
  });
  const coldStart = new client.Histogram({
    name: 'faas_cold_start_seconds',
    help: 'Container create to runtime ready, for invocations that cold-started',
    labelNames: ['function'],
    buckets: COLD_BUCKETS,
    registers: [registry],
  });
  const queueWait = new client.Histogram({
    name: 'faas_queue_wait_seconds',
    help: 'Time a request waited for a container slot',
    labelNames: ['function'],
    buckets: DURATION_BUCKETS,
    registers: [registry],
  });
  const gbs = new client.Counter({
    name: 'faas_gigabyte_seconds_total',
    help: 'Billed GB-seconds (configured memory x billed duration)',
    labelNames: ['function'],
    registers: [registry],
  });
  const tenantInvocations = new client.Counter({
    name: 'faas_tenant_invocations_total',
    help: 'Invocations that reached a container, by tenant and outcome',
    labelNames: ['tenant', 'status'],
    registers: [registry],
  });
  const tenantGbs = new client.Counter({
    name: 'faas_tenant_gigabyte_seconds_total',
    help: 'Billed GB-seconds by tenant: handler duration, and init time of cold starts',
    labelNames: ['tenant', 'part'],
    registers: [registry],
  });
  const tenantCpu = new client.Counter({
    name: 'faas_tenant_cpu_seconds_total',
    help: 'CPU time measured in the cgroups of containers that run one request at a time, by tenant',
    labelNames: ['tenant'],
    registers: [registry],
  });
  // Totals over all functions for the public registry, summed at scrape time (nothing added to the hot
  // path): the same names without the function label, so sum by (status) (rate(faas_invocations_total[5m]))
  // works on either scrape. No latency histograms here: those need the token.
  summedCounter(publicRegistry, invocations, 'faas_invocations_total', 'Invocations of all functions together, by outcome and whether the container was cold', [
    'status',
    'start',
  ]);
  summedCounter(publicRegistry, gbs, 'faas_gigabyte_seconds_total', 'Billed GB-seconds (configured memory x billed duration), all functions together', []);
  new client.Gauge({
    name: 'faas_containers',
    help: 'Function containers by state',
    labelNames: ['state'],
    registers: [registry, publicRegistry],
    async collect() {
      const counts = await invoker.containerCounts();
      for (const [state, n] of Object.entries(counts)) this.set({ state }, n);
    },
  });

  // Label children cached per function: the hot path skips prom-client's label hashing.
  type Observer = client.Histogram.Internal<string>;
  type Count = client.Counter.Internal;
  const perFunction = new Map<
    string,
    { duration: Observer; queueWait: Observer; coldStart: Observer; gbs: Count; tenant: string; tenantGbs: Count; tenantInitGbs: Count; tenantCpu: Count }
  >();
  const counters = new Map<string, client.Counter.Internal>();
  const detach = events.onInvocationFinished((e) => {
    let fn = perFunction.get(e.fn);
    if (!fn) {
      const tenant = splitFunctionId(e.fn).tenant;
      fn = {
        duration: duration.labels(e.fn),
        queueWait: queueWait.labels(e.fn),
        coldStart: coldStart.labels(e.fn),
        gbs: gbs.labels(e.fn),
        tenant,
        tenantGbs: tenantGbs.labels(tenant, 'duration'),
        tenantInitGbs: tenantGbs.labels(tenant, 'init'),
        tenantCpu: tenantCpu.labels(tenant),
      };
      perFunction.set(e.fn, fn);
    }
    const start = e.coldStart ? 'cold' : 'warm';
    const key = `${e.fn}\u0000${e.status}\u0000${start}`;
    let counter = counters.get(key);
    if (!counter) {
      counter = invocations.labels(e.fn, e.status, start);
      counters.set(key, counter);
    }
    counter.inc();
    fn.duration.observe(e.durationMs / 1000);
    fn.queueWait.observe(e.queueWaitMs / 1000);
    if (e.coldStart && e.initMs !== undefined) fn.coldStart.observe(e.initMs / 1000);
    const handlerGbs = gbSeconds(e.memoryMb, billedDurationMs(e.durationMs));
    fn.gbs.inc(handlerGbs);
    fn.tenantGbs.inc(handlerGbs);
    if (e.coldStart && e.initMs !== undefined) fn.tenantInitGbs.inc(gbSeconds(e.memoryMb, billedDurationMs(e.initMs)));
    if (e.cpuMs !== undefined) fn.tenantCpu.inc(e.cpuMs / 1000);
    const tenantKey = `${fn.tenant}\u0001${e.status}`;
    let tenantCounter = counters.get(tenantKey);
    if (!tenantCounter) {
      tenantCounter = tenantInvocations.labels(fn.tenant, e.status);
      counters.set(tenantKey, tenantCounter);
    }
    tenantCounter.inc();
  });

  return {
    registry,
    publicRegistry,
    countRejected(fn, status) {
      invocations.inc({ function: fn, status, start: 'none' });
    },
    countShedConnection(reason) {
      shed.inc({ reason });
    },
    detach() {
      detach();
      detachRetries?.();
    },
  };
}
