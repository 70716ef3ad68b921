// The read side of invocation logs: the recent invocations of each function, one capped stream of batches each.
import type { InvocationLogEntry, InvocationLogStore } from './usage-record.js';
import type { RedisStoreOptions } from './redis-usage-store.js';

/** Log entries kept per function, at least. */
export const LOG_ENTRIES_KEPT = 100;

export const logKey = (prefix: string, fn: string) => `${prefix}logs:${fn}`;
/** The field holding a JSON array of InvocationLogEntry, oldest first. */
export const LOG_BATCH_FIELD = 'b';

export class RedisInvocationLogStore implements InvocationLogStore {
  constructor(private readonly options: RedisStoreOptions) {}

  /** Newest first, at most min(limit, LOG_ENTRIES_KEPT). */
  async recent(fn: string, limit: number): Promise<InvocationLogEntry[]> {
    const wanted = Math.max(1, Math.min(limit, LOG_ENTRIES_KEPT));
    // Each batch holds at least one entry: `wanted` batches hold enough.
    const batches = await this.options.redis.xrevrange(logKey(this.options.prefix, fn), '+', '-', 'COUNT', wanted);
    const entries: InvocationLogEntry[] = [];
    for (const [, fields] of batches) {
      const at = fields.indexOf(LOG_BATCH_FIELD);
      if (at === -1 || !fields[at + 1]) continue;
      entries.push(...(JSON.parse(fields[at + 1]!) as InvocationLogEntry[]).reverse());
      if (entries.length >= wanted) break;
    }
    return entries.slice(0, wanted);
  }

  async clear(fn: string): Promise<void> {
    await this.options.redis.del(logKey(this.options.prefix, fn));
  }
}
