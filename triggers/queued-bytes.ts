// Bytes each tenant keeps waiting in Redis: bodies of async calls, queue messages and events from the
// moment they are accepted until their job succeeds, and dead letters until purged. One hash per tenant
// (`<prefix>queued-bytes:<tenant>`), a field per BullMQ queue; a Lua script checks the tenant's limit and
// adds atomically, so gateways sharing Redis cannot overshoot it together. The limit is the tenant's
// maxQueuedBytes quota (read by the script from the tenants hash), else the platform's default.
//
// A job's bytes are released when it succeeds (before BullMQ marks it completed: a crash in between runs
// it again and releases twice, so the count can only err low, never lock a tenant out), when its dead
// letter is purged, and when its queue is purged or its function deleted.
import type { Redis } from 'ioredis';
import { splitFunctionId } from '../core/function-spec.js';
import { splitTriggerId } from '../tenancy/names.js';

/** The tenant whose bytes a BullMQ queue holds: `fn.<function id>` or `q.<queue id>`. */
export function tenantOfQueue(queue: string): string {
  if (queue.startsWith('fn.')) return splitFunctionId(queue.slice(3)).tenant;
  if (queue.startsWith('q.')) return splitTriggerId(queue.slice(2)).tenant;
  throw new Error(`not a platform queue: ${queue}`);
}

// KEYS[1] the tenant's hash, KEYS[2] the tenants hash. ARGV[1] tenant, ARGV[2] default limit (-1: none),
// then pairs of queue and bytes. Returns {admitted 0|1, bytes used after (or before, when refused), limit}.
const RESERVE = `
local limit = tonumber(ARGV[2])
local raw = redis.call('HGET', KEYS[2], ARGV[1])
if raw then
  local ok, tenant = pcall(cjson.decode, raw)
  if ok and type(tenant) == 'table' and type(tenant.quotas) == 'table' and type(tenant.quotas.maxQueuedBytes) == 'number' then
    limit = tenant.quotas.maxQueuedBytes
  end
end
local wanted = 0
for i = 3, #ARGV, 2 do wanted = wanted + tonumber(ARGV[i + 1]) end
local used = 0
for _, v in ipairs(redis.call('HVALS', KEYS[1])) do used = used + tonumber(v) end
if limit >= 0 and used + wanted > limit then return {0, used, limit} end
for i = 3, #ARGV, 2 do redis.call('HINCRBY', KEYS[1], ARGV[i], ARGV[i + 1]) end
return {1, used + wanted, limit}
`;

// KEYS[1] the tenant's hash. ARGV[1] queue, ARGV[2] bytes. Never below 0 (a release may come twice).
const RELEASE = `
local left = redis.call('HINCRBY', KEYS[1], ARGV[1], -tonumber(ARGV[2]))
if left <= 0 then redis.call('HDEL', KEYS[1], ARGV[1]) end
return left
`;

export type Reservation = { admitted: true } | { admitted: false; usedBytes: number; limitBytes: number };

/** The scripts as commands of the connection: sent by their SHA (EVALSHA), the text only on Redis's first sight. */
interface QueuedBytesCommands {
  faasReserveQueuedBytes(...args: string[]): Promise<[number, number, number]>;
  faasReleaseQueuedBytes(...args: string[]): Promise<number>;
}

export class QueuedBytes {
  private readonly redis: Redis & QueuedBytesCommands;

  /**
   * Defines the scripts on the connection now, not at first use: on an auto-pipelined connection a command
   * defined after another command of the same event-loop turn opened the pipeline is missing from it, and
   * that pipeline's every command fails ("pipeline[functionName] is not a function").
   */
  constructor(private readonly options: { redis: Redis; prefix: string; defaultLimitBytes?: number | undefined }) {
    const redis = options.redis as Redis & Partial<QueuedBytesCommands>;
    if (!redis.faasReserveQueuedBytes) redis.defineCommand('faasReserveQueuedBytes', { numberOfKeys: 2, lua: RESERVE });
    if (!redis.faasReleaseQueuedBytes) redis.defineCommand('faasReleaseQueuedBytes', { numberOfKeys: 1, lua: RELEASE });
    this.redis = redis as Redis & QueuedBytesCommands;
  }

  private key(tenant: string): string {
    return `${this.options.prefix}queued-bytes:${tenant}`;
  }

  /** Adds the bytes to their queues when the tenant stays within its limit; all or nothing. */
  async reserve(tenant: string, entries: Array<{ queue: string; bytes: number }>): Promise<Reservation> {
    const args = entries.filter((e) => e.bytes > 0).flatMap((e) => [e.queue, String(e.bytes)]);
    if (args.length === 0) return { admitted: true };
    const limit = this.options.defaultLimitBytes ?? -1;
    const [admitted, used, limitBytes] = await this.redis.faasReserveQueuedBytes(
      this.key(tenant),
      `${this.options.prefix}tenants`,
      tenant,
      String(limit),
      ...args,
    );
    return admitted === 1 ? { admitted: true } : { admitted: false, usedBytes: used, limitBytes };
  }

  async release(queue: string, bytes: number): Promise<void> {
    if (bytes <= 0) return;
    await this.redis.faasReleaseQueuedBytes(this.key(tenantOfQueue(queue)), queue, String(bytes));
  }

  /** The queue holds nothing any more (deleted, obliterated or purged). */
  async forget(queue: string): Promise<void> {
    await this.options.redis.hdel(this.key(tenantOfQueue(queue)), queue);
  }

  /** Bytes the tenant keeps waiting now, and its limit (as the reserve script reads it; absent: none). */
  async status(tenant: string): Promise<{ bytes: number; limitBytes?: number }> {
    const [values, raw] = await Promise.all([this.options.redis.hvals(this.key(tenant)), this.options.redis.hget(`${this.options.prefix}tenants`, tenant)]);
    const bytes = values.reduce((sum, v) => sum + Number(v), 0);
    let quota: unknown;
    try {
      quota = raw ? (JSON.parse(raw) as { quotas?: { maxQueuedBytes?: unknown } }).quotas?.maxQueuedBytes : undefined;
    } catch {
      quota = undefined;
    }
    const limitBytes = typeof quota === 'number' ? quota : this.options.defaultLimitBytes;
    return limitBytes === undefined ? { bytes } : { bytes, limitBytes };
  }
}
