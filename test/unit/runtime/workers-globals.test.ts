// Workers' globals a self-hosted runtime provides: the Cache API in the container's memory, Cloudflare's
// constant-time comparison, and request.cf with what this edge knows.
import { describe, expect, it } from 'vitest';
import { adapt } from '../../../runtime-images/node/src/handler.js';
import { memoryCaches, subtleTimingSafeEqual } from '../../../runtime-images/node/src/workers-globals.js';
import type { IncomingInvocation } from '../../../runtime-images/node/src/lambda.js';

describe('caches', () => {
  it('keeps a cacheable GET answer for its max-age, apart per cache name, and deletes on request', async () => {
    let now = 1_000_000;
    const caches = memoryCaches(() => now);
    const url = 'https://h/page';
    await caches.default.put(url, new Response('hello', { headers: { 'cache-control': 'max-age=60', 'x-a': '1' } }));
    const hit = await caches.default.match(new Request(url));
    expect(await hit?.text()).toBe('hello');
    expect(hit?.headers.get('x-a')).toBe('1');
    // A second read gets the body again (each match is a fresh Response).
    expect(await (await caches.default.match(url))?.text()).toBe('hello');
    expect(await (await caches.open('other')).match(url)).toBeUndefined();
    now += 61_000;
    expect(await caches.default.match(url)).toBeUndefined();
    await caches.default.put(url, new Response('again', { headers: { 'cache-control': 's-maxage=5' } }));
    expect(await caches.default.delete(url)).toBe(true);
    expect(await caches.default.match(url)).toBeUndefined();
  });

  it('stores nothing it may not (no-store, private, no lifetime) and refuses what the API refuses', async () => {
    const caches = memoryCaches();
    await caches.default.put('https://h/a', new Response('x', { headers: { 'cache-control': 'no-store, max-age=60' } }));
    await caches.default.put('https://h/b', new Response('x'));
    expect(await caches.default.match('https://h/a')).toBeUndefined();
    expect(await caches.default.match('https://h/b')).toBeUndefined();
    await expect(caches.default.put(new Request('https://h/c', { method: 'POST' }), new Response('x'))).rejects.toThrow(TypeError);
  });
});

describe('crypto.subtle.timingSafeEqual', () => {
  it('compares bytes, and throws on different lengths as Cloudflare does', () => {
    const enc = new TextEncoder();
    expect(subtleTimingSafeEqual(enc.encode('token'), enc.encode('token'))).toBe(true);
    expect(subtleTimingSafeEqual(enc.encode('token'), enc.encode('tokeN'))).toBe(false);
    expect(() => subtleTimingSafeEqual(enc.encode('a'), enc.encode('ab'))).toThrow(TypeError);
  });
});

describe('request.cf', () => {
  it('is there for a Workers fetch, with what a self-hosted edge can fill, and absent fields read as undefined', async () => {
    const inv: IncomingInvocation = {
      method: 'GET',
      path: '/',
      rawQuery: '',
      headers: { host: 'h', 'accept-encoding': 'gzip' },
      body: Buffer.alloc(0),
      invocationId: 'i',
      trigger: 'http',
      context: {},
      receivedAt: 0,
    };
    const invoke = adapt(
      { default: { fetch: (req: Request & { cf?: Record<string, unknown> }) => Response.json({ cf: req.cf, country: req.cf?.country ?? null }) } },
      { name: 'f', version: '1', memoryMb: 128 },
    );
    const res = await invoke(inv, { deadline: Date.now() + 1000 });
    expect(JSON.parse(res.body.toString())).toEqual({
      cf: { colo: 'LOCAL', httpProtocol: 'HTTP/1.1', clientAcceptEncoding: 'gzip', requestPriority: '' },
      country: null,
    });
  });
});
