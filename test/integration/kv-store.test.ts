// Workers KV in a real Redis: values with metadata and expiration, listing by prefix with cursors, tenants
// and namespaces apart, and the limits (value size, a tenant's bytes, a namespace's keys) refused whole.
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KvLimitError, KvStore } from '../../bindings/kv-store.js';
import { startRedis, type TestRedis } from '../support/services.js';

let redis: TestRedis;
let client: Redis;
let now = 1_800_000_000_000;

beforeAll(async () => {
  redis = await startRedis();
  client = new Redis(redis.url, { maxRetriesPerRequest: null });
});
afterAll(async () => {
  client?.disconnect();
  await redis?.stop();
});

const store = (limits = { maxValueBytes: 1024, maxTenantBytes: 4096, maxKeys: 50 }, prefix = `t${Math.random()}:`) =>
  new KvStore({ redis: client, prefix, limits, clock: () => now });

describe('KvStore', () => {
  it('keeps a value with its metadata, reads it back, and deletes it', async () => {
    const kv = store();
    await kv.put('acme', 'CACHE', 'greeting', { value: Buffer.from('hello'), metadata: '{"by":"test"}' });
    expect(await kv.get('acme', 'CACHE', 'greeting')).toEqual({ value: Buffer.from('hello'), metadata: '{"by":"test"}' });
    await kv.delete('acme', 'CACHE', 'greeting');
    expect(await kv.get('acme', 'CACHE', 'greeting')).toBeUndefined();
  });

  it('keeps tenants and namespaces apart', async () => {
    const kv = store();
    await kv.put('acme', 'CACHE', 'k', { value: Buffer.from('acme') });
    await kv.put('globex', 'CACHE', 'k', { value: Buffer.from('globex') });
    await kv.put('acme', 'OTHER', 'k', { value: Buffer.from('other') });
    expect((await kv.get('acme', 'CACHE', 'k'))?.value.toString()).toBe('acme');
    expect((await kv.get('globex', 'CACHE', 'k'))?.value.toString()).toBe('globex');
    expect((await kv.list('acme', 'OTHER')).keys.map((k) => k.name)).toEqual(['k']);
  });

  it('reads an expired entry as missing, leaves it out of lists and frees its bytes', async () => {
    const kv = store({ maxValueBytes: 1024, maxTenantBytes: 10, maxKeys: 50 });
    await kv.put('acme', 'CACHE', 'soon', { value: Buffer.from('12345678'), expiration: Math.floor(now / 1000) + 60 });
    expect((await kv.list('acme', 'CACHE')).keys).toEqual([{ name: 'soon', expiration: Math.floor(now / 1000) + 60 }]);
    await expect(kv.put('acme', 'CACHE', 'other', { value: Buffer.from('12345') })).rejects.toThrow(/storage full/);
    now += 61_000;
    expect(await kv.get('acme', 'CACHE', 'soon')).toBeUndefined();
    expect((await kv.list('acme', 'CACHE')).keys).toEqual([]);
    await kv.put('acme', 'CACHE', 'other', { value: Buffer.from('12345') });
  });

  it('lists by prefix in key order, a page at a time with a cursor', async () => {
    const kv = store();
    for (const name of ['user:3', 'user:1', 'user:2', 'order:1', 'user:4']) await kv.put('acme', 'NS', name, { value: Buffer.from('x') });
    const first = await kv.list('acme', 'NS', { prefix: 'user:', limit: 3 });
    expect(first.keys.map((k) => k.name)).toEqual(['user:1', 'user:2', 'user:3']);
    expect(first.list_complete).toBe(false);
    const second = await kv.list('acme', 'NS', { prefix: 'user:', limit: 3, cursor: first.cursor! });
    expect(second).toEqual({ keys: [{ name: 'user:4' }], list_complete: true });
  });

  it('refuses a value, a tenant’s bytes or a namespace’s keys past the limits, writing nothing', async () => {
    const kv = store({ maxValueBytes: 8, maxTenantBytes: 20, maxKeys: 2 });
    await expect(kv.put('acme', 'NS', 'big', { value: Buffer.alloc(9) })).rejects.toThrow(KvLimitError);
    await kv.put('acme', 'NS', 'a', { value: Buffer.alloc(8) });
    await kv.put('acme', 'NS', 'b', { value: Buffer.alloc(8) });
    await expect(kv.put('acme', 'NS', 'c', { value: Buffer.alloc(1) })).rejects.toThrow(/holds 2 keys/);
    await expect(kv.put('acme', 'OTHER', 'c', { value: Buffer.alloc(8) })).rejects.toThrow(/storage full: the tenant keeps 16 bytes of its 20/);
    // Overwriting counts the difference only.
    await kv.put('acme', 'NS', 'a', { value: Buffer.alloc(4) });
    await kv.put('acme', 'OTHER', 'c', { value: Buffer.alloc(8) });
    expect(await kv.get('acme', 'OTHER', 'c')).toBeDefined();
    await expect(kv.put('acme', 'NS', '', { value: Buffer.from('x') })).rejects.toThrow(/not allowed/);
  });
});
