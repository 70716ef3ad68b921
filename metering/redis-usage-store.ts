// The read side of usage: totals from the Redis stream the usage journal ships batches of records to.
import type { Redis } from 'ioredis';
import type { MeteredRecord, UsageStore } from './usage-record.js';

export interface RedisStoreOptions {
  redis: Redis;
  prefix: string;
}

/** Stream of usage batches; an entry's id is Redis' clock when the batch was shipped. */
export const usageKey = (prefix: string) => `${prefix}usage`;
/** The field holding a JSON array of UsageRecord. */
export const USAGE_BATCH_FIELD = 'b';

/** Clocks of invokers and Redis may differ by this much; a record is never shipped before it ends. */
const CLOCK_SKEW_MS = 60_000;
const SCAN_BATCH = 1_000;

export class RedisUsageStore implements UsageStore {
  constructor(private readonly options: RedisStoreOptions) {}

  /**
   * Records that ended in [from, to). A record is shipped after it ends, possibly much later (after a
   * Redis outage), so every batch shipped since `from` is read and filtered by the record's own end.
   */
  /**
   * Batches shipped after the stream id `after` ('0' for all, or a millisecond time as a string), oldest
   * first, and the id to continue from. For readers that follow the stream (quotas).
   */
  async tail(after: string, count = SCAN_BATCH): Promise<{ records: MeteredRecord[]; last: string }> {
    const entries = await this.options.redis.xrange(usageKey(this.options.prefix), `(${after}`, '+', 'COUNT', count);
    const records: MeteredRecord[] = [];
    for (const [, fields] of entries) {
      const at = fields.indexOf(USAGE_BATCH_FIELD);
      if (at !== -1 && fields[at + 1]) records.push(...(JSON.parse(fields[at + 1]!) as MeteredRecord[]));
    }
    return { records, last: entries.length ? entries[entries.length - 1]![0] : after };
  }

  async *scan(from: number, to: number): AsyncGenerator<MeteredRecord> {
    let start = String(Math.max(0, from - CLOCK_SKEW_MS));
    for (;;) {
      const entries = await this.options.redis.xrange(usageKey(this.options.prefix), start, '+', 'COUNT', SCAN_BATCH);
      for (const [, fields] of entries) {
        const at = fields.indexOf(USAGE_BATCH_FIELD);
        if (at === -1 || !fields[at + 1]) continue;
        for (const record of JSON.parse(fields[at + 1]!) as MeteredRecord[]) {
          if (record.endedAt >= from && record.endedAt < to) yield record;
        }
      }
      if (entries.length < SCAN_BATCH) return;
      start = `(${entries[entries.length - 1]![0]}`;
    }
  }
}
