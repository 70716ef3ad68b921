// InvocationLogStore in Redis: the last 100 invocations of each function with their console output, one capped stream each.
import type { Redis } from 'ioredis';
import { sendWithRetry, type RedisStoreOptions } from './redis-usage-store.js';
import type { InvocationLogEntry, InvocationLogStore } from './usage-record.js';

/** Entries kept per function. */
export const LOG_ENTRIES_KEPT = 100;

export class RedisInvocationLogStore implements InvocationLogStore {
  private readonly pending = new Set<Promise<unknown>>();

  constructor(private readonly options: RedisStoreOptions) {}

  private key(fn: string): string {
    return `${this.options.prefix}logs:${fn}`;
  }

  append(entry: InvocationLogEntry): void {
    const key = this.key(entry.fn);
    sendWithRetry(
      // One command per invocation: XADD with an exact MAXLEN keeps the newest entries.
      () => this.options.redis.xadd(key, 'MAXLEN', LOG_ENTRIES_KEPT, '*', 'e', JSON.stringify(entry)),
      this.pending,
      (err) => this.options.onError?.(err, `log entry ${entry.invocationId}`),
    );
  }

  async recent(fn: string, limit: number): Promise<InvocationLogEntry[]> {
    const rows = await this.options.redis.xrevrange(this.key(fn), '+', '-', 'COUNT', Math.max(1, limit));
    return rows.map(([, fields]) => JSON.parse(fields[1]!) as InvocationLogEntry);
  }

  async clear(fn: string): Promise<void> {
    await this.options.redis.del(this.key(fn));
  }

  async flush(): Promise<void> {
    await Promise.all([...this.pending]);
  }
}
