// Which async workers run in this process: BullMQ workers only for queues with work. A worker holds a
// Redis connection of its own, so one per deployed function would make the platform's connections grow
// with its functions; instead the doorbell (doorbell.ts) says which queues have jobs due — announced on
// its channel, and polled at least every second — and at most FAAS_ASYNC_MAX_WORKERS of them have a live
// worker here at a time (worker-slots.ts decides which). A worker idle for a while is closed and its queue
// rung again, so a retry or cron tick due later brings one back then. Each minute every queue is rung
// (a job whose producer died before ringing is found). BullMQ gives at-least-once: a job whose process
// dies mid-run is found stalled (its lock not renewed) by a worker of its queue — the doorbell keeps
// looking at a queue with running jobs for that — and run again. The jobs themselves: dispatcher.ts.
import { Worker, type Job } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { FunctionSpec } from '../core/function-spec.js';
import type { FunctionRegistry } from '../registry/function-registry.js';
import { bullPrefix, functionQueueName, messageQueueName } from './job-ids.js';
import { Doorbell } from './doorbell.js';
import type { JobData, StoredResult } from './job.js';
import { TriggerIndex } from './trigger-index.js';
import { WorkerSlots, type SlotPolicy } from './worker-slots.js';

export interface LiveWorkersOptions {
  connection: Redis;
  redisPrefix: string;
  registry: FunctionRegistry;
  /** A running job's lock lasts this long and is renewed at half; a lapsed lock means its process died. */
  stallMs: number;
  /** How many queues have a live worker here at once, and for how long (FAAS_ASYNC_MAX_WORKERS, FAAS_ASYNC_WORKER_IDLE_MS). */
  slots: SlotPolicy;
  /** Due queues are looked for at least this often (ms), besides the doorbell's announcements; 1 000 by default. */
  pollMs?: number;
  /** Runs one job of `fn` (and, for a named queue, more messages taken with `fetcher` for a batch). */
  process(fn: string, fetcher: Worker<JobData> | undefined, job: Job<JobData>, token: string | undefined): Promise<StoredResult>;
  log: Logger;
}

interface Consumer {
  worker: Worker<JobData>;
  fn: string;
  /** Fetches more messages for a batch (a second worker on the same queue, never run on its own). */
  fetcher?: Worker<JobData>;
}

const now = () => Date.now();
/** How long a due queue with no consumer known here waits before this process looks at it again. */
const NO_CONSUMER_HOLD_MS = 30_000;
/** Every queue of every function is rung this often: a job whose producer died between adding it and ringing is found. */
const SWEEP_MS = 60_000;

/** The BullMQ queues a function's jobs arrive on: its own, and the named queues it consumes. */
export const queuesOf = (spec: FunctionSpec): string[] => [functionQueueName(spec.name), ...spec.queues.map(messageQueueName)];

export class LiveWorkers {
  /** Live workers, by BullMQ queue name. */
  private readonly consumers = new Map<string, Consumer>();
  private readonly closing = new Set<Promise<void>>();
  private readonly slots: WorkerSlots;
  private readonly index = new TriggerIndex();
  private readonly doorbell: Doorbell;
  private unsubscribe: (() => void) | undefined;
  private closed = false;
  private sync: Promise<void> = Promise.resolve();
  private pollTimer: NodeJS.Timeout | undefined;
  private lastPollWarn = 0;
  /** The start rings every queue: the first sweep is a minute later. */
  private lastSweep = Date.now();

  constructor(private readonly options: LiveWorkersOptions) {
    this.slots = new WorkerSlots(options.slots);
    this.doorbell = Doorbell.of(options.connection, options.redisPrefix, options.stallMs);
  }

  async start(): Promise<void> {
    this.unsubscribe = this.options.registry.onChange((change) => {
      const spec = change.kind === 'deployed' ? change.spec : undefined;
      const name = change.kind === 'deployed' ? change.spec.name : change.name;
      this.index.apply(name, spec);
      this.sync = this.sync.then(() => this.reconcile(name, spec)).catch((err) => this.options.log.error({ err }, 'async workers not updated'));
    });
    await this.doorbell.listen((queue) => this.wanted(queue));
    const specs = await this.options.registry.list();
    this.index.reset(specs);
    // Every queue rung once at start: what was left waiting (or added before the doorbell existed) is found.
    const due = await this.doorbell.ringAll(specs.flatMap(queuesOf));
    for (const queue of due) this.wanted(queue);
    this.schedulePoll(0);
  }

  /** The function whose jobs a queue holds, if it is deployed. */
  private consumerOf(queue: string): FunctionSpec | undefined {
    if (queue.startsWith('fn.')) return this.index.get(queue.slice(3));
    if (queue.startsWith('q.')) return this.index.consumerOf(queue.slice(2));
    return undefined;
  }

  /** A queue has work due: a worker for it now, or when a slot frees. */
  private wanted(queue: string): void {
    if (this.closed) return;
    const spec = this.consumerOf(queue);
    if (spec) {
      if (this.slots.want(queue, now()) === 'start') this.startConsumer(queue, spec);
      return;
    }
    this.slots.forget(queue);
    void this.noConsumerKnown(queue).catch((err: Error) => this.options.log.warn({ err: err.message, queue }, 'async doorbell entry not updated'));
  }

  /**
   * A due queue whose consumer this process does not know. Its own function may be one this index missed
   * (read from Redis); otherwise the entry is held for a while, never removed on this process's word alone:
   * another process may know the consumer, and a deploy that consumes the queue rings it at once.
   */
  private async noConsumerKnown(queue: string): Promise<void> {
    if (queue.startsWith('fn.')) {
      const spec = await this.options.registry.get(queue.slice(3));
      if (spec && !this.closed) {
        this.index.apply(spec.name, spec);
        if (this.slots.want(queue, now()) === 'start') this.startConsumer(queue, spec);
        return;
      }
    }
    await this.doorbell.hold(queue, NO_CONSUMER_HOLD_MS);
  }

  private startConsumer(queue: string, spec: FunctionSpec): void {
    this.consumers.set(queue, this.createConsumer(queue, spec.name, spec.concurrency * spec.maxScale, queue.startsWith('q.')));
  }

  /** Looks for due queues, closes idle workers, and comes back when the next entry is due (pollMs at most). */
  private schedulePoll(delayMs: number): void {
    clearTimeout(this.pollTimer);
    if (this.closed) return;
    this.pollTimer = setTimeout(() => void this.poll(), delayMs);
    this.pollTimer.unref?.();
  }

  private async poll(): Promise<void> {
    const pollMs = this.options.pollMs ?? 1_000;
    let next: number | undefined;
    try {
      const due = await this.doorbell.due(now(), 256);
      for (const queue of due.queues) this.wanted(queue);
      next = due.next;
    } catch (err) {
      if (now() - this.lastPollWarn > 10_000) {
        this.lastPollWarn = now();
        this.options.log.warn({ err: (err as Error).message }, 'async doorbell not read');
      }
    }
    for (const queue of this.slots.toClose(now())) this.closeLive(queue);
    if (now() - this.lastSweep >= SWEEP_MS) {
      this.lastSweep = now();
      void this.doorbell
        .ringAll(this.index.functions().flatMap(queuesOf))
        .then((due) => {
          for (const queue of due) this.wanted(queue);
        })
        .catch((err: Error) => this.options.log.warn({ err: err.message }, 'async queues not swept'));
    }
    this.schedulePoll(next === undefined ? pollMs : Math.max(5, Math.min(pollMs, next - now())));
  }

  /**
   * Closes a live worker (its running jobs finish first), gives its slot to the next queue waiting, and rings
   * its queue: work that arrived meanwhile brings a worker back at once, a retry or tick due later then.
   */
  private closeLive(queue: string): void {
    const consumer = this.consumers.get(queue);
    this.consumers.delete(queue);
    const done = (async () => {
      if (consumer) await this.closeConsumer(consumer).catch((err: Error) => this.options.log.warn({ err: err.message, queue }, 'async worker not closed'));
      let next = this.slots.closed(queue, now());
      while (next !== undefined && !this.closed) {
        const spec = this.consumerOf(next);
        if (spec) {
          this.startConsumer(next, spec);
          break;
        }
        next = this.slots.closed(next, now());
      }
      if (this.closed) return;
      const due = await this.doorbell.ring(queue).catch(() => undefined);
      if (due !== undefined && due <= now()) this.wanted(queue);
    })();
    this.closing.add(done);
    void done.finally(() => this.closing.delete(done));
  }

  /** After a deploy or delete: live workers follow the function's queues and concurrency; its queues are rung. */
  private async reconcile(name: string, spec: FunctionSpec | undefined): Promise<void> {
    if (this.closed) return;
    const wanted = new Set(spec ? queuesOf(spec) : []);
    for (const [queue, consumer] of this.consumers) {
      if (consumer.fn !== name) continue;
      if (!wanted.has(queue) || !spec) {
        if (this.slots.markClosing(queue)) this.closeLive(queue);
      } else consumer.worker.concurrency = spec.concurrency * spec.maxScale;
    }
    if (!spec) return;
    for (const queue of await this.doorbell.ringAll(wanted)) this.wanted(queue);
  }

  private workerOptions(concurrency: number) {
    return {
      connection: this.options.connection,
      prefix: bullPrefix(this.options.redisPrefix),
      concurrency,
      lockDuration: this.options.stallMs,
      stalledInterval: this.options.stallMs,
      // A job whose invoker died twice in a row is dead-lettered rather than run forever.
      maxStalledCount: 2,
    };
  }

  private createConsumer(queueName: string, fn: string, concurrency: number, messages: boolean): Consumer {
    const fetcher = messages ? new Worker<JobData>(queueName, null, { ...this.workerOptions(1), autorun: false }) : undefined;
    const worker = new Worker<JobData>(
      queueName,
      async (job, token) => {
        this.slots.jobStarted(queueName, now());
        try {
          return await this.options.process(fn, fetcher, job, token);
        } finally {
          this.slots.jobEnded(queueName, now());
        }
      },
      this.workerOptions(concurrency),
    );
    const consumer: Consumer = { fn, worker, ...(fetcher ? { fetcher } : {}) };
    // Connection errors repeat on every reconnect attempt: one line per 10 s per queue is enough.
    let lastWarn = 0;
    consumer.worker.on('error', (err) => {
      if (Date.now() - lastWarn < 10_000) return;
      lastWarn = Date.now();
      this.options.log.warn({ err: err.message, queue: queueName }, 'async worker error');
    });
    return consumer;
  }

  private async closeConsumer(consumer: Consumer): Promise<void> {
    // Both closed even when one fails, so no connection is left open.
    const [worker, fetcher] = await Promise.allSettled([consumer.worker.close(), consumer.fetcher?.close()]);
    for (const result of [worker, fetcher]) if (result.status === 'rejected') throw result.reason;
  }

  /** Live workers and queues waiting for one. */
  counts(): { live: number; waiting: number } {
    return { live: this.slots.liveCount, waiting: this.slots.waitingCount };
  }

  /** Stops taking jobs and waits for the running ones. */
  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.pollTimer);
    this.unsubscribe?.();
    await this.sync;
    await this.doorbell.close();
    await Promise.all([...this.consumers.values()].map((c) => this.closeConsumer(c)));
    this.consumers.clear();
    await Promise.all([...this.closing]);
  }
}
