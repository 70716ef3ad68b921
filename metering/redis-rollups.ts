// Usage rollups in Redis: per tenant, one hash per minute (kept 3 days), per hour and per UTC day (kept
// 400 days) with one field per function: its partial as JSON, merged by a Lua script (one write per
// function per unit and batch). The usage journal updates them in the same MULTI that ships the records
// and moves its offset, so they count every record exactly once; the usage API, invoices and the dashboard
// read them instead of scanning records, so a month of usage costs a few dozen hash reads.
import type { ChainableCommander, Redis } from 'ioredis';
import { coarsen, fieldOf, fromHash, partialsOf, toFieldValue, UNIT_MS, type Granularity, type UsagePartial } from './partials.js';
import type { MeteredRecord } from './usage-record.js';

/** Minute rollups are kept this long: finer ranges than hours are answered within it. */
export const MINUTE_RETENTION_MS = 3 * 86_400_000;
const HOUR_RETENTION_MS = 400 * 86_400_000;

export const rollupKey = (prefix: string, granularity: Granularity, at: number, tenant: string) => `${prefix}ru:${granularity[0]}:${at}:${tenant}`;
export const rollupTenantsKey = (prefix: string) => `${prefix}ru:tenants`;
/** Field of a usage stream entry whose rollups were applied when it was shipped. */
export const ROLLED_UP = 'r';

/** KEYS[1] the hash; ARGV[1] its TTL in ms; then (function, partial JSON) pairs merged into the fields. */
const ROLLUP_SCRIPT = `
local key = KEYS[1]
for i = 2, #ARGV, 2 do
  local field = ARGV[i]
  local add = cjson.decode(ARGV[i + 1])
  local raw = redis.call('HGET', key, field)
  if raw then
    local cur = cjson.decode(raw)
    for k, v in pairs(add) do
      if k == 'h' then
        local h = cur.h
        if type(h) ~= 'table' then h = {} end
        for b, c in pairs(v) do h[b] = (h[b] or 0) + c end
        cur.h = h
      elseif k == 'peak' then
        if v > (cur.peak or 0) then cur.peak = v end
      else
        cur[k] = (cur[k] or 0) + v
      end
    end
    add = cur
  end
  redis.call('HSET', key, field, cjson.encode(add))
end
redis.call('PEXPIRE', key, ARGV[1])
return 1
`;

type WithRollup = { faasRollup(key: string, ttlMs: number, ...ops: Array<string | number>): ChainableCommander };

/** Defines the rollup script on a client (ioredis runs it by its SHA); before creating the MULTI that uses it. */
export function defineRollupCommand(redis: Redis): void {
  if (!(redis as unknown as Partial<WithRollup>).faasRollup) redis.defineCommand('faasRollup', { numberOfKeys: 1, lua: ROLLUP_SCRIPT });
}

/**
 * Queues, on a MULTI of a client given to defineRollupCommand, the rollup updates of a batch of records
 * (minute and hour, per tenant and function).
 */
export function appendRollups(multi: ChainableCommander, prefix: string, records: readonly MeteredRecord[]): void {
  if (records.length === 0) return;
  const tenants = new Set<string>();
  // Records are walked once, into minutes; hours and days are merged from those.
  const minutes = partialsOf(records, 'minute');
  for (const granularity of ['minute', 'hour', 'day'] as const) {
    const byKey = new Map<string, Array<string | number>>();
    for (const p of granularity === 'minute' ? minutes : coarsen(minutes, granularity)) {
      tenants.add(p.tenant);
      const key = rollupKey(prefix, granularity, p.at, p.tenant);
      let ops = byKey.get(key);
      if (!ops) byKey.set(key, (ops = []));
      ops.push(fieldOf(p), toFieldValue(p));
    }
    const ttl = granularity === 'minute' ? MINUTE_RETENTION_MS : HOUR_RETENTION_MS;
    for (const [key, ops] of byKey) (multi as unknown as WithRollup).faasRollup(key, ttl, ...ops);
  }
  multi.sadd(rollupTenantsKey(prefix), ...tenants);
}

export interface RollupQuery {
  from: number;
  to: number;
  /**
   * Whole UTC days inside the range may be read from day rollups (24 times fewer reads). Only when the
   * answer is not grouped by hour or by local days or months of another zone than UTC: a day partial
   * carries the start of its UTC day.
   */
  utcDays?: boolean;
  /** Only these tenants; all when absent. */
  tenants?: readonly string[];
  /** Only this function (name in its tenant). */
  fn?: string;
}

export interface RollupAnswer {
  partials: UsagePartial[];
  /** The finest unit used: minute, or hour (with days in the middle when allowed). */
  granularity: Granularity;
  /** The range actually covered: `from` floored and `to` raised to whole units. */
  from: number;
  to: number;
}

/** Which unit answers a range: minutes while they are kept, hours otherwise. */
export function granularityFor(from: number, now: number): Granularity {
  return from >= now - MINUTE_RETENTION_MS + UNIT_MS.hour ? 'minute' : 'hour';
}

/** Reads usage rollups (Redis, or records in memory in tests). */
export interface UsageRollups {
  query(q: RollupQuery): Promise<RollupAnswer>;
}

export class RedisRollupStore implements UsageRollups {
  constructor(private readonly options: { redis: Redis; prefix: string; clock?: () => number }) {}

  async query(q: RollupQuery): Promise<RollupAnswer> {
    const now = (this.options.clock ?? Date.now)();
    const granularity = granularityFor(q.from, now);
    const unit = UNIT_MS[granularity];
    // Nothing older than the hours kept.
    const from = Math.floor(Math.max(q.from, now - HOUR_RETENTION_MS) / unit) * unit;
    const to = Math.ceil(q.to / unit) * unit;
    const tenants = q.tenants ?? (await this.options.redis.smembers(rollupTenantsKey(this.options.prefix)));
    // Units after now hold nothing yet.
    const end = Math.min(to, now + unit);
    const units: Array<{ granularity: Granularity; at: number }> = [];
    const hours = (a: number, b: number) => {
      for (let at = a; at < b; at += unit) units.push({ granularity, at });
    };
    const day = UNIT_MS.day;
    const firstDay = Math.ceil(from / day) * day;
    const lastDay = Math.floor(end / day) * day;
    if (granularity === 'hour' && q.utcDays && firstDay < lastDay) {
      hours(from, firstDay);
      for (let at = firstDay; at < lastDay; at += day) units.push({ granularity: 'day', at });
      hours(lastDay, end);
    } else {
      hours(from, end);
    }
    const keys = units.flatMap((u) => tenants.map((tenant) => ({ ...u, tenant })));
    const partials: UsagePartial[] = [];
    for (let i = 0; i < keys.length; i += 500) {
      const chunk = keys.slice(i, i + 500);
      const pipeline = this.options.redis.pipeline();
      for (const k of chunk) pipeline.hgetall(rollupKey(this.options.prefix, k.granularity, k.at, k.tenant));
      const results = (await pipeline.exec()) ?? [];
      results.forEach(([err, hash], j) => {
        if (err) throw err;
        const { tenant, at } = chunk[j]!;
        for (const p of fromHash(tenant, at, hash as Record<string, string>)) if (!q.fn || p.fn === q.fn) partials.push(p);
      });
    }
    return { partials, granularity, from, to };
  }
}
