// The producer side of async work on BullMQ: accepts async calls, queue messages and events as jobs, and
// keeps cron schedulers in step with the functions; `jobs` answers for them (status, dead letters, counts:
// job-inspection.ts), job-ids.ts names them.
// Every function has one BullMQ queue (`fn.<name>`: async calls, events, cron ticks); every named queue
// has its own (`q.<queue>`), consumed by one function.
import { randomUUID } from 'node:crypto';
import { FlowProducer, Queue, QueueKeys, type JobsOptions } from 'bullmq';
import type { Redis } from 'ioredis';
import { BacklogFullError, IdempotencyKeyReusedError, PayloadTooLargeError, QuotaExceededError, UnknownTriggerError } from '../core/errors.js';
import type { FunctionSpec } from '../core/function-spec.js';
import type { FunctionRegistry } from '../registry/function-registry.js';
import { queuedBytesOf, type CloudEventAttributes, type JobData } from './job.js';
import { tenantOfQueue, type QueuedBytes } from './queued-bytes.js';
import { TriggerIndex } from './trigger-index.js';
import { bullPrefix, deterministicId, functionQueueName, idempotentJobId, messageQueueName, type Idempotency } from './job-ids.js';
import { JobInspection } from './job-inspection.js';
import type { Doorbell } from './doorbell.js';
import { BacklogEstimate } from './backlog.js';
import { splitTriggerId } from '../tenancy/names.js';

export interface AsyncQueuesOptions {
  /** A connection for BullMQ (maxRetriesPerRequest null). */
  connection: Redis;
  redisPrefix: string;
  registry: FunctionRegistry;
  /** First retry delay; each next one doubles, with up to 50% jitter. */
  retryDelayMs: number;
  /** How long succeeded jobs (and their results) are kept. */
  keepResultsMs: number;
  /** Largest body an async call, queue message or event may carry (it is stored in Redis until run); none when absent. */
  maxMessageBytes?: number;
  /** Bytes each tenant keeps waiting, with its limit; unbounded when absent. */
  queuedBytes?: QueuedBytes;
  /**
   * Waits until the jobs just added are on Redis's replicas (WAIT on `connection`), before they are answered
   * as accepted: a master lost right after loses none. Absent: no replica to wait for.
   */
  replicated?: () => Promise<void>;
  /** Rung after every job added, so a process starts a worker for the queue (doorbell.ts). */
  doorbell: Doorbell;
}

/** BullMQ Queue objects kept (see AsyncQueues.queue). */
const QUEUE_OBJECTS = 1_000;

export class AsyncQueues {
  private readonly queues = new Map<string, Queue<JobData>>();
  private readonly backlogs = new Map<string, BacklogEstimate>();
  private readonly flows: FlowProducer;
  readonly index = new TriggerIndex();
  private readonly prefix: string;
  private readonly keys: QueueKeys;
  private unsubscribe: (() => void) | undefined;
  /** Status, dead letters, redrive and purge, counts (job-inspection.ts). */
  readonly jobs: JobInspection;

  constructor(private readonly options: AsyncQueuesOptions) {
    this.prefix = bullPrefix(options.redisPrefix);
    this.keys = new QueueKeys(this.prefix);
    this.jobs = new JobInspection({
      connection: options.connection,
      keys: this.keys,
      index: this.index,
      queue: (name) => this.queue(name),
      announce: (queues) => this.announce(queues),
      queuedBytes: options.queuedBytes,
    });
    this.flows = new FlowProducer({ connection: options.connection, prefix: this.prefix });
    this.flows.on('error', () => {});
  }

  /**
   * Loads the functions, follows their changes, and brings every function's schedules up to date — unless
   * `sendOnly` (a process that only sends messages, e.g. for queue producer bindings: the gateway keeps the
   * schedules, and another process syncing them from a stale list could undo a deploy).
   */
  async start(options: { sendOnly?: boolean } = {}): Promise<void> {
    this.unsubscribe = this.options.registry.onChange((change) => {
      this.index.apply(change.kind === 'deployed' ? change.spec.name : change.name, change.kind === 'deployed' ? change.spec : undefined);
    });
    const specs = await this.options.registry.list();
    this.index.reset(specs);
    if (options.sendOnly) return;
    for (const spec of specs) await this.syncFunction(spec);
  }

  /**
   * The BullMQ Queue object of a queue, kept for the QUEUE_OBJECTS most recently used queues only: each costs
   * ~7 KB and three listeners on the shared connection, and 10,000 functions would keep 10,000 of them. The
   * least recently used one is closed when a new one is made (its Redis data is not touched; on a shared
   * connection a closed Queue still completes what it was doing).
   */
  queue(name: string): Queue<JobData> {
    const kept = this.queues.get(name);
    if (kept) {
      // Most recently used last.
      this.queues.delete(name);
      this.queues.set(name, kept);
      return kept;
    }
    const queue = new Queue<JobData>(name, { connection: this.options.connection, prefix: this.prefix });
    // Its connection is the shared one, whose outages the platform logs; callers get the failed command's error.
    queue.on('error', () => {});
    this.queues.set(name, queue);
    for (const [oldest, old] of this.queues) {
      if (this.queues.size <= QUEUE_OBJECTS) break;
      this.queues.delete(oldest);
      void old.close().catch(() => {});
    }
    return queue;
  }

  jobOptions(spec: FunctionSpec, jobId: string): JobsOptions {
    return {
      jobId,
      attempts: spec.maxAttempts,
      backoff: { type: 'exponential', delay: this.options.retryDelayMs, jitter: 0.5 },
      removeOnComplete: { age: Math.ceil(this.options.keepResultsMs / 1000) },
      // Failed jobs are the dead-letter list: kept until redriven or purged.
      removeOnFail: false,
    };
  }

  /**
   * After a deploy (and at start): the queue's concurrency bound and the cron schedulers as the spec says.
   * The bound is written as BullMQ's Queue.setGlobalConcurrency writes it (its queue's meta hash), on the
   * shared connection: a deploy makes no Queue object unless the function has, or had, schedules — with
   * 10,000 functions the deploys' Queue objects filled the QUEUE_OBJECTS kept (~7 KB each plus their keys).
   */
  async syncFunction(spec: FunctionSpec): Promise<void> {
    this.index.apply(spec.name, spec);
    const name = functionQueueName(spec.name);
    const limit = spec.concurrency * spec.maxScale;
    const redis = this.options.connection;
    await redis.hset(this.keys.toKey(name, 'meta'), 'concurrency', limit);
    // A batch holds batchSize messages active in one invocation: room for them under the bound.
    for (const queueId of spec.queues) await redis.hset(this.keys.toKey(messageQueueName(queueId), 'meta'), 'concurrency', limit * spec.batchSize);
    if (spec.schedules.length > 0 || (await redis.zcard(this.keys.toKey(name, 'repeat'))) > 0) await this.syncSchedules(spec);
    // A cron tick now due later, and messages that waited for this consumer, are announced.
    this.announce([name, ...spec.queues.map(messageQueueName)]);
  }

  private async syncSchedules(spec: FunctionSpec): Promise<void> {
    const queue = this.queue(functionQueueName(spec.name));
    const wanted = new Map(spec.schedules.map((s) => [`cron-${deterministicId(s.cron, s.timezone ?? 'UTC').slice(0, 13)}`, s]));
    for (const existing of await queue.getJobSchedulers()) {
      if (!wanted.has(existing.key)) await queue.removeJobScheduler(existing.key);
    }
    for (const [id, schedule] of wanted) {
      await queue.upsertJobScheduler(
        id,
        { pattern: schedule.cron, tz: schedule.timezone ?? 'UTC' },
        {
          name: 'cron',
          data: { trigger: 'cron', fn: spec.name, acceptedAt: 0, schedule },
          opts: (({ jobId: _unused, ...rest }) => rest)(this.jobOptions(spec, 'scheduler')),
        },
      );
    }
  }

  /** After a delete: its schedules and its own queue (pending async calls, events, dead letters) go too. */
  async removeFunction(name: string): Promise<void> {
    this.index.apply(name, undefined);
    const queue = this.queue(functionQueueName(name));
    for (const existing of await queue.getJobSchedulers()) await queue.removeJobScheduler(existing.key);
    await queue.obliterate({ force: true });
    await this.options.queuedBytes?.forget(queue.name);
    await queue.close();
    this.queues.delete(functionQueueName(name));
    this.backlogs.delete(functionQueueName(name));
  }

  /**
   * Rings the queues that just got work (doorbell.ts), without waiting for it: the jobs are in Redis
   * already, and a ring lost with this process (or failed) is made good by the dispatchers' sweep, which
   * rings every queue each minute. Awaited, the ring cost an accepted call a second Redis reply — with AOF
   * fsync on every write batch, about 20 % of async throughput in the bench.
   */
  private announce(queues: string[]): void {
    void this.options.doorbell.ringAll(queues, { sooner: true }).catch(() => undefined);
  }

  /** 413 past maxMessageBytes: what waits in Redis is bounded per message (and by maxBacklog per function). */
  private checkSize(what: string, bytes: number): void {
    const limit = this.options.maxMessageBytes;
    if (limit !== undefined && bytes > limit)
      throw new PayloadTooLargeError(
        `${what} carries ${bytes} bytes; at most ${limit} are stored for later (FAAS_MAX_ASYNC_BODY_BYTES): send large inputs by reference`,
      );
  }

  /**
   * 429 QUOTA_EXCEEDED when the bytes would take the tenant past its queued-bytes limit; otherwise they are
   * counted. A job id that already exists (an idempotent repeat) adds nothing: BullMQ keeps the first job.
   */
  private async reserveBytes(entries: Array<{ queue: string; bytes: number; jobId: string }>, idsAreNew = false): Promise<() => Promise<void>> {
    const counter = this.options.queuedBytes;
    if (!counter || entries.length === 0) return async () => {};
    // A random job id cannot be there already: the round trip that looks is only for ids that can repeat.
    let fresh = entries;
    if (!idsAreNew) {
      const pipeline = this.options.connection.pipeline();
      for (const e of entries) pipeline.exists(this.keys.toKey(e.queue, e.jobId));
      const exists = ((await pipeline.exec()) ?? []).map(([, n]) => n === 1);
      fresh = entries.filter((_, i) => !exists[i]);
    }
    const tenant = tenantOfQueue(entries[0]!.queue);
    const reservation = await counter.reserve(tenant, fresh);
    if (!reservation.admitted) {
      const mib = (n: number) => `${(n / 1024 / 1024).toFixed(1)} MiB`;
      const wanted = fresh.reduce((sum, e) => sum + e.bytes, 0);
      throw new QuotaExceededError(
        `tenant "${tenant}" keeps ${mib(reservation.usedBytes)} waiting in queues (async calls, queue messages, events, dead letters); ` +
          `${wanted} bytes more would pass its limit of ${reservation.limitBytes} bytes (FAAS_MAX_QUEUED_BYTES, or faas tenant set ${tenant} --max-queued-bytes N): ` +
          'retry when they have run, or purge them (faas queue purge, faas dlq purge)',
      );
    }
    return async () => {
      for (const e of fresh) await counter.release(e.queue, e.bytes).catch(() => {});
    };
  }

  /**
   * Adds a job whose bytes were reserved; gives them back when the add fails, or when an idempotent add found
   * its job already there (two identical requests at once both reserve: the one whose token is not stored
   * gives its bytes back, so the count cannot creep up).
   */
  private async addCounted(queue: Queue<JobData>, name: string, data: JobData, opts: JobsOptions, idempotent: boolean): Promise<void> {
    // Without idempotency the job id is a fresh random one (submit, publishQueue).
    const undo = await this.reserveBytes([{ queue: queue.name, bytes: queuedBytesOf(data), jobId: opts.jobId! }], !idempotent);
    const token = idempotent && this.options.queuedBytes ? randomUUID() : undefined;
    try {
      await queue.add(name, token ? { ...data, acceptToken: token } : data, opts);
    } catch (err) {
      await undo();
      throw err;
    }
    this.announce([queue.name]);
    if (token) {
      const raw = await this.options.connection.hget(this.keys.toKey(queue.name, opts.jobId!), 'data');
      let stored: string | undefined;
      try {
        stored = raw === null ? undefined : (JSON.parse(raw) as Partial<JobData>).acceptToken;
      } catch {
        stored = undefined;
      }
      if (raw !== null && stored !== token) await undo();
    }
  }

  /** 429 past maxBacklog: exact near the limit, an estimate (no Redis read) far below it. */
  private async ensureRoom(queue: Queue<JobData>, spec: FunctionSpec): Promise<void> {
    let backlog = this.backlogs.get(queue.name);
    if (!backlog) {
      backlog = new BacklogEstimate();
      this.backlogs.set(queue.name, backlog);
    }
    if (backlog.needsRead(Date.now(), spec.maxBacklog)) backlog.update(await queue.count(), Date.now());
    if (backlog.estimate() >= spec.maxBacklog) {
      throw new BacklogFullError(`"${spec.name}" has ${backlog.estimate()} jobs waiting (maxBacklog ${spec.maxBacklog}); retry later`);
    }
    backlog.admitted();
  }

  /**
   * An async call of a function. With an idempotency key, the same key (in the same scope) with the same
   * request gives the same invocation; with another request, IdempotencyKeyReusedError.
   */
  async submit(spec: FunctionSpec, data: JobData, idempotency?: Idempotency): Promise<string> {
    if (data.trigger === 'async') this.checkSize('an async call', Buffer.byteLength(data.request.body, 'base64'));
    const queue = this.queue(functionQueueName(spec.name));
    const id = idempotency ? idempotentJobId('async', spec.name, idempotency) : randomUUID();
    await this.ensureRoom(queue, spec);
    await this.addCounted(
      queue,
      'async',
      idempotency ? { ...data, idempotencyFingerprint: idempotency.fingerprint } : data,
      this.jobOptions(spec, id),
      idempotency !== undefined,
    );
    if (idempotency) await this.checkSameRequest(queue, id, idempotency.fingerprint);
    await this.options.replicated?.();
    return id;
  }

  /**
   * After adding a job with an idempotent id: BullMQ keeps the first job with that id and ignores the
   * add when one exists, so the stored job says which request the key was first used with. Reading it
   * after the add (rather than before) leaves no window for two different requests to both pass.
   */
  private async checkSameRequest(queue: Queue<JobData>, id: string, fingerprint: string): Promise<void> {
    const raw = await this.options.connection.hget(this.keys.toKey(queue.name, id), 'data');
    // Removed meanwhile (results are kept for a while only): nothing to compare with.
    if (raw === null) return;
    let stored: Partial<JobData> | undefined;
    try {
      stored = JSON.parse(raw) as Partial<JobData>;
    } catch {
      stored = undefined;
    }
    if (stored?.idempotencyFingerprint !== fingerprint) throw new IdempotencyKeyReusedError();
  }

  /** A message to a named queue, for its consumer. */
  async send(
    queueName: string,
    message: { body: Buffer; contentType?: string; attributes?: Record<string, string> },
    idempotency?: Idempotency,
  ): Promise<{ id: string; consumer: string }> {
    const spec = this.index.consumerOf(queueName);
    if (!spec) {
      const shown = splitTriggerId(queueName).name;
      throw new UnknownTriggerError('UNKNOWN_QUEUE', `no function consumes queue "${shown}"; deploy one with --queue ${shown}`);
    }
    this.checkSize('a queue message', message.body.length);
    const queue = this.queue(messageQueueName(queueName));
    const id = idempotency ? idempotentJobId('queue', queueName, idempotency) : randomUUID();
    await this.ensureRoom(queue, spec);
    const data: JobData = {
      trigger: 'queue',
      fn: spec.name,
      acceptedAt: Date.now(),
      message: {
        queue: queueName,
        body: message.body.toString('base64'),
        ...(message.contentType ? { contentType: message.contentType } : {}),
        ...(message.attributes ? { attributes: message.attributes } : {}),
      },
      ...(idempotency ? { idempotencyFingerprint: idempotency.fingerprint } : {}),
    };
    await this.addCounted(queue, 'message', data, this.jobOptions(spec, id), idempotency !== undefined);
    if (idempotency) await this.checkSameRequest(queue, id, idempotency.fingerprint);
    await this.options.replicated?.();
    return { id, consumer: spec.name };
  }

  /**
   * An event to every subscriber of its topic, atomically (all deliveries or none). A delivery's id comes
   * from the event's source and id, so publishing the same event again delivers nothing new.
   */
  async publish(topic: string, attributes: CloudEventAttributes, data: Buffer): Promise<Array<{ id: string; function: string }>> {
    const subscribers = this.index.subscribersOf(topic);
    if (subscribers.length === 0) {
      const shown = splitTriggerId(topic).name;
      throw new UnknownTriggerError('UNKNOWN_TOPIC', `no function is subscribed to topic "${shown}"; deploy one with --on ${shown}`);
    }
    this.checkSize('an event', data.length);
    for (const spec of subscribers) await this.ensureRoom(this.queue(functionQueueName(spec.name)), spec);
    const acceptedAt = Date.now();
    const deliveries = subscribers.map((spec) => ({ id: deterministicId('event', spec.name, attributes.source, attributes.id), function: spec.name }));
    const undo = await this.reserveBytes(deliveries.map((d) => ({ queue: functionQueueName(d.function), bytes: data.length, jobId: d.id })));
    await this.flows
      .addBulk(
        subscribers.map((spec, i) => ({
          name: 'event',
          queueName: functionQueueName(spec.name),
          data: { trigger: 'event', fn: spec.name, acceptedAt, event: { topic, attributes, data: data.toString('base64') } } satisfies JobData,
          opts: this.jobOptions(spec, deliveries[i]!.id),
        })),
      )
      .catch(async (err: unknown) => {
        await undo();
        throw err;
      });
    this.announce(subscribers.map((spec) => functionQueueName(spec.name)));
    await this.options.replicated?.();
    return deliveries;
  }

  /** Bytes the tenant keeps waiting and its limit; undefined when nothing counts them. */
  async queuedBytesOf(tenant: string): Promise<{ bytes: number; limitBytes?: number } | undefined> {
    return this.options.queuedBytes?.status(tenant);
  }

  async close(): Promise<void> {
    this.unsubscribe?.();
    await this.flows.close();
    await Promise.all([...this.queues.values()].map((queue) => queue.close()));
    this.queues.clear();
  }
}
