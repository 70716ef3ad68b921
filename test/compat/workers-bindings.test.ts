// Workers bindings in real containers: a KV namespace (`--kv CACHE`, Cloudflare's KV API, kept in Redis per
// tenant and shared by the tenant's functions binding it) and a queue producer (`--queue-binding
// JOBS=jobs`) whose messages a consumer function receives — Cloudflare's own docs examples, as written.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestPlatform, uniqueName, waitUntil, type TestPlatform } from '../support/platform.js';

let platform: TestPlatform;

beforeAll(async () => {
  platform = await startTestPlatform();
});
afterAll(async () => {
  await platform?.stop();
});

const deployOk = (name: string, code: string, settings: Record<string, unknown> = {}) => platform.deployOk(name, code, settings);

describe('Workers bindings', { timeout: 180_000 }, () => {
  it("runs Cloudflare's KV example: put with metadata, get, getWithMetadata, list by prefix, delete", async () => {
    const writer = uniqueName('kv-writer');
    await deployOk(
      writer,
      `export default {
        async fetch(request, env) {
          const url = new URL(request.url);
          const key = url.searchParams.get('key');
          switch (request.method) {
            case 'PUT':
              await env.CACHE.put(key, await request.text(), { metadata: { by: 'writer' } });
              return new Response('stored ' + key, { status: 201 });
            case 'DELETE':
              await env.CACHE.delete(key);
              return new Response(null, { status: 204 });
            default: {
              if (!key) return Response.json(await env.CACHE.list({ prefix: url.searchParams.get('prefix') ?? '' }));
              const { value, metadata } = await env.CACHE.getWithMetadata(key);
              if (value === null) return new Response('Value not found', { status: 404 });
              return Response.json({ value, metadata });
            }
          }
        },
      };`,
      { kv: ['CACHE'] },
    );
    expect((await platform.call(writer, '?key=user:1', { method: 'PUT', body: 'ada' })).status).toBe(201);
    await platform.call(writer, '?key=user:2', { method: 'PUT', body: 'grace' });
    expect(await (await platform.call(writer, '?key=user:1')).json()).toEqual({ value: 'ada', metadata: { by: 'writer' } });
    const listed = (await (await platform.call(writer, '?prefix=user:')).json()) as { keys: Array<{ name: string }>; list_complete: boolean };
    expect(listed.keys.map((k) => k.name)).toEqual(['user:1', 'user:2']);
    expect(listed.list_complete).toBe(true);
    expect((await platform.call(writer, '?key=user:1', { method: 'DELETE' })).status).toBe(204);
    expect((await platform.call(writer, '?key=user:1')).status).toBe(404);

    // Another function of the tenant binding CACHE reads the same namespace; one without the binding has no env.CACHE.
    const reader = uniqueName('kv-reader');
    await deployOk(reader, `export default { async fetch(request, env) { return new Response(await env.CACHE.get('user:2', 'text')); } };`, { kv: ['CACHE'] });
    expect(await (await platform.call(reader)).text()).toBe('grace');
    const unbound = uniqueName('kv-none');
    await deployOk(unbound, `export default { async fetch(request, env) { return new Response(typeof env.CACHE); } };`);
    expect(await (await platform.call(unbound)).text()).toBe('undefined');
  });

  it('sends messages through a queue producer binding to the queue’s consumer', async () => {
    const queue = uniqueName('jobs');
    const consumer = uniqueName('consumer');
    await deployOk(
      consumer,
      `export default {
        async queue(batch, env) {
          for (const message of batch.messages) await env.SEEN.put('job:' + message.body.id, JSON.stringify(message.body));
        },
        async fetch(request, env) { return new Response((await env.SEEN.get('job:' + new URL(request.url).searchParams.get('id'))) ?? 'none'); },
      };`,
      { queues: [queue], kv: ['SEEN'] },
    );
    const producer = uniqueName('producer');
    await deployOk(
      producer,
      `export default {
        async fetch(request, env) {
          const id = new URL(request.url).searchParams.get('id');
          await env.JOBS.send({ id, kind: 'email' });
          await env.JOBS.sendBatch([{ body: { id: id + '-b', kind: 'batch' } }]);
          return new Response('queued ' + id, { status: 202 });
        },
      };`,
      { queueBindings: { JOBS: queue } },
    );
    expect((await platform.call(producer, '?id=42')).status).toBe(202);
    const seen = await waitUntil(
      'the consumer to receive both messages',
      async () => {
        const first = await (await platform.call(consumer, '?id=42')).text();
        const second = await (await platform.call(consumer, '?id=42-b')).text();
        return first !== 'none' && second !== 'none' ? [JSON.parse(first), JSON.parse(second)] : undefined;
      },
      60_000,
    );
    expect(seen).toEqual([
      { id: '42', kind: 'email' },
      { id: '42-b', kind: 'batch' },
    ]);
  });

  it('refuses a put past the platform’s limits inside the function, naming the limit', async () => {
    const name = uniqueName('kv-big');
    await deployOk(
      name,
      `export default { async fetch(request, env) {
         try { await env.CACHE.put('big', 'x'.repeat(2 * 1024 * 1024)); return new Response('stored'); }
         catch (err) { return new Response(err.message, { status: 507 }); } } };`,
      { kv: ['CACHE'] },
    );
    const res = await platform.call(name);
    expect(res.status, await res.clone().text()).toBe(507);
    expect(await res.text()).toMatch(/at most 1048576/);
  });

  it("runs Cloudflare's HTMLRewriter example (rewrite links to https) in a container", async () => {
    const name = uniqueName('rewriter');
    await deployOk(
      name,
      `class AttributeRewriter {
         constructor(attributeName) { this.attributeName = attributeName; }
         element(element) {
           const attribute = element.getAttribute(this.attributeName);
           if (attribute) element.setAttribute(this.attributeName, attribute.replace('http://', 'https://'));
         }
       }
       const rewriter = new HTMLRewriter().on('a', new AttributeRewriter('href')).on('img', new AttributeRewriter('src'));
       export default {
         async fetch(request) {
           const page = new Response('<html><body><a href="http://a.example/">a</a><img src="http://b.example/x.png"></body></html>', { headers: { 'content-type': 'text/html' } });
           return rewriter.transform(page);
         },
       };`,
    );
    const res = await platform.call(name);
    expect(res.status).toBe(200);
    expect(await res.text()).toBe('<html><body><a href="https://a.example/">a</a><img src="https://b.example/x.png"></body></html>');
  });
});
