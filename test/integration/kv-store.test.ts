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

  it('reads an expired entry as missing, leaves it out of lists, and frees its bytes for later puts', async () => {
    // 'soon' costs 8 + 2×4 + 64 = 80 bytes; the tenant may keep 100.
    const kv = store({ maxValueBytes: 1024, maxTenantBytes: 100, maxKeys: 50 });
    await kv.put('acme', 'CACHE', 'soon', { value: Buffer.from('12345678'), expiration: Math.floor(now / 1000) + 60 });
    expect((await kv.list('acme', 'CACHE')).keys).toEqual([{ name: 'soon', expiration: Math.floor(now / 1000) + 60 }]);
    await expect(kv.put('acme', 'CACHE', 'other', { value: Buffer.from('12345') })).rejects.toThrow(/storage full/);
    now += 61_000;
    expect((await kv.list('acme', 'CACHE')).keys).toEqual([]);
    // Never read again: the next put removes it first.
    await kv.put('acme', 'CACHE', 'other', { value: Buffer.from('12345') });
    expect((await kv.get('acme', 'CACHE', 'other'))?.value.toString()).toBe('12345');
  });

  it('reclaims expired entries nobody reads again at the next put, however many hold the room', async () => {
    const kv = store({ maxValueBytes: 1024, maxTenantBytes: 100_000, maxKeys: 40 });
    const keys = Array.from({ length: 40 }, (_, i) => `s${i}`);
    for (const key of keys) await kv.put('acme', 'SESSIONS', key, { value: Buffer.from('x'), expiration: Math.floor(now / 1000) + 10 });
    await expect(kv.put('acme', 'SESSIONS', 'd', { value: Buffer.from('x') })).rejects.toThrow(/keeps 40 keys/);
    now += 11_000;
    await kv.put('acme', 'SESSIONS', 'd', { value: Buffer.from('x') });
    expect((await kv.list('acme', 'SESSIONS')).keys.map((k) => k.name)).toEqual(['d']);
  });

  it('lists keys in any script under a prefix (byte order, not UTF-16)', async () => {
    const kv = store();
    for (const name of ['user:日本', 'user:a', 'user:😀', 'userz']) await kv.put('acme', 'INTL', name, { value: Buffer.from('x') });
    expect((await kv.list('acme', 'INTL', { prefix: 'user:' })).keys.map((k) => k.name)).toEqual(['user:a', 'user:日本', 'user:😀']);
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

  it('refuses a value, a tenant’s bytes or keys past the limits, writing nothing, and counts key names', async () => {
    // Each 'a'..'c' entry of 8 bytes costs 8 + 2 + 64 = 74.
    const kv = store({ maxValueBytes: 8, maxTenantBytes: 300, maxKeys: 2 });
    await expect(kv.put('acme', 'NS', 'big', { value: Buffer.alloc(9) })).rejects.toThrow(KvLimitError);
    await kv.put('acme', 'NS', 'a', { value: Buffer.alloc(8) });
    await kv.put('acme', 'OTHER', 'b', { value: Buffer.alloc(8) });
    await expect(kv.put('acme', 'NS', 'c', { value: Buffer.alloc(1) })).rejects.toThrow(/keeps 2 keys/);
    await kv.delete('acme', 'OTHER', 'b');
    // A long name costs its bytes too: 2 × 100 + 64 > what is left.
    await expect(kv.put('acme', 'NS', 'k'.repeat(100), { value: Buffer.alloc(0) })).rejects.toThrow(/storage full: the tenant keeps 74 bytes of its 300/);
    // Overwriting counts the difference only.
    await kv.put('acme', 'NS', 'a', { value: Buffer.alloc(4) });
    await kv.put('acme', 'NS', 'c', { value: Buffer.alloc(8) });
    expect(await kv.get('acme', 'NS', 'c')).toBeDefined();
    await expect(kv.put('acme', 'NS', '', { value: Buffer.from('x') })).rejects.toThrow(/not allowed/);
  });
});
