// Prometheus metrics of async work: jobs per queue and state, the oldest waiting job's age (read from
// Redis at scrape time), and retries counted as they start.
import client from 'prom-client';
import type { QueueCounts } from '../../invoker/async/async-queues.js';

export interface AsyncMetrics {
  countRetry(fn: string): void;
}

/** Adds the async metrics to a registry; `counts` is asked at every scrape (absent in an invoker-only process). */
export function registerAsyncMetrics(registry: client.Registry, counts?: () => Promise<QueueCounts[]>): AsyncMetrics {
  if (counts) {
    const read = () => {
      // One Redis read per scrape, shared by both gauges.
      let pending: Promise<QueueCounts[]> | undefined;
      return () => (pending ??= counts().finally(() => setTimeout(() => (pending = undefined), 0)));
    };
    const current = read();
    new client.Gauge({
      name: 'faas_async_jobs',
      help: 'Async jobs (async calls, queue messages, events, cron ticks) by function, queue and state: waiting, active (in flight), delayed (waiting to retry), dead (dead-letter list)',
      labelNames: ['function', 'queue', 'state'],
      registers: [registry],
      async collect() {
        this.reset();
        for (const c of await current()) {
          for (const state of ['waiting', 'active', 'delayed', 'dead'] as const) this.set({ function: c.function, queue: c.queue, state }, c[state]);
        }
      },
    });
    new client.Gauge({
      name: 'faas_async_oldest_waiting_seconds',
      help: 'Age of the oldest job waiting to start, per function and queue (0 when none waits)',
      labelNames: ['function', 'queue'],
      registers: [registry],
      async collect() {
        this.reset();
        for (const c of await current()) this.set({ function: c.function, queue: c.queue }, c.oldestWaitingMs / 1000);
      },
    });
  }
  const retries = new client.Counter({
    name: 'faas_async_retries_total',
    help: 'Runs of async jobs that were a retry of a failed run',
    labelNames: ['function'],
    registers: [registry],
  });
  return { countRetry: (fn) => retries.inc({ function: fn }) };
}
