// The read side of usage: totals from the Redis stream the usage journal ships records to.
import type { Redis } from 'ioredis';
import { aggregate } from './usage-math.js';
import type { FunctionUsageTotals, Prices, UsageQuery, UsageRecord, UsageStore } from './usage-record.js';

export interface RedisStoreOptions {
  redis: Redis;
  prefix: string;
}

/** Stream of usage records; entry ids are Redis' clock when the record was shipped (about the invocation's end). */
export const usageKey = (prefix: string) => `${prefix}usage`;

const SCAN_BATCH = 5_000;

export class RedisUsageStore implements UsageStore {
  constructor(private readonly options: RedisStoreOptions) {}

  async *scan(from: number, to: number): AsyncGenerator<UsageRecord> {
    let start = String(from);
    const end = String(Math.max(from, to - 1));
    for (;;) {
      const entries = await this.options.redis.xrange(usageKey(this.options.prefix), start, end, 'COUNT', SCAN_BATCH);
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
}
