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

  it('refuses a response over the size limit with 502 RESPONSE_TOO_LARGE, keeps the container, and the gateway does not buffer it', async () => {
    const name = uniqueName('big');
    const code = `
const instance = crypto.randomUUID();
export default (req) => {
  const mb = Number(new URL(req.url).searchParams.get('mb') ?? 0);
  if (!mb) return new Response(instance);
  // Streamed (no content-length): the invoker finds out only as it reads.
  const chunk = new Uint8Array(1024 * 1024);
  let sent = 0;
  return new Response(new ReadableStream({ pull(c) { if (sent++ < mb) c.enqueue(chunk); else c.close(); } }));
};`;
    expect((await platform.deploy(name, code, { memoryMb: 512 })).status).toBe(201);
    const before = await (await platform.call(name)).text();
    const ok = await platform.call(name, '?mb=5');
    expect(ok.status).toBe(200);
    expect((await ok.arrayBuffer()).byteLength).toBe(5 * 1024 * 1024);
    const rssBefore = process.memoryUsage().rss;
    // One after another, so the same container serves them all.
    for (let i = 0; i < 3; i++) {
      const res = await platform.call(name, '?mb=200');
      expect(res.status).toBe(502);
      expect(await res.json()).toMatchObject({ error: { code: 'RESPONSE_TOO_LARGE' } });
    }
    const grownMb = (process.memoryUsage().rss - rssBefore) / 1024 / 1024;
    expect(grownMb).toBeLessThan(150);
    expect(await (await platform.call(name)).text()).toBe(before);
  });
});
