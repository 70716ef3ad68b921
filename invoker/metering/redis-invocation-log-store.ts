// InvocationLogStore in Redis: the last 100 invocations of each function with their console output.
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
      () => this.options.redis.multi().lpush(key, JSON.stringify(entry)).ltrim(key, 0, LOG_ENTRIES_KEPT - 1).exec(),
      this.pending,
      (err) => this.options.onError?.(err, `log entry ${entry.invocationId}`),
    );
  }

  async recent(fn: string, limit: number): Promise<InvocationLogEntry[]> {
    const rows = await this.options.redis.lrange(this.key(fn), 0, Math.max(0, limit - 1));
    return rows.map((row) => JSON.parse(row) as InvocationLogEntry);
  }

  async clear(fn: string): Promise<void> {
    await this.options.redis.del(this.key(fn));
  }

  async flush(): Promise<void> {
    await Promise.all([...this.pending]);
  }
}
