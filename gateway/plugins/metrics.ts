// Prometheus metrics: invocations, durations, cold starts, queue waits and GB-seconds from invocation events; containers by state at scrape time.
import client from 'prom-client';
import type { InvocationEvents, Invoker } from '../../invoker/invoker.js';
import { billedDurationMs, gbSeconds } from '../../invoker/metering/usage-math.js';

export interface GatewayMetrics {
  registry: client.Registry;
  /** Counts a request the platform refused before it reached a container (429, 503). */
  countRejected(fn: string, status: 'throttled' | 'queue_timeout' | 'no_capacity'): void;
  detach(): void;
}

const DURATION_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];
const COLD_BUCKETS = [0.05, 0.1, 0.15, 0.2, 0.3, 0.5, 0.75, 1, 2, 5, 10];

export function createMetrics(events: InvocationEvents, invoker: Pick<Invoker, 'containerCounts'>): GatewayMetrics {
  const registry = new client.Registry();
  client.collectDefaultMetrics({ register: registry, prefix: 'faas_process_' });
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
    name: 'faas_gb_seconds_total',
    help: 'Billed GB-seconds (configured memory x billed duration)',
    labelNames: ['function'],
    registers: [registry],
  });
  new client.Gauge({
    name: 'faas_containers',
    help: 'Function containers by state',
    labelNames: ['state'],
    registers: [registry],
    async collect() {
      const counts = await invoker.containerCounts();
      for (const [state, n] of Object.entries(counts)) this.set({ state }, n);
    },
  });

  const detach = events.onInvocationFinished((e) => {
    invocations.inc({ function: e.fn, status: e.status, start: e.coldStart ? 'cold' : 'warm' });
    duration.observe({ function: e.fn }, e.durationMs / 1000);
    queueWait.observe({ function: e.fn }, e.queueWaitMs / 1000);
    if (e.coldStart && e.initMs !== undefined) coldStart.observe({ function: e.fn }, e.initMs / 1000);
    gbs.inc({ function: e.fn }, gbSeconds(e.memoryMb, billedDurationMs(e.durationMs)));
  });

  return {
    registry,
    countRejected(fn, status) {
      invocations.inc({ function: fn, status, start: 'none' });
    },
    detach,
  };
}
