// The consumer side of async work: in every invoker process, BullMQ workers run jobs through the local
// invoker — but only for queues with work. A worker holds a Redis connection of its own, so one per
// deployed function would make the platform's connections grow with its functions; instead the doorbell
// (doorbell.ts) says which queues have jobs due, and at most FAAS_ASYNC_MAX_WORKERS of them have a live
// worker here at a time (worker-slots.ts decides which). A worker idle for a while is closed, and its queue
// rung again, so a retry or cron tick due later brings one back then. BullMQ gives at-least-once: a job
// whose process dies mid-run is found stalled (its lock not renewed) by a worker of its queue — the
// doorbell keeps looking at a queue with running jobs for that — and run again.
import { DelayedError, UnrecoverableError, Worker, type Job } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { FunctionSpec } from '../core/function-spec.js';
import type { InvocationEvents, InvocationFinished, InvocationResponse, Invoker } from '../core/invoker.js';
import type { FunctionRegistry } from '../registry/function-registry.js';
import { bullPrefix, functionQueueName, messageQueueName } from './async-queues.js';
import { deliverCallback, type CallbackOutcome } from './callback.js';
import { Doorbell } from './doorbell.js';
import { QueuedBytes } from './queued-bytes.js';
import { TriggerIndex } from './trigger-index.js';
import { WorkerSlots, type SlotPolicy } from './worker-slots.js';
import {
  classifyError,
  classifyResponse,
  encodeResult,
  formatReason,
  toBatchRequest,
  messageOutcomes,
  queuedBytesOf,
  type JobData,
  type JobRun,
  type Outcome,
  type StoredResult,
} from './job.js';

export interface DispatcherOptions {
  connection: Redis;
  redisPrefix: string;
  registry: FunctionRegistry;
  invoker: Invoker;
  events: InvocationEvents;
  /** A running job's lock lasts this long and is renewed at half; a lapsed lock means its process died. */
  stallMs: number;
  /** Largest function response kept as a job's result. */
  maxResultBytes: number;
  /** How many queues have a live worker here at once, and for how long (FAAS_ASYNC_MAX_WORKERS, FAAS_ASYNC_WORKER_IDLE_MS). */
  slots: SlotPolicy;
  /** Due queues are looked for at least this often (ms), besides the doorbell's announcements; 1 000 by default. */
  pollMs?: number;
  /** Callbacks may go to loopback and link-local addresses (FAAS_CALLBACK_ALLOW_LOCAL). */
  callbackAllowLocal?: boolean;
  /** Throws QuotaExceededError when the function's tenant is past a quota: the attempt fails and is retried later. */
  admit?: (fn: string) => void;
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
const isNamedQueueJob = (job: Job<JobData>) => job.queueName.startsWith('q.');

/** The BullMQ queues a function's jobs arrive on: its own, and the named queues it consumes. */
export const queuesOf = (spec: FunctionSpec): string[] => [functionQueueName(spec.name), ...spec.queues.map(messageQueueName)];

export class AsyncDispatcher {
  /** Live workers, by BullMQ queue name. */
  private readonly consumers = new Map<string, Consumer>();
  private readonly closing = new Set<Promise<void>>();
  private readonly slots: WorkerSlots;
  private readonly index = new TriggerIndex();
  private readonly doorbell: Doorbell;
  /** Invocations of running jobs, so the console output of each run lands in the job's log. */
  private readonly finished = new Map<string, InvocationFinished>();
  private readonly detach: () => void;
  private unsubscribe: (() => void) | undefined;
  private closed = false;
  private sync: Promise<void> = Promise.resolve();
  private pollTimer: NodeJS.Timeout | undefined;
  private lastPollWarn = 0;
  /** The start rings every queue: the first sweep is a minute later. */
  private lastSweep = Date.now();
  private readonly retryListeners = new Set<(fn: string) => void>();
  private readonly queuedBytes: QueuedBytes;

  constructor(private readonly options: DispatcherOptions) {
    this.queuedBytes = new QueuedBytes({ redis: options.connection, prefix: options.redisPrefix });
    this.slots = new WorkerSlots(options.slots);
    this.doorbell = Doorbell.of(options.connection, options.redisPrefix, options.stallMs);
    this.detach = options.events.onInvocationFinished((event) => {
      if (event.trigger !== 'http') this.finished.set(event.invocationId, event);
    });
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
          return await this.process(fn, fetcher, job, token);
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

  /** Live workers and queues waiting for one (for tests and /metrics). */
  workerCounts(): { live: number; waiting: number } {
    return { live: this.slots.liveCount, waiting: this.slots.waitingCount };
  }

  private run(job: Job<JobData>): JobRun {
    return { id: job.id!, data: job.data, attempt: job.attemptsMade + 1, createdAt: job.timestamp + (job.delay ?? 0) };
  }

  /** More waiting messages for one batch, locked with the same token; fewer (or none) when fewer wait. */
  private async takeMore(fetcher: Pick<Worker<JobData>, 'getNextJob'>, token: string, count: number): Promise<Array<Job<JobData>>> {
    const more: Array<Job<JobData>> = [];
    while (more.length < count) {
      const job = await fetcher.getNextJob(token, { block: false });
      if (!job) break;
      more.push(job);
    }
    return more;
  }

  /** EVENT_TOO_OLD when the job waited past the function's maxEventAge. */
  private staleness(run: JobRun, spec: FunctionSpec): Outcome | undefined {
    const age = now() - (run.data.trigger === 'cron' ? run.createdAt : run.data.acceptedAt);
    if (age <= spec.maxEventAgeMs) return undefined;
    return {
      ok: false,
      retry: false,
      code: 'EVENT_TOO_OLD',
      message: `accepted ${Math.round(age / 1000)} s ago; maxEventAge is ${spec.maxEventAgeMs / 1000} s`,
    };
  }

  /**
   * The workers' processor: runs one job (with more messages of its queue, up to the batch size) through the
   * invoker; returns its result, or throws so BullMQ retries or dead-letters it. Public for the unit tests,
   * which hand it jobs of their own making.
   */
  async process(fn: string, fetcher: Pick<Worker<JobData>, 'getNextJob'> | undefined, job: Job<JobData>, token: string | undefined): Promise<StoredResult> {
    const spec = await this.options.registry.get(fn);
    if (!spec) {
      if (token && isNamedQueueJob(job)) return this.handBack([job], token);
      throw new UnrecoverableError(formatReason('FUNCTION_NOT_FOUND', `function "${fn}" is not deployed any more`));
    }
    const first = this.run(job);
    const stale = this.staleness(first, spec);
    if (stale) return this.finish(job, first, stale, undefined, true);
    const extra = fetcher && token && spec.batchSize > 1 ? await this.takeMore(fetcher, token, spec.batchSize - 1) : [];
    // Messages fetched by hand are not in the worker's lock renewal: renew theirs here.
    const renew = extra.length
      ? setInterval(() => {
          for (const j of extra) void j.extendLock(token!, this.options.stallMs).catch(() => {});
        }, this.options.stallMs / 2)
      : undefined;
    try {
      const batch: Array<{ job: Job<JobData>; run: JobRun }> = [{ job, run: first }];
      for (const j of extra) {
        const run = this.run(j);
        const tooOld = this.staleness(run, spec);
        if (tooOld) await this.settleExtra(j, token!, run, tooOld, undefined, true);
        else batch.push({ job: j, run });
      }
      for (const { run } of batch) if (run.attempt > 1) for (const listener of this.retryListeners) listener(fn);
      let response: InvocationResponse | undefined;
      let outcome: Outcome;
      try {
        this.options.admit?.(fn);
        response = await this.options.invoker.invoke(
          toBatchRequest(
            batch.map((b) => b.run),
            fn,
            now(),
          ),
        );
        outcome = classifyResponse(response.status);
      } catch (err) {
        outcome = classifyError(err);
      }
      // The consumer was deleted mid-run: its messages wait for the queue's next consumer (not dead letters).
      if (!outcome.ok && outcome.code === 'FUNCTION_NOT_FOUND' && token && isNamedQueueJob(job)) {
        return await this.handBack(
          batch.map((b) => b.job),
          token,
        );
      }
      const outcomes = messageOutcomes(
        batch.map((b) => b.run),
        outcome,
        response,
      );
      for (const [i, b] of batch.entries()) if (i > 0) await this.settleExtra(b.job, token!, b.run, outcomes[i]!, response, false);
      return await this.finish(job, first, outcomes[0]!, response, false);
    } finally {
      if (renew) clearInterval(renew);
    }
  }

  /**
   * Named-queue messages whose consumer is gone go back to wait for the queue's next consumer, the attempt
   * not counted (a second later, so a closing worker does not take them again at once). A queue outlives
   * its consumer: its messages are the sender's, not the deleted function's.
   */
  private async handBack(jobs: Array<Job<JobData>>, token: string): Promise<never> {
    for (const j of jobs) await j.moveToDelayed(now() + 1_000, token);
    throw new DelayedError();
  }

  /** Logs the run; returns the result, or throws so BullMQ retries or dead-letters the job. */
  private async finish(job: Job<JobData>, run: JobRun, outcome: Outcome, response: InvocationResponse | undefined, skipped: boolean): Promise<StoredResult> {
    const line = this.logLine(run, outcome, response, skipped);
    if (outcome.ok) {
      const result = encodeResult(response!, this.options.maxResultBytes);
      if (run.data.callbackUrl) await this.callback(run, { status: 'succeeded', result });
      // Its body leaves the tenant's queued bytes now (a dead letter's stays counted until purged).
      await this.queuedBytes
        .release(job.queueName, queuedBytesOf(run.data))
        .catch((err: Error) => this.options.log.warn({ err: err.message, invocationId: run.id }, 'queued bytes not released'));
      // The successful run's log line is kept with the result: one Redis write less per job.
      return { ...result, log: line };
    }
    await job.log(line).catch(() => {});
    const detail = response?.body.length ? `: ${response.body.subarray(0, 300).toString('utf8')}` : '';
    const reason = formatReason(outcome.code, outcome.message + detail);
    const last = !outcome.retry || run.attempt >= (job.opts.attempts ?? 1);
    if (last && run.data.callbackUrl) await this.callback(run, { status: 'dead', error: { code: outcome.code, message: outcome.message + detail } });
    throw outcome.retry ? new Error(reason) : new UnrecoverableError(reason);
  }

  /** Completes or fails one message of a batch that was fetched by hand. */
  private async settleExtra(
    job: Job<JobData>,
    token: string,
    run: JobRun,
    outcome: Outcome,
    response: InvocationResponse | undefined,
    skipped: boolean,
  ): Promise<void> {
    try {
      const result = await this.finish(job, run, outcome, response, skipped);
      await job.moveToCompleted(result, token, false);
    } catch (err) {
      await job.moveToFailed(err as Error, token, false);
    }
  }

  private logLine(run: JobRun, outcome: Outcome, response: InvocationResponse | undefined, skipped: boolean): string {
    const finished = this.finished.get(run.id);
    this.finished.delete(run.id);
    const head = outcome.ok
      ? `attempt ${run.attempt}: ${response!.status} in ${response!.meta.durationMs.toFixed(1)} ms${response!.meta.coldStart ? ' (cold start)' : ''}`
      : `attempt ${run.attempt}: ${skipped ? 'not run' : 'failed'}, ${outcome.code}: ${outcome.message}`;
    return finished?.logs ? `${head}\n${finished.logs}` : head;
  }

  private async callback(run: JobRun, outcome: CallbackOutcome): Promise<void> {
    await deliverCallback(run.data.callbackUrl!, run.id, outcome, {
      allowLocal: this.options.callbackAllowLocal ?? false,
      onGiveUp: (url, err) => this.options.log.warn({ url, err: err.message, invocationId: run.id }, 'callback not delivered'),
    });
  }

  /** For /metrics: called when a run is a retry of a failed one. */
  onRetry(listener: (fn: string) => void): () => void {
    this.retryListeners.add(listener);
    return () => this.retryListeners.delete(listener);
  }

  /** Stops taking jobs and waits for the running ones (before the invoker itself closes). */
  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.pollTimer);
    this.unsubscribe?.();
    await this.sync;
    await this.doorbell.close();
    await Promise.all([...this.consumers.values()].map((c) => this.closeConsumer(c)));
    this.consumers.clear();
    await Promise.all([...this.closing]);
    this.detach();
  }
}
