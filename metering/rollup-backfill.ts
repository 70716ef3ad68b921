// Builds the rollups of usage batches shipped before rollups existed (entries of the usage stream without
// the ROLLED_UP mark), once, resumably: each chunk's rollups and the cursor past it move in one MULTI, so
// a crash in the middle neither loses nor doubles anything.
import type { Redis } from 'ioredis';
import { appendRollups, defineRollupCommand, ROLLED_UP } from './redis-rollups.js';
import { USAGE_BATCH_FIELD, usageKey } from './redis-usage-store.js';
import type { MeteredRecord } from './usage-record.js';

const CHUNK = 200;

/** Returns how many records were rolled up (0 when there was nothing left to do). */
export async function backfillRollups(redis: Redis, prefix: string): Promise<number> {
  const doneKey = `${prefix}ru:backfill:done`;
  const cursorKey = `${prefix}ru:backfill:cursor`;
  if (await redis.exists(doneKey)) return 0;
  // One process at a time; another one finding the lock goes on without waiting (usage reads still work).
  if (!(await redis.set(`${prefix}ru:backfill:lock`, '1', 'PX', 120_000, 'NX'))) return 0;
  defineRollupCommand(redis);
  let cursor = (await redis.get(cursorKey)) ?? '0';
  let total = 0;
  try {
    for (;;) {
      const entries = await redis.xrange(usageKey(prefix), `(${cursor}`, '+', 'COUNT', CHUNK);
      if (entries.length === 0) break;
      const records: MeteredRecord[] = [];
      for (const [, fields] of entries) {
        if (fields.includes(ROLLED_UP)) continue;
        const at = fields.indexOf(USAGE_BATCH_FIELD);
        if (at !== -1 && fields[at + 1]) records.push(...(JSON.parse(fields[at + 1]!) as MeteredRecord[]));
      }
      cursor = entries[entries.length - 1]![0];
      const multi = redis.multi();
      appendRollups(multi, prefix, records);
      multi.set(cursorKey, cursor);
      await multi.exec();
      total += records.length;
      if (entries.length < CHUNK) break;
    }
    await redis.set(doneKey, cursor);
    return total;
  } finally {
    await redis.del(`${prefix}ru:backfill:lock`);
  }
}
