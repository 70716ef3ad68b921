// Limits that hold whatever the function does: the timeout bounds the whole invocation (a response being
// written slowly included), responses have a size limit, and the gateway's memory does not follow them.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestPlatform, uniqueName, waitUntil, type TestPlatform } from '../support/platform.js';

let platform: TestPlatform;

beforeAll(async () => {
  platform = await startTestPlatform();
});
afterAll(async () => {
  await platform?.stop();
});

async function logsOf(name: string, count: number): Promise<Array<{ status: string; httpStatus: number; durationMs: number }>> {
  return waitUntil(`${count} invocation log entries of ${name}`, async () => {
    const res = await platform.api('GET', `/api/v1/functions/${name}/logs?limit=100`);
    return res.status === 200 && res.body.logs.length >= count ? res.body.logs : undefined;
  });
}

describe('limits', () => {
  it('times out a function that sends its headers and then writes slowly: 504 at its timeout, container replaced, usage recorded', async () => {
    const name = uniqueName('slow');
    // The function shares its process with the runtime, so it can take over the runtime's response.
    const code = `
import http from 'node:http';
const instance = crypto.randomUUID();
export default (req) => {
  if (new URL(req.url).searchParams.has('slow')) {
    http.ServerResponse.prototype.end = function () {
      this.write('.');
      setInterval(() => this.write('.'), 100);
      return this;
    };
  }
  return new Response(instance);
};`;
    expect((await platform.deploy(name, code, { timeoutMs: 2_000 })).status).toBe(201);
    const before = await (await platform.call(name)).text();
    const started = Date.now();
    const res = await platform.call(name, '?slow');
    const tookMs = Date.now() - started;
    expect(res.status).toBe(504);
    expect(await res.json()).toMatchObject({ error: { code: 'FUNCTION_TIMEOUT' } });
    expect(tookMs).toBeLessThan(6_000);
    // The container that went on writing is gone; a new one serves.
    const after = await (await platform.call(name)).text();
    expect(after).not.toBe(before);
    const logs = await logsOf(name, 3);
    expect(logs.map((l) => l.status)).toContain('timeout');
  });

  it('refuses a whole answer over FAAS_MAX_BODY_BYTES with 502 RESPONSE_TOO_LARGE and keeps the container', async () => {
    const name = uniqueName('big');
    const code = `
const instance = crypto.randomUUID();
export default (req) => {
  const mb = Number(new URL(req.url).searchParams.get('mb') ?? 0);
  return mb ? new Response(new Uint8Array(mb * 1024 * 1024)) : new Response(instance);
};`;
    expect((await platform.deploy(name, code, { memoryMb: 256 })).status).toBe(201);
    const before = await (await platform.call(name)).text();
    expect((await platform.call(name, '?mb=5')).status).toBe(200);
    const res = await platform.call(name, '?mb=20');
    expect(res.status).toBe(502);
    expect(await res.json()).toMatchObject({ error: { code: 'RESPONSE_TOO_LARGE' } });
    expect(await (await platform.call(name)).text()).toBe(before);
  });

  it('relays streamed answers with backpressure: three 200 MB streams at once barely move the gateway memory', async () => {
    const name = uniqueName('stream-big');
    const code = `
export default () => {
  const chunk = new Uint8Array(1024 * 1024);
  let sent = 0;
  return new Response(new ReadableStream({ async pull(c) { await new Promise((r) => setImmediate(r)); if (sent++ < 200) c.enqueue(chunk); else c.close(); } }));
};`;
    expect((await platform.deploy(name, code, { memoryMb: 256, concurrency: 3 })).status).toBe(201);
    await (await platform.call(name)).arrayBuffer();
    const rssBefore = process.memoryUsage().rss;
    let peak = rssBefore;
    const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 20);
    const sizes = await Promise.all(
      [1, 2, 3].map(async () => {
        const res = await platform.call(name);
        let bytes = 0;
        // A slow reader: backpressure must reach the function instead of piling up in the gateway.
        for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
          bytes += chunk.length;
          if (bytes % (16 * 1024 * 1024) < chunk.length) await new Promise((r) => setTimeout(r, 5));
        }
        return bytes;
      }),
    );
    clearInterval(sampler);
    expect(sizes).toEqual([200 * 1024 * 1024, 200 * 1024 * 1024, 200 * 1024 * 1024]);
    expect((peak - rssBefore) / 1024 / 1024).toBeLessThan(150);
  });
});
