// Workers KV namespaces, per tenant, in Redis: each entry a hash (value, metadata, expiration), each
// namespace an index of its keys (a sorted set, listed by prefix in key order, as KV lists), each tenant a
// count of the bytes it keeps. A put that would take the tenant past its bytes, or a namespace past its
// keys, is refused whole (one Lua script: the check and the write are one step). Expired entries read as
// missing and are removed when met; expiration is kept here (not a Redis TTL) so the count stays exact.
// Keys of one tenant share a hash tag, so a script's keys are in one slot of a Redis Cluster too.
import type { Redis } from 'ioredis';

export interface KvLimits {
  /** Largest value, bytes. */
  maxValueBytes: number;
  /** Bytes of values and metadata one tenant keeps in all its namespaces. */
  maxTenantBytes: number;
  /** Keys in one namespace. */
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

// KEYS: entry, index, tenant bytes. ARGV: key, value, metadata, expiration, maxTenantBytes, maxKeys.
const PUT = `
local old = 0
local existed = redis.call('EXISTS', KEYS[1])
if existed == 1 then old = redis.call('HSTRLEN', KEYS[1], 'v') + redis.call('HSTRLEN', KEYS[1], 'm') end
local new = #ARGV[2] + #ARGV[3]
local used = tonumber(redis.call('GET', KEYS[3]) or '0')
if used - old + new > tonumber(ARGV[5]) then return {'bytes', used} end
if existed == 0 and redis.call('ZCARD', KEYS[2]) >= tonumber(ARGV[6]) then return {'keys', 0} end
redis.call('HSET', KEYS[1], 'v', ARGV[2], 'm', ARGV[3], 'x', ARGV[4])
redis.call('ZADD', KEYS[2], 0, ARGV[1])
redis.call('INCRBY', KEYS[3], new - old)
return {'ok', 0}
`;

// KEYS: entry, index, tenant bytes. ARGV: key. Returns the bytes freed (0 when there was no entry).
const DELETE = `
if redis.call('EXISTS', KEYS[1]) == 0 then redis.call('ZREM', KEYS[2], ARGV[1]) return 0 end
local freed = redis.call('HSTRLEN', KEYS[1], 'v') + redis.call('HSTRLEN', KEYS[1], 'm')
redis.call('DEL', KEYS[1])
redis.call('ZREM', KEYS[2], ARGV[1])
redis.call('DECRBY', KEYS[3], freed)
return freed
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
      entry: `${base}:${namespace}:e:${key ?? ''}`,
      index: `${base}:${namespace}:idx`,
      bytes: `${base}:bytes`,
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
      3,
      k.entry,
      k.index,
      k.bytes,
      key,
      entry.value,
      metadata,
      entry.expiration === undefined ? '' : String(entry.expiration),
      String(limits.maxTenantBytes),
      String(limits.maxKeys),
    )) as [string, number];
    if (outcome === 'bytes') throw new KvLimitError(`KV storage full: the tenant keeps ${used} bytes of its ${limits.maxTenantBytes} (FAAS_KV_MAX_BYTES)`);
    if (outcome === 'keys') throw new KvLimitError(`KV namespace ${namespace} holds ${limits.maxKeys} keys, its most (FAAS_KV_MAX_KEYS)`);
  }

  async get(tenant: string, namespace: string, key: string): Promise<KvEntry | undefined> {
    const k = this.keys(tenant, namespace, key);
    const [value, metadata, expiration] = await this.options.redis.hmgetBuffer(k.entry, 'v', 'm', 'x');
    if (!value) return undefined;
    const expires = expiration && expiration.length > 0 ? Number(expiration.toString()) : undefined;
    if (expires !== undefined && expires <= this.now()) {
      await this.delete(tenant, namespace, key);
      return undefined;
    }
    return {
      value,
      ...(metadata && metadata.length > 0 ? { metadata: metadata.toString('utf8') } : {}),
      ...(expires !== undefined ? { expiration: expires } : {}),
    };
  }

  async delete(tenant: string, namespace: string, key: string): Promise<void> {
    const k = this.keys(tenant, namespace, key);
    await this.options.redis.eval(DELETE, 3, k.entry, k.index, k.bytes, key);
  }

  /** Keys in order, from after `cursor` (the last key of the page before), with their expiration and metadata. */
  async list(tenant: string, namespace: string, options: { prefix?: string; limit?: number; cursor?: string } = {}): Promise<KvListing> {
    const limit = Math.min(Math.max(1, Math.floor(options.limit ?? MAX_LIST_LIMIT)), MAX_LIST_LIMIT);
    const prefix = options.prefix ?? '';
    const after = options.cursor ? Buffer.from(options.cursor, 'base64url').toString('utf8') : undefined;
    const k = this.keys(tenant, namespace);
    const min = after !== undefined && after >= prefix ? `(${after}` : `[${prefix}`;
    const max = prefix ? `[${prefix}\xff` : '+';
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
        await this.delete(tenant, namespace, page[i]!);
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
