// Workers KV namespaces, per tenant, in Redis: each entry a hash (value, metadata, expiration, its cost),
// each namespace an index of its keys (a sorted set, listed by prefix in key order, as KV lists), each tenant
// a count of its keys and bytes (values, metadata, key names and a fixed overhead: no entry is free) and
// its entries by expiration. A put that would take the tenant past its bytes or keys is refused whole (one
// Lua script: the check and the write are one step), after removing some of the tenant's expired entries.
// Expired entries read as missing; expiration is kept here (not a Redis TTL) so the counts stay exact.
// Keys of one tenant share a hash tag, so a script's keys are in one slot of a Redis Cluster too.
import type { Redis } from 'ioredis';

export interface KvLimits {
  /** Largest value, bytes. */
  maxValueBytes: number;
  /** Bytes of values and metadata one tenant keeps in all its namespaces. */
  maxTenantBytes: number;
  /** Keys one tenant keeps in all its namespaces. */
  maxKeys: number;
}

/** KV's own limits (Cloudflare's): key names and metadata. */
export const MAX_KEY_BYTES = 512;
export const MAX_METADATA_BYTES = 1024;
export const MAX_LIST_LIMIT = 1000;

export class KvLimitError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'KvLimitError';
  }
}

export interface KvEntry {
  value: Buffer;
  /** JSON text, or undefined. */
  metadata?: string;
  /** Epoch seconds, or undefined. */
  expiration?: number;
}

export interface KvListing {
  keys: Array<{ name: string; expiration?: number; metadata?: unknown }>;
  list_complete: boolean;
  cursor?: string;
}

/** Bytes an entry costs besides its value and metadata (the hash and index entries), counted so keys are never free. */
export const ENTRY_OVERHEAD_BYTES = 64;
/** Expired entries of the tenant a put removes first, at most; and before refusing a put for lack of room. */
const RECLAIM_PER_PUT = 16;
const RECLAIM_WHEN_FULL = 1000;

// Removes one entry (KEYS: entry, index, usage, expirations; ARGV: key, member) and its counts; with ARGV[3]
// (now, epoch s) only when it has expired by then. Returns the bytes freed.
const REMOVE = `
local function remove(entry, index, usage, expirations, key, member, onlyExpiredAt)
  if redis.call('EXISTS', entry) == 0 then
    redis.call('ZREM', index, key)
    redis.call('ZREM', expirations, member)
    return 0
  end
  if onlyExpiredAt ~= '' then
    local x = redis.call('HGET', entry, 'x')
    if not x or x == '' or tonumber(x) > tonumber(onlyExpiredAt) then return 0 end
  end
  local cost = tonumber(redis.call('HGET', entry, 'c') or '0')
  redis.call('DEL', entry)
  redis.call('ZREM', index, key)
  redis.call('ZREM', expirations, member)
  redis.call('HINCRBY', usage, 'bytes', -cost)
  redis.call('HINCRBY', usage, 'keys', -1)
  return cost
end
`;

const DELETE = `${REMOVE}
return remove(KEYS[1], KEYS[2], KEYS[3], KEYS[4], ARGV[1], ARGV[2], ARGV[3])
`;

// KEYS: entry, index, usage, expirations. ARGV: key, value, metadata, expiration, maxTenantBytes,
// maxTenantKeys, member, now, base (the tenant's key prefix, for the expired entries reclaimed first).
const PUT = `${REMOVE}
local function reclaim(limit)
  for _, m in ipairs(redis.call('ZRANGEBYSCORE', KEYS[4], '-inf', ARGV[8], 'LIMIT', 0, limit)) do
    local at = string.find(m, '\\n', 1, true)
    local ns, k = string.sub(m, 1, at - 1), string.sub(m, at + 1)
    remove(ARGV[9] .. ':' .. ns .. ':e:' .. k, ARGV[9] .. ':' .. ns .. ':idx', KEYS[3], KEYS[4], k, m, ARGV[8])
    redis.call('ZREM', KEYS[4], m)
  end
end
local function over(old, existed, cost)
  local bytes = tonumber(redis.call('HGET', KEYS[3], 'bytes') or '0')
  if bytes - old + cost > tonumber(ARGV[5]) then return {'bytes', bytes} end
  local keys = tonumber(redis.call('HGET', KEYS[3], 'keys') or '0')
  if existed == 0 and keys >= tonumber(ARGV[6]) then return {'keys', keys} end
  return nil
end
reclaim(${RECLAIM_PER_PUT})
local old, existed = 0, redis.call('EXISTS', KEYS[1])
if existed == 1 then old = tonumber(redis.call('HGET', KEYS[1], 'c') or '0') end
local cost = #ARGV[2] + #ARGV[3] + 2 * #ARGV[1] + ${ENTRY_OVERHEAD_BYTES}
local refused = over(old, existed, cost)
-- Full: expired entries may hold the room; more of them go before the put is refused.
if refused then
  reclaim(${RECLAIM_WHEN_FULL})
  -- The entry itself may have been an expired one, gone now.
  existed = redis.call('EXISTS', KEYS[1])
  old = existed == 1 and tonumber(redis.call('HGET', KEYS[1], 'c') or '0') or 0
  refused = over(old, existed, cost)
  if refused then return refused end
end
redis.call('HSET', KEYS[1], 'v', ARGV[2], 'm', ARGV[3], 'x', ARGV[4], 'c', cost)
redis.call('ZADD', KEYS[2], 0, ARGV[1])
redis.call('HINCRBY', KEYS[3], 'bytes', cost - old)
if existed == 0 then redis.call('HINCRBY', KEYS[3], 'keys', 1) end
if ARGV[4] ~= '' then redis.call('ZADD', KEYS[4], ARGV[4], ARGV[7]) else redis.call('ZREM', KEYS[4], ARGV[7]) end
return {'ok', 0}
`;

const byteLength = (text: string) => Buffer.byteLength(text, 'utf8');

export class KvStore {
  constructor(private readonly options: { redis: Redis; prefix: string; limits: KvLimits; clock?: () => number }) {}

  get limits(): KvLimits {
    return this.options.limits;
  }

  private now(): number {
    return Math.floor((this.options.clock?.() ?? Date.now()) / 1000);
  }

  private keys(tenant: string, namespace: string, key?: string) {
    const base = `${this.options.prefix}kv:{${tenant}}`;
    return {
      base,
      entry: `${base}:${namespace}:e:${key ?? ''}`,
      index: `${base}:${namespace}:idx`,
      usage: `${base}:usage`,
      expirations: `${base}:exp`,
      /** The entry in the tenant's expirations: namespace names hold no newline. */
      member: `${namespace}\n${key ?? ''}`,
    };
  }

  /** Why a key cannot be stored, or undefined. */
  static keyProblem(key: string): string | undefined {
    if (key === '' || key === '.' || key === '..') return `KV key "${key}" is not allowed (empty, "." or "..")`;
    if (byteLength(key) > MAX_KEY_BYTES) return `KV key is ${byteLength(key)} bytes; at most ${MAX_KEY_BYTES}`;
    return undefined;
  }

  async put(tenant: string, namespace: string, key: string, entry: KvEntry): Promise<void> {
    const problem = KvStore.keyProblem(key);
    if (problem) throw new KvLimitError(problem);
    const { limits } = this.options;
    if (entry.value.length > limits.maxValueBytes) throw new KvLimitError(`KV value is ${entry.value.length} bytes; at most ${limits.maxValueBytes}`);
    const metadata = entry.metadata ?? '';
    if (byteLength(metadata) > MAX_METADATA_BYTES)
      throw new KvLimitError(`KV metadata is ${byteLength(metadata)} bytes serialised; at most ${MAX_METADATA_BYTES}`);
    if (entry.expiration !== undefined && entry.expiration <= this.now()) throw new KvLimitError(`KV expiration ${entry.expiration} is not in the future`);
    const k = this.keys(tenant, namespace, key);
    const [outcome, used] = (await this.options.redis.eval(
      PUT,
      4,
      k.entry,
      k.index,
      k.usage,
      k.expirations,
      key,
      entry.value,
      metadata,
      entry.expiration === undefined ? '' : String(entry.expiration),
      String(limits.maxTenantBytes),
      String(limits.maxKeys),
      k.member,
      String(this.now()),
      k.base,
    )) as [string, number];
    if (outcome === 'bytes')
      throw new KvLimitError(
        `KV storage full: the tenant keeps ${used} bytes of its ${limits.maxTenantBytes} (FAAS_KV_MAX_BYTES; each key counts its value, metadata, twice its name and ${ENTRY_OVERHEAD_BYTES})`,
      );
    if (outcome === 'keys') throw new KvLimitError(`KV storage full: the tenant keeps ${used} keys, its most (FAAS_KV_MAX_KEYS)`);
  }

  async get(tenant: string, namespace: string, key: string): Promise<KvEntry | undefined> {
    const k = this.keys(tenant, namespace, key);
    const [value, metadata, expiration] = await this.options.redis.hmgetBuffer(k.entry, 'v', 'm', 'x');
    if (!value) return undefined;
    const expires = expiration && expiration.length > 0 ? Number(expiration.toString()) : undefined;
    if (expires !== undefined && expires <= this.now()) {
      await this.remove(tenant, namespace, key, this.now());
      return undefined;
    }
    return {
      value,
      ...(metadata && metadata.length > 0 ? { metadata: metadata.toString('utf8') } : {}),
      ...(expires !== undefined ? { expiration: expires } : {}),
    };
  }

  async delete(tenant: string, namespace: string, key: string): Promise<void> {
    await this.remove(tenant, namespace, key);
  }

  /** Removes an entry; with `expiredAt`, only if it has expired by then (a put since keeps it). */
  private async remove(tenant: string, namespace: string, key: string, expiredAt?: number): Promise<void> {
    const k = this.keys(tenant, namespace, key);
    await this.options.redis.eval(DELETE, 4, k.entry, k.index, k.usage, k.expirations, key, k.member, expiredAt === undefined ? '' : String(expiredAt));
  }

  /** Keys in order, from after `cursor` (the last key of the page before), with their expiration and metadata. */
  async list(tenant: string, namespace: string, options: { prefix?: string; limit?: number; cursor?: string } = {}): Promise<KvListing> {
    const limit = Math.min(Math.max(1, Math.floor(options.limit ?? MAX_LIST_LIMIT)), MAX_LIST_LIMIT);
    const prefix = options.prefix ?? '';
    const after = options.cursor ? Buffer.from(options.cursor, 'base64url').toString('utf8') : undefined;
    const k = this.keys(tenant, namespace);
    const min = after !== undefined && after >= prefix ? `(${after}` : `[${prefix}`;
    // Byte 0xFF never occurs in UTF-8: every key with the prefix sorts below it, whatever its script.
    const max = prefix ? Buffer.concat([Buffer.from(`[${prefix}`, 'utf8'), Buffer.from([0xff])]) : '+';
    const names = await this.options.redis.zrangebylex(k.index, min, max, 'LIMIT', 0, limit + 1);
    const page = names.slice(0, limit);
    const now = this.now();
    const pipeline = this.options.redis.pipeline();
    for (const name of page) pipeline.hmget(this.keys(tenant, namespace, name).entry, 'm', 'x');
    const fields = ((await pipeline.exec()) ?? []).map(([, value]) => value as [string | null, string | null]);
    const keys: KvListing['keys'] = [];
    for (let i = 0; i < page.length; i++) {
      const [metadata, expiration] = fields[i] ?? [null, null];
      const expires = expiration ? Number(expiration) : undefined;
      if (expires !== undefined && expires <= now) {
        await this.remove(tenant, namespace, page[i]!, now);
        continue;
      }
      keys.push({
        name: page[i]!,
        ...(expires !== undefined ? { expiration: expires } : {}),
        ...(metadata ? { metadata: JSON.parse(metadata) as unknown } : {}),
      });
    }
    const complete = names.length <= limit;
    return { keys, list_complete: complete, ...(complete ? {} : { cursor: Buffer.from(page[page.length - 1]!, 'utf8').toString('base64url') }) };
  }
}
