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

  /**
   * Entries written after `cursor` (a stream id; '0' for all kept), oldest first, at most `limit` batches'
   * worth, and the cursor to ask from next (`faas logs -f` polls this). The cursor of nothing new is the same.
   */
  async after(fn: string, cursor: string, limit = 100): Promise<{ entries: InvocationLogEntry[]; cursor: string }> {
    const batches = await this.options.redis.xrange(logKey(this.options.prefix, fn), `(${cursor}`, '+', 'COUNT', limit);
    const entries: InvocationLogEntry[] = [];
    for (const [, fields] of batches) {
      const at = fields.indexOf(LOG_BATCH_FIELD);
      if (at !== -1 && fields[at + 1]) entries.push(...(JSON.parse(fields[at + 1]!) as InvocationLogEntry[]));
    }
    return { entries, cursor: batches.length ? batches[batches.length - 1]![0] : cursor };
  }

  /** Where the log ends now ('0' when empty): following from here shows only what comes next. */
  async end(fn: string): Promise<string> {
    const [last] = await this.options.redis.xrevrange(logKey(this.options.prefix, fn), '+', '-', 'COUNT', 1);
    return last ? last[0] : '0';
  }

  async clear(fn: string): Promise<void> {
    await this.options.redis.del(logKey(this.options.prefix, fn));
  }
}
