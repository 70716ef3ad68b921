// Prometheus metrics of async work: jobs per queue and state, the oldest waiting job's age (read from
// Redis at scrape time), and retries counted as they start. A public registry, when given, gets the same
// names summed over all functions and queues (no function or queue label: those name tenants' functions).
import client from 'prom-client';
import type { QueueCounts } from '../triggers/job-inspection.js';

export interface AsyncMetrics {
  countRetry(fn: string): void;
}

/**
 * A counter in `registry` whose figures are those of `source` summed over every label but `keep`, computed
 * at each scrape of `registry` from `source`'s current values.
 */
export function summedCounter<K extends string>(
  registry: client.Registry,
  source: client.Counter<string>,
  name: string,
  help: string,
  keep: readonly K[],
): client.Counter<K> {
  return new client.Counter<K>({
    name,
    help,
    labelNames: keep,
    registers: [registry],
    async collect() {
      const { values } = await source.get();
      // Synchronous from here: a concurrent scrape cannot interleave between reset and the sums.
      this.reset();
      for (const v of values) {
        const labels = {} as Partial<Record<K, string | number>>;
        for (const key of keep) labels[key] = v.labels[key] ?? '';
        this.inc(labels, v.value);
      }
    },
  });
}

/**
 * Adds the async metrics to a registry, and their totals over all functions to `publicRegistry`; `counts` is
 * asked at every scrape (absent in an invoker-only process).
 */
export function registerAsyncMetrics(registry: client.Registry, counts?: () => Promise<QueueCounts[]>, publicRegistry?: client.Registry): AsyncMetrics {
  const STATES = ['waiting', 'active', 'delayed', 'dead'] as const;
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
          for (const state of STATES) this.set({ function: c.function, queue: c.queue, state }, c[state]);
        }
      },
    });
    if (publicRegistry) {
      new client.Gauge({
        name: 'faas_async_jobs',
        help: 'Async jobs of all functions and queues together, by state: waiting, active (in flight), delayed (waiting to retry), dead (dead-letter list)',
        labelNames: ['state'],
        registers: [publicRegistry],
        async collect() {
          const all = await current();
          for (const state of STATES)
            this.set(
              { state },
              all.reduce((sum, c) => sum + c[state], 0),
            );
        },
      });
      new client.Gauge({
        name: 'faas_async_oldest_waiting_seconds',
        help: 'Age of the oldest job waiting to start in any queue (0 when none waits)',
        registers: [publicRegistry],
        async collect() {
          this.set((await current()).reduce((max, c) => Math.max(max, c.oldestWaitingMs), 0) / 1000);
        },
      });
    }
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
  if (publicRegistry)
    summedCounter(publicRegistry, retries, 'faas_async_retries_total', 'Runs of async jobs, of all functions together, that were a retry of a failed run', []);
  return { countRetry: (fn) => retries.inc({ function: fn }) };
}
