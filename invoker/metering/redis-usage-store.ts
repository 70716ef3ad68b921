// UsageStore on a Redis stream: each record is sent at once (not batched in memory), totals read back by time range.
import type { Redis } from 'ioredis';
import { aggregate } from './usage-math.js';
import type { FunctionUsageTotals, Prices, UsageQuery, UsageRecord, UsageStore } from './usage-record.js';

export interface RedisStoreOptions {
  redis: Redis;
  prefix: string;
  /** Called when a write fails for good (after retries). */
  onError?: (err: Error, what: string) => void;
}

const RETRY_DELAYS_MS = [50, 200, 1_000, 5_000];
const SCAN_BATCH = 5_000;

/** Sends a write now and retries it in the background; the caller never waits and never sees an error. */
export function sendWithRetry(send: () => Promise<unknown>, pending: Set<Promise<unknown>>, onError: (err: Error) => void): void {
  const attempt = async () => {
    for (let i = 0; ; i++) {
      try {
        return await send();
      } catch (err) {
        if (i >= RETRY_DELAYS_MS.length) return onError(err as Error);
        await new Promise((r) => setTimeout(r, RETRY_DELAYS_MS[i]));
      }
    }
  };
  const p = attempt();
  pending.add(p);
  void p.finally(() => pending.delete(p));
}

/**
 * Records go to the stream `<prefix>usage` with Redis' own clock as the entry id, so a time range is an
 * XRANGE. Writing each record at once (ioredis pipelines what one tick sends) means a record handed to the
 * socket reaches Redis even when this process dies right after; Redis' AOF keeps it across restarts.
 */
export class RedisUsageStore implements UsageStore {
  private readonly pending = new Set<Promise<unknown>>();

  constructor(private readonly options: RedisStoreOptions) {}

  private get key(): string {
    return `${this.options.prefix}usage`;
  }

  record(record: UsageRecord): void {
    const fields = ['r', JSON.stringify(record)];
    sendWithRetry(
      () => this.options.redis.xadd(this.key, '*', ...fields),
      this.pending,
      (err) => this.options.onError?.(err, `usage record ${record.id}`),
    );
  }

  async *scan(from: number, to: number): AsyncGenerator<UsageRecord> {
    let start = String(from);
    const end = String(Math.max(from, to - 1));
    for (;;) {
      const entries = await this.options.redis.xrange(this.key, start, end, 'COUNT', SCAN_BATCH);
      for (const [, fields] of entries) {
        const at = fields.indexOf('r');
        if (at !== -1 && fields[at + 1]) yield JSON.parse(fields[at + 1]!) as UsageRecord;
      }
      if (entries.length < SCAN_BATCH) return;
      start = `(${entries[entries.length - 1]![0]}`;
    }
  }

  async totals(query: UsageQuery, prices: Prices): Promise<FunctionUsageTotals[]> {
    const records: UsageRecord[] = [];
    for await (const r of this.scan(query.from, query.to)) if (!query.fn || r.fn === query.fn) records.push(r);
    return aggregate(records, prices);
  }

  async flush(): Promise<void> {
    await Promise.all([...this.pending]);
  }
}
