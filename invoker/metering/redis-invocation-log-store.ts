// The read side of invocation logs: the last 100 invocations of each function, one capped stream each.
import type { InvocationLogEntry, InvocationLogStore } from './usage-record.js';
import type { RedisStoreOptions } from './redis-usage-store.js';

/** Entries kept per function. */
export const LOG_ENTRIES_KEPT = 100;

export const logKey = (prefix: string, fn: string) => `${prefix}logs:${fn}`;

export class RedisInvocationLogStore implements InvocationLogStore {
  constructor(private readonly options: RedisStoreOptions) {}

  async recent(fn: string, limit: number): Promise<InvocationLogEntry[]> {
    const rows = await this.options.redis.xrevrange(logKey(this.options.prefix, fn), '+', '-', 'COUNT', Math.max(1, limit));
    return rows.map(([, fields]) => JSON.parse(fields[1]!) as InvocationLogEntry);
  }

  async clear(fn: string): Promise<void> {
    await this.options.redis.del(logKey(this.options.prefix, fn));
  }
}
