// The consumer side of async work, per job: in every invoker process, the live workers (live-workers.ts:
// BullMQ workers for the queues with work) hand each job here, which runs it (with more messages of its
// queue, up to the batch size) through the local invoker and settles it — result, retry or dead letter,
// callback, log line, queued bytes released.
import { DelayedError, UnrecoverableError, type Job, type Worker } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { FunctionSpec } from '../core/function-spec.js';
import type { InvocationEvents, InvocationFinished, InvocationResponse, Invoker } from '../core/invoker.js';
import type { FunctionRegistry } from '../registry/function-registry.js';
import { deliverCallback, type CallbackOutcome } from './callback.js';
import { QueuedBytes } from './queued-bytes.js';
import { LiveWorkers } from './live-workers.js';
import type { SlotPolicy } from './worker-slots.js';
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

const now = () => Date.now();
const isNamedQueueJob = (job: Job<JobData>) => job.queueName.startsWith('q.');

export class AsyncDispatcher {
  private readonly workers: LiveWorkers;
  /** Invocations of running jobs, so the console output of each run lands in the job's log. */
  private readonly finished = new Map<string, InvocationFinished>();
  private readonly detach: () => void;
  private readonly retryListeners = new Set<(fn: string) => void>();
  private readonly queuedBytes: QueuedBytes;

  constructor(private readonly options: DispatcherOptions) {
    this.queuedBytes = new QueuedBytes({ redis: options.connection, prefix: options.redisPrefix });
    this.workers = new LiveWorkers({
      connection: options.connection,
      redisPrefix: options.redisPrefix,
      registry: options.registry,
      stallMs: options.stallMs,
      slots: options.slots,
      ...(options.pollMs !== undefined ? { pollMs: options.pollMs } : {}),
      process: (fn, fetcher, job, token) => this.process(fn, fetcher, job, token),
      log: options.log,
    });
    this.detach = options.events.onInvocationFinished((event) => {
      if (event.trigger !== 'http') this.finished.set(event.invocationId, event);
    });
  }

  async start(): Promise<void> {
    await this.workers.start();
  }

  /** Live workers and queues waiting for one. */
  workerCounts(): { live: number; waiting: number } {
    return this.workers.counts();
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
        const request = toBatchRequest(
          batch.map((b) => b.run),
          fn,
          now(),
        );
        // Queues, topics and cron call the function's trigger alias (followed as it is now); async calls name their own.
        if (request.qualifier === undefined && request.trigger !== 'async' && spec.triggerAlias) request.qualifier = spec.triggerAlias;
        response = await this.options.invoker.invoke(request);
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
    await this.workers.close();
    this.detach();
  }
}
