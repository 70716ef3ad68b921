// The operator's side of async work: a job's status, result and logs; dead letters, redriven or purged;
// a named queue emptied; and the counts per queue that /metrics shows. Jobs are looked up only among the
// queues of the functions a filter admits, so a tenant never finds another tenant's job.
import { Job, type Queue, type QueueKeys } from 'bullmq';
import type { Redis } from 'ioredis';
import { InvocationNotFoundError, UnknownTriggerError } from '../core/errors.js';
import { splitTriggerId } from '../tenancy/names.js';
import { functionQueueName, isJobId, messageQueueName } from './job-ids.js';
import { parseReason, queuedBytesOf, statusOf, type AsyncStatus, type JobData, type StoredResult } from './job.js';
import type { QueuedBytes } from './queued-bytes.js';
import type { TriggerIndex } from './trigger-index.js';

/** Which functions (by id) a call may see: a tenant's own, one function, or all. */
export type FunctionFilter = ((fnId: string) => boolean) & {
  /** Set when the filter admits one tenant's functions only: they are looked up by tenant, not by walking all. */
  tenant?: string;
};
const ALL: FunctionFilter = () => true;

/** An async invocation, queue message or event delivery as the API shows it. */
export interface InvocationView {
  id: string;
  function: string;
  trigger: JobData['trigger'];
  queue?: string;
  topic?: string;
  status: AsyncStatus;
  /** Runs started so far (a run cut short by a killed invoker is run again and not counted as failed). */
  attempts: number;
  maxAttempts: number;
  acceptedAt: string;
  startedAt?: string;
  finishedAt?: string;
  /** When a failed job runs again. */
  nextAttemptAt?: string;
  result?: StoredResult;
  error?: { code: string; message: string };
  logs: string[];
}

export interface DeadLetter {
  id: string;
  function: string;
  trigger: JobData['trigger'];
  queue?: string;
  topic?: string;
  attempts: number;
  failedAt?: string;
  error?: { code: string; message: string };
}

export interface QueueCounts {
  /** 'fn.<name>' or 'q.<queue>'. */
  queue: string;
  function: string;
  waiting: number;
  active: number;
  delayed: number;
  dead: number;
  /** Age of the oldest job waiting to start, 0 when none. */
  oldestWaitingMs: number;
}

const iso = (ms: number | undefined): string | undefined => (ms ? new Date(ms).toISOString() : undefined);

export interface JobInspectionDeps {
  /** The jobs connection (BullMQ's, shared with the producer side). */
  connection: Redis;
  keys: QueueKeys;
  index: TriggerIndex;
  /** The BullMQ Queue object of a queue (kept by AsyncQueues). */
  queue(name: string): Queue<JobData>;
  /** Rings queues that got work again (a redrive). */
  announce(queues: string[]): void;
  queuedBytes?: QueuedBytes | undefined;
}

export class JobInspection {
  constructor(private readonly deps: JobInspectionDeps) {}

  /** Every queue that may hold jobs of the functions the filter admits: each one's own and each consumed named queue. */
  private knownQueues(filter: FunctionFilter = ALL): Array<{ name: string; fn: string }> {
    const out: Array<{ name: string; fn: string }> = [];
    const specs = filter.tenant === undefined ? this.deps.index.functions() : this.deps.index.functionsOf(filter.tenant);
    for (const spec of specs) {
      if (!filter(spec.name)) continue;
      out.push({ name: functionQueueName(spec.name), fn: spec.name });
      for (const queue of spec.queues) if (this.deps.index.consumerOf(queue) === spec) out.push({ name: messageQueueName(queue), fn: spec.name });
    }
    return out;
  }

  /** A job of a function the filter admits (a tenant never finds another tenant's job). */
  private async findJob(id: string, filter: FunctionFilter = ALL): Promise<{ job: Job<JobData>; queue: Queue<JobData> } | undefined> {
    // Not an id the platform hands out (e.g. BullMQ's own `meta` or `events` key): no such job.
    if (!isJobId(id)) return undefined;
    const candidates = this.knownQueues(filter);
    if (candidates.length === 0) return undefined;
    const pipeline = this.deps.connection.pipeline();
    for (const c of candidates) pipeline.exists(this.deps.keys.toKey(c.name, id));
    const found = (await pipeline.exec()) ?? [];
    const at = found.findIndex(([, exists]) => exists === 1);
    if (at === -1) return undefined;
    const queue = this.deps.queue(candidates[at]!.name);
    const job = await Job.fromId<JobData>(queue, id);
    return job ? { job, queue } : undefined;
  }

  async get(id: string, filter: FunctionFilter = ALL): Promise<InvocationView> {
    const found = await this.findJob(id, filter);
    if (!found) throw new InvocationNotFoundError(id);
    const { queue } = found;
    let { job } = found;
    const [state, logs] = await Promise.all([job.getState(), queue.getJobLogs(id, 0, 99)]);
    // It may have finished between reading the job and its state: read it again, as new as the state.
    if (state === 'completed' || state === 'failed') job = (await Job.fromId<JobData>(queue, id)) ?? job;
    const data = job.data;
    const status = statusOf(state, job.attemptsMade);
    const reason = status === 'failed' || status === 'dead' ? parseReason(job.failedReason) : undefined;
    const acceptedAt = data.trigger === 'cron' ? job.timestamp + (job.delay ?? 0) : data.acceptedAt;
    const { log, ...result } = status === 'succeeded' && job.returnvalue ? (job.returnvalue as StoredResult) : ({} as Partial<StoredResult>);
    return {
      id,
      function: data.fn,
      trigger: data.trigger,
      ...(data.trigger === 'queue' ? { queue: data.message.queue } : {}),
      ...(data.trigger === 'event' ? { topic: data.event.topic } : {}),
      status,
      attempts: job.attemptsStarted ?? job.attemptsMade,
      maxAttempts: job.opts.attempts ?? 1,
      acceptedAt: new Date(acceptedAt).toISOString(),
      ...(job.processedOn ? { startedAt: iso(job.processedOn) } : {}),
      ...(job.finishedOn ? { finishedAt: iso(job.finishedOn) } : {}),
      ...(state === 'delayed' && status === 'failed' ? { nextAttemptAt: iso(job.timestamp + (job.delay ?? 0)) } : {}),
      ...(status === 'succeeded' && job.returnvalue ? { result: result as StoredResult } : {}),
      ...(reason ? { error: reason } : {}),
      // Failed runs' lines are the job's log; the successful run's line travels in its result.
      logs: log ? [...logs.logs, log] : logs.logs,
    };
  }

  async deadLetters(filter: FunctionFilter = ALL, limit = 100): Promise<DeadLetter[]> {
    const out: DeadLetter[] = [];
    for (const { name, fn: owner } of this.knownQueues(filter)) {
      for (const job of await this.deps.queue(name).getFailed(0, limit - 1)) {
        if (!job) continue;
        const reason = parseReason(job.failedReason);
        out.push({
          id: job.id!,
          function: owner,
          trigger: job.data.trigger,
          ...(job.data.trigger === 'queue' ? { queue: job.data.message.queue } : {}),
          ...(job.data.trigger === 'event' ? { topic: job.data.event.topic } : {}),
          attempts: job.attemptsMade,
          ...(job.finishedOn ? { failedAt: iso(job.finishedOn) } : {}),
          ...(reason ? { error: reason } : {}),
        });
      }
    }
    return out.sort((a, b) => (b.failedAt ?? '').localeCompare(a.failedAt ?? '')).slice(0, limit);
  }

  /** Runs a dead job again with all its attempts and a fresh age. */
  private async redriveJob(job: Job<JobData>): Promise<void> {
    if (job.data.trigger !== 'cron') await job.updateData({ ...job.data, acceptedAt: Date.now() });
    await job.retry('failed', { resetAttemptsMade: true, resetAttemptsStarted: true });
    this.deps.announce([job.queueName]);
  }

  async redrive(id: string, filter: FunctionFilter = ALL): Promise<void> {
    const found = await this.findJob(id, filter);
    if (!found || (await found.job.getState()) !== 'failed') throw new InvocationNotFoundError(id);
    await this.redriveJob(found.job);
  }

  async redriveAll(filter: FunctionFilter = ALL): Promise<number> {
    let count = 0;
    for (const { name } of this.knownQueues(filter)) {
      for (const job of await this.deps.queue(name).getFailed(0, 9_999)) {
        if (!job) continue;
        await this.redriveJob(job);
        count += 1;
      }
    }
    return count;
  }

  async purge(id: string, filter: FunctionFilter = ALL): Promise<void> {
    const found = await this.findJob(id, filter);
    if (!found || (await found.job.getState()) !== 'failed') throw new InvocationNotFoundError(id);
    await this.removeCounted(found.queue, found.job);
  }

  /** Removes a job and gives its bytes back to its tenant's queued-bytes count. */
  private async removeCounted(queue: Queue<JobData>, job: Job<JobData>): Promise<void> {
    await job.remove();
    await this.deps.queuedBytes?.release(queue.name, queuedBytesOf(job.data));
  }

  async purgeAll(filter: FunctionFilter = ALL): Promise<number> {
    let count = 0;
    for (const { name } of this.knownQueues(filter)) {
      const queue = this.deps.queue(name);
      for (;;) {
        const dead = (await queue.getFailed(0, 999)).filter(Boolean) as Array<Job<JobData>>;
        if (dead.length === 0) break;
        for (const job of dead) await this.removeCounted(queue, job);
        count += dead.length;
      }
    }
    return count;
  }

  /**
   * DELETE /api/v1/queues/<q>/messages: every message of a named queue that is not running now (waiting,
   * delayed for a retry, dead) is removed, whether or not a function consumes the queue any more. A queue
   * never used is UNKNOWN_QUEUE. Messages being run finish (and are acknowledged) as usual.
   */
  async purgeQueue(queueId: string): Promise<number> {
    const name = messageQueueName(queueId);
    const queue = this.deps.queue(name);
    if (!this.deps.index.consumerOf(queueId) && (await this.deps.connection.exists(this.deps.keys.toKey(name, 'meta'))) === 0) {
      const shown = splitTriggerId(queueId).name;
      throw new UnknownTriggerError('UNKNOWN_QUEUE', `queue "${shown}" holds no messages and no function consumes it`);
    }
    let count = 0;
    for (;;) {
      const jobs = (await queue.getJobs(['wait', 'prioritized', 'delayed', 'failed'], 0, 999)).filter(Boolean) as Array<Job<JobData>>;
      let removed = 0;
      for (const job of jobs) {
        // Taken by a worker meanwhile (a locked job cannot be removed): it runs, and releases its bytes when it succeeds.
        if (
          await this.removeCounted(queue, job).then(
            () => true,
            () => false,
          )
        )
          removed += 1;
      }
      count += removed;
      if (removed === 0) break;
    }
    return count;
  }

  /**
   * Per queue: jobs waiting, running, waiting to retry, dead, and the oldest waiting one's age. Read from
   * BullMQ's lists in two pipelines (no Queue objects): a scrape of /metrics with 10,000 functions costs
   * ~60,000 small commands, not 20,000 scripts.
   */
  async counts(): Promise<QueueCounts[]> {
    const now = Date.now();
    const out: QueueCounts[] = [];
    const all = this.knownQueues();
    // In slices: one pipeline of 60,000 commands would hold up the jobs being added on this connection.
    for (let i = 0; i < all.length; i += 1_000) out.push(...(await this.countSlice(all.slice(i, i + 1_000), now)));
    return out;
  }

  private async countSlice(known: Array<{ name: string; fn: string }>, now: number): Promise<QueueCounts[]> {
    const key = (queue: string, what: string) => this.deps.keys.toKey(queue, what);
    const sizes = this.deps.connection.pipeline();
    for (const { name } of known) {
      sizes
        .llen(key(name, 'wait'))
        .zcard(key(name, 'prioritized'))
        .llen(key(name, 'active'))
        .zcard(key(name, 'delayed'))
        .zcard(key(name, 'failed'))
        // The oldest waiting job: BullMQ pushes new ones on the left.
        .lindex(key(name, 'wait'), -1);
    }
    const replies = ((await sizes.exec()) ?? []).map(([err, value]) => (err ? undefined : value));
    const stamps = this.deps.connection.pipeline();
    for (const [i, { name }] of known.entries()) {
      const oldest = replies[i * 6 + 5];
      stamps.hget(this.deps.keys.toKey(name, typeof oldest === 'string' ? oldest : ''), 'timestamp');
    }
    const timestamps = known.length ? ((await stamps.exec()) ?? []).map(([, value]) => value) : [];
    return known.map(({ name, fn }, i) => {
      const n = (k: number) => Number(replies[i * 6 + k] ?? 0);
      const stamp = Number(timestamps[i] ?? 0);
      return {
        queue: name,
        function: fn,
        waiting: n(0) + n(1),
        active: n(2),
        delayed: n(3),
        dead: n(4),
        oldestWaitingMs: stamp > 0 ? Math.max(0, now - stamp) : 0,
      };
    });
  }
}
