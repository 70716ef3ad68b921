// The async doorbell: which BullMQ queues have work, so a process runs workers (each one holds a Redis
// connection of its own) only for those, not for every deployed function. One sorted set in Redis,
// `<prefix>async:doorbell`, holds each queue with work and the time its next job is due (now for waiting
// jobs, a delayed job's time for a retry or the next cron tick, a later check while jobs run elsewhere).
// Whoever changes a queue — a producer adding a job, a worker going idle, a deploy — rings it: one Lua
// script reads the queue's BullMQ lists and sets (or removes) its entry atomically, so a job added while a
// worker closes is never missed. When an entry becomes due now, the script publishes the queue's name on
// a channel, so idle processes start a worker at once; otherwise they find due entries by polling.
//
// BullMQ's key layout read here (6.x): `<bullPrefix>:<queue>:{wait,paused,prioritized,delayed,active}`;
// a delayed job's score is its due time × 0x1000 plus a counter.
import { createHash } from 'node:crypto';
import type { Redis } from 'ioredis';

// KEYS: 1 wait, 2 paused, 3 prioritized, 4 delayed, 5 active, 6 meta, 7 the doorbell. ARGV: 1 queue, 2 now
// (ms), 3 how soon to look again at a queue whose jobs all run (or that is at its global concurrency), 4 the
// channel, 5 the mode:
//   exact — the entry says what the queue holds now (a worker closing, a deploy, the sweep);
//   sooner — a producer that just added work: the entry only ever moves earlier, and an entry already due
//            by then is left alone — no write, so no AOF fsync, on the hot path of a busy queue;
//   hold:<ms> — a process that knows no consumer: work due now is due <ms> later, announced to nobody
//            (an entry is removed only when its queue holds nothing, by an exact ring or a hold).
// Returns the due time, or -1 when the queue holds nothing (its entry removed).
const RING = `
local now = tonumber(ARGV[2])
local again = now + tonumber(ARGV[3])
local mode = ARGV[5]
local due
local active = redis.call('LLEN', KEYS[5])
if redis.call('LLEN', KEYS[1]) + redis.call('LLEN', KEYS[2]) + redis.call('ZCARD', KEYS[3]) > 0 then
  -- Waiting jobs are due now, unless the queue runs as many as its global concurrency allows: the workers
  -- running them take the next ones as they finish, and a look later covers their process dying.
  local limit = tonumber(redis.call('HGET', KEYS[6], 'concurrency') or '')
  if limit and active >= limit then due = again else due = now end
else
  local first = redis.call('ZRANGE', KEYS[4], 0, 0, 'WITHSCORES')
  if first[2] then due = math.floor(tonumber(first[2]) / 4096) end
  if active > 0 and (not due or again < due) then due = again end
end
local before = redis.call('ZSCORE', KEYS[7], ARGV[1])
if before then before = tonumber(before) end
if not due then
  -- Nothing to run: the entry can go (a producer's ring leaves that to the exact ones: it writes nothing).
  if mode == 'sooner' and before then return before end
  redis.call('ZREM', KEYS[7], ARGV[1])
  return -1
end
if mode == 'sooner' and before and before <= due then return before end
local hold = string.match(mode, '^hold:(%d+)$')
if hold then
  if due <= now then due = now + tonumber(hold) end
  redis.call('ZADD', KEYS[7], due, ARGV[1])
  return due
end
redis.call('ZADD', KEYS[7], due, ARGV[1])
if due <= now and (not before or before > now) then redis.call('PUBLISH', ARGV[4], ARGV[1]) end
return due
`;
const RING_SHA = createHash('sha1').update(RING).digest('hex');

export interface DoorbellOptions {
  /** Commands (the platform's BullMQ connection). */
  redis: Redis;
  /** The platform's Redis prefix (FAAS_REDIS_PREFIX). */
  redisPrefix: string;
  /** BullMQ's key prefix (`<redisPrefix>bull`, as async-queues.ts's bullPrefix). */
  bullPrefix: string;
  /**
   * A queue whose only jobs are running (in some process) is looked at again after this long, so a worker
   * runs BullMQ's stalled-job check for it if their process died: half the stall time.
   */
  runningRecheckMs: number;
}

export class Doorbell {
  /** The doorbell of a platform whose async jobs stall after stallMs (FAAS_ASYNC_STALL_MS). */
  static of(redis: Redis, redisPrefix: string, stallMs: number): Doorbell {
    return new Doorbell({ redis, redisPrefix, bullPrefix: `${redisPrefix}bull`, runningRecheckMs: Math.max(250, Math.floor(stallMs / 2)) });
  }

  private readonly key: string;
  private readonly channel: string;
  private subscriber: Redis | undefined;

  constructor(private readonly options: DoorbellOptions) {
    this.key = `${options.redisPrefix}async:doorbell`;
    this.channel = `${options.redisPrefix}async:doorbell`;
  }

  /** Sets the queue's entry from what it holds; its due time (ms), or undefined when it holds nothing. */
  ring(queue: string, now = Date.now()): Promise<number | undefined> {
    return this.run(queue, now, 'exact');
  }

  /**
   * After adding work: the entry is made due no later than that work (it never moves later here, and one
   * already due is not written again). Its due time, or undefined when the queue holds nothing after all.
   */
  ringSooner(queue: string, now = Date.now()): Promise<number | undefined> {
    return this.run(queue, now, 'sooner');
  }

  /**
   * For a queue this process knows no consumer for: its entry goes if the queue holds nothing (say,
   * obliterated with its function); if its work is due now, it is looked at again `holdMs` later, announced to nobody — another process may know a consumer this one has not heard of yet, and a
   * deploy that consumes the queue rings it at once.
   */
  hold(queue: string, holdMs: number, now = Date.now()): Promise<number | undefined> {
    return this.run(queue, now, `hold:${Math.round(holdMs)}`);
  }

  private async run(queue: string, now: number, mode: string): Promise<number | undefined> {
    const base = `${this.options.bullPrefix}:${queue}:`;
    const keys = ['wait', 'paused', 'prioritized', 'delayed', 'active', 'meta'].map((k) => base + k);
    const args = [...keys, this.key, queue, String(now), String(this.options.runningRecheckMs), this.channel, mode];
    let due: number;
    try {
      due = (await this.options.redis.evalsha(RING_SHA, 7, ...args)) as number;
    } catch (err) {
      if (!(err as Error).message.startsWith('NOSCRIPT')) throw err;
      due = (await this.options.redis.eval(RING, 7, ...args)) as number;
    }
    return due < 0 ? undefined : due;
  }

  /** Rings several queues (pipelined by the connection); the ones due now. `sooner`: as ringSooner. */
  async ringAll(queues: Iterable<string>, options: { sooner?: boolean } = {}, now = Date.now()): Promise<string[]> {
    const list = [...queues];
    const dueNow: string[] = [];
    // In slices, so a start with thousands of functions does not queue thousands of scripts at once.
    for (let i = 0; i < list.length; i += 500) {
      const slice = list.slice(i, i + 500);
      const dues = await Promise.all(slice.map((q) => (options.sooner ? this.ringSooner(q, now) : this.ring(q, now))));
      for (const [j, due] of dues.entries()) if (due !== undefined && due <= now) dueNow.push(slice[j]!);
    }
    return dueNow;
  }

  /** Queues due by `now` (oldest first, at most `limit`), and when the next one after that is due. */
  async due(now: number, limit: number): Promise<{ queues: string[]; next: number | undefined }> {
    const [queues, after] = await Promise.all([
      this.options.redis.zrangebyscore(this.key, '-inf', now, 'LIMIT', 0, limit),
      this.options.redis.zrangebyscore(this.key, `(${now}`, '+inf', 'WITHSCORES', 'LIMIT', 0, 1),
    ]);
    return { queues, next: after[1] === undefined ? undefined : Number(after[1]) };
  }

  /** Calls `listener` with each queue that becomes due now; one connection of its own. */
  async listen(listener: (queue: string) => void): Promise<void> {
    const subscriber = this.options.redis.duplicate();
    this.subscriber = subscriber;
    subscriber.on('error', () => {}); // the poll finds what a lost message announced
    subscriber.on('message', (_channel: string, queue: string) => listener(queue));
    await subscriber.subscribe(this.channel);
  }

  async close(): Promise<void> {
    const subscriber = this.subscriber;
    this.subscriber = undefined;
    if (!subscriber) return;
    subscriber.options.maxRetriesPerRequest = 0;
    subscriber.disconnect();
  }
}
