// Streaming through the gateway: answers a function is still writing reach the caller chunk by chunk (web
// streams, SSE, Lambda response streaming), with the timeout, the size limit, client aborts and metering.
import http from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestPlatform, uniqueName, waitUntil, type TestPlatform } from '../support/platform.js';

let platform: TestPlatform;

beforeAll(async () => {
  platform = await startTestPlatform({ FAAS_MAX_STREAM_BYTES: String(64 * 1024 * 1024) });
});
afterAll(async () => {
  await platform?.stop();
});

async function deploy(code: string, settings: Record<string, unknown> = {}): Promise<string> {
  const name = uniqueName('stream');
  const res = await platform.deploy(name, code, settings);
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return name;
}

/** Reads a response body, noting when each chunk arrived (ms since the request was sent). */
async function timedChunks(res: Response, sentAt: number): Promise<Array<{ at: number; text: string }>> {
  const chunks: Array<{ at: number; text: string }> = [];
  const decoder = new TextDecoder();
  for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) chunks.push({ at: Date.now() - sentAt, text: decoder.decode(chunk) });
  return chunks;
}

async function logsOf(name: string, count: number): Promise<Array<{ status: string; httpStatus: number; durationMs: number }>> {
  return waitUntil(`${count} log entries of ${name}`, async () => {
    const res = await platform.api('GET', `/api/v1/functions/${name}/logs?limit=100`);
    return res.status === 200 && res.body.logs.length >= count ? res.body.logs : undefined;
  });
}

const TICKER = `
export default (req) => {
  const n = Number(new URL(req.url).searchParams.get('n') ?? 5);
  let i = 0;
  return new Response(new ReadableStream({
    async pull(c) {
      if (i === n) return c.close();
      await new Promise((r) => setTimeout(r, 200));
      c.enqueue(new TextEncoder().encode('tick ' + i++ + '\\n'));
    },
  }), { headers: { 'content-type': 'text/plain' } });
};`;

describe('streaming answers', () => {
  it('relays a ReadableStream chunk by chunk as the function writes it, and bills to the last byte', async () => {
    const name = await deploy(TICKER);
    await platform.call(name, '?n=1');
    const sentAt = Date.now();
    const res = await platform.call(name, '?n=5');
    const headersAt = Date.now() - sentAt;
    expect(res.status).toBe(200);
    expect(res.headers.get('transfer-encoding')).toBe('chunked');
    const chunks = await timedChunks(res, sentAt);
    expect(chunks.map((c) => c.text).join('')).toBe('tick 0\ntick 1\ntick 2\ntick 3\ntick 4\n');
    // Headers well before the first tick (written 200 ms into the call); ticks apart, not all at the end.
    // (Compared with each other, not with a fixed bound: a busy machine delays them all alike.)
    expect(chunks[0]!.at - headersAt).toBeGreaterThan(50);
    expect(chunks.length).toBeGreaterThanOrEqual(3);
    expect(chunks[0]!.text).not.toContain('tick 4');
    const [latest] = await logsOf(name, 2);
    expect(latest!.status).toBe('ok');
    expect(latest!.durationMs).toBeGreaterThan(900);
  });

  it('streams server-sent events through a TransformStream', async () => {
    const name = await deploy(`
export default () => {
  const { readable, writable } = new TransformStream();
  const writer = writable.getWriter();
  (async () => {
    for (let i = 0; i < 3; i++) {
      await writer.write(new TextEncoder().encode('data: ' + i + '\\n\\n'));
      await new Promise((r) => setTimeout(r, 150));
    }
    await writer.close();
  })();
  return new Response(readable, { headers: { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' } });
};`);
    await (await platform.call(name)).text();
    const sentAt = Date.now();
    const res = await platform.call(name);
    expect(res.headers.get('content-type')).toBe('text/event-stream');
    const chunks = await timedChunks(res, sentAt);
    expect(chunks.map((c) => c.text).join('')).toBe('data: 0\n\ndata: 1\n\ndata: 2\n\n');
    // Event by event: the first arrived before the last was written (150 ms apart), not all at the end.
    expect(chunks.length).toBeGreaterThanOrEqual(2);
    expect(chunks[0]!.text).not.toContain('data: 2');
  });

  it('streams a Lambda handler wrapped in awslambda.streamifyResponse with HttpResponseStream.from', async () => {
    const name = await deploy(`
export const handler = awslambda.streamifyResponse(async (event, responseStream, context) => {
  const stream = awslambda.HttpResponseStream.from(responseStream, { statusCode: 201, headers: { 'content-type': 'text/plain', 'x-request': context.awsRequestId } });
  for (let i = 0; i < 3; i++) {
    stream.write('part ' + i + ' of ' + event.rawPath + '\\n');
    await new Promise((r) => setTimeout(r, 150));
  }
  stream.end();
});`);
    await (await platform.call(name, '/x')).text();
    const sentAt = Date.now();
    const res = await platform.call(name, '/x');
    expect(res.status).toBe(201);
    expect(res.headers.get('x-request')).toBe(res.headers.get('x-faas-invocation-id'));
    const chunks = await timedChunks(res, sentAt);
    expect(chunks.map((c) => c.text).join('')).toBe('part 0 of /x\npart 1 of /x\npart 2 of /x\n');
    expect(chunks.length).toBeGreaterThanOrEqual(2);
    expect(chunks[0]!.text).not.toContain('part 2');
  });

  it('aborts the function when the caller goes away (request.signal), and keeps the container', async () => {
    const name = await deploy(
      `
const instance = crypto.randomUUID();
let aborted = 0;
export default (req) => {
  if (new URL(req.url).searchParams.has('count')) return new Response(instance + ' ' + aborted);
  req.signal.addEventListener('abort', () => aborted++);
  return new Response(new ReadableStream({
    async pull(c) { await new Promise((r) => setTimeout(r, 50)); c.enqueue(new TextEncoder().encode('x')); },
  }));
};`,
      // One container: a count asked while the aborted stream still holds it waits for it (on a loaded machine
      // the abort lands late), rather than starting a second container the later counts may keep going to.
      { maxScale: 1 },
    );
    const [before] = (await (await platform.call(name, '?count')).text()).split(' ');
    const controller = new AbortController();
    const res = await platform.call(name, '', { signal: controller.signal });
    const reader = res.body!.getReader();
    await reader.read();
    controller.abort();
    const seen = await waitUntil(
      'the function to see the abort',
      async () => {
        const [instance, count] = (await (await platform.call(name, '?count')).text()).split(' ');
        return Number(count) >= 1 ? instance : undefined;
      },
      // Generous: on a loaded machine the abort reaches the function late, never not at all.
      60_000,
      100,
    );
    expect(seen).toBe(before);
  });

  it('ends a stream at the function timeout: the caller sees an incomplete answer, the container is replaced', async () => {
    const name = await deploy(TICKER, { timeoutMs: 1_000 });
    await platform.call(name, '?n=1');
    const res = await platform.call(name, '?n=50');
    expect(res.status).toBe(200);
    await expect(res.text()).rejects.toThrow();
    const logs = await logsOf(name, 2);
    expect(logs[0]!.status).toBe('timeout');
  });

  it('cuts a stream past the stream size limit', async () => {
    const name = await deploy(
      `
export default () => {
  const mb = new Uint8Array(1024 * 1024);
  let sent = 0;
  return new Response(new ReadableStream({ async pull(c) { await new Promise((r) => setImmediate(r)); if (sent++ < 80) c.enqueue(mb); else c.close(); } }));
};`,
      { memoryMb: 256 },
    );
    const res = await platform.call(name);
    await expect(res.arrayBuffer()).rejects.toThrow();
    const [latest] = await logsOf(name, 1);
    expect(latest!.status).toBe('function_error');
  });

  it('answers HEAD with the headers and length a GET would have', async () => {
    const name = await deploy(`export default () => new Response('hello world', { headers: { 'content-type': 'text/plain', 'x-kind': 'greeting' } });`);
    const head = await new Promise<http.IncomingMessage>((resolve, reject) => {
      http.request(`${platform.url}/fn/${name}`, { method: 'HEAD' }, resolve).on('error', reject).end();
    });
    expect(head.statusCode).toBe(200);
    expect(head.headers['content-length']).toBe('11');
    expect(head.headers['x-kind']).toBe('greeting');
    head.resume();
  });

  it("answers HEAD on a streamed answer with its status and headers, not as the function's error", async () => {
    const name = await deploy(TICKER);
    const head = await new Promise<http.IncomingMessage>((resolve, reject) => {
      http.request(`${platform.url}/fn/${name}?n=2`, { method: 'HEAD' }, resolve).on('error', reject).end();
    });
    expect(head.statusCode).toBe(200);
    expect(head.headers['content-type']).toBe('text/plain');
    head.resume();
    const [latest] = await logsOf(name, 1);
    expect(latest!.status).toBe('ok');
  });
});

describe('invocation logs', () => {
  it('keeps what a function writes to stdout and stderr directly (process streams, fs writes to fds 1 and 2), and the stack of a throw', async () => {
    const name = await deploy(`
import fs from 'node:fs';
import { writeSync } from 'node:fs';
export default (req) => {
  process.stdout.write('raw stdout line\\n');
  process.stderr.write(Buffer.from('raw stderr line\\n'));
  fs.writeSync(1, JSON.stringify({ level: 30, msg: 'pino-style line' }) + '\\n');
  writeSync(2, 'imported writeSync line\\n');
  console.log('console line');
  if (new URL(req.url).searchParams.has('throw')) throw new TypeError('bad input here');
  return 'ok';
};`);
    expect(await (await platform.call(name)).text()).toBe('ok');
    expect((await platform.call(name, '?throw')).status).toBe(500);
    const logs = (await waitUntil('two log entries', async () => {
      const res = await platform.api('GET', `/api/v1/functions/${name}/logs?limit=10`);
      return res.body.logs.length >= 2 ? res.body.logs : undefined;
    })) as Array<{ logs: string; status: string }>;
    const ok = logs.find((l) => l.status === 'ok')!;
    for (const line of ['raw stdout line', 'raw stderr line', '"msg":"pino-style line"', 'imported writeSync line', 'console line'])
      expect(ok.logs).toContain(line);
    // console output kept once, not twice.
    expect(ok.logs.split('console line').length).toBe(2);
    const failed = logs.find((l) => l.status === 'function_error')!;
    expect(failed.logs).toMatch(/TypeError: bad input here\n\s+at /);
  });
});

describe('streamed uploads', () => {
  it('relays a 50 MB upload to a web handler as it arrives: the function hashes it, the gateway never holds it', async () => {
    const name = await deploy(
      `
import { createHash } from 'node:crypto';
export default async (req) => {
  const hash = createHash('sha256');
  let bytes = 0;
  for await (const chunk of req.body) { hash.update(chunk); bytes += chunk.length; }
  return Response.json({ bytes, sha256: hash.digest('hex') });
};`,
      { memoryMb: 128 },
    );
    await platform.call(name, '', { method: 'POST', body: 'warm' });
    const chunk = Buffer.alloc(1024 * 1024, 7);
    const total = 50;
    const expected = (await import('node:crypto')).createHash('sha256');
    for (let i = 0; i < total; i++) expected.update(chunk);
    const rssBefore = process.memoryUsage().rss;
    let peak = rssBefore;
    const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 20);
    const answer = await new Promise<string>((resolve, reject) => {
      const req = http.request(
        `${platform.url}/fn/${name}`,
        { method: 'POST', headers: { 'content-type': 'application/octet-stream', 'content-length': String(total * chunk.length) } },
        (res) => {
          let text = '';
          res.on('data', (c: Buffer) => (text += c.toString()));
          res.on('end', () => resolve(text));
        },
      );
      req.on('error', reject);
      let sent = 0;
      const pump = () => {
        while (sent < total) {
          sent++;
          if (!req.write(chunk)) return void req.once('drain', pump);
        }
        req.end();
      };
      pump();
    });
    clearInterval(sampler);
    expect(JSON.parse(answer)).toEqual({ bytes: total * chunk.length, sha256: expected.digest('hex') });
    // The container's memory is 128 MB: it could not have held the upload either.
    expect((peak - rssBefore) / 1024 / 1024).toBeLessThan(40);
  });
});

describe('uploads that must not hold a container', () => {
  it('refuses a streamed upload to a Lambda handler (its event holds the body whole) with 413, unread and unbilled', async () => {
    const name = await deploy(`export const handler = async (event) => ({ statusCode: 200, body: String(event.body?.length ?? 0) });`);
    expect(await (await platform.call(name, '', { method: 'POST', body: 'small' })).text()).toBe('5');
    const res = await platform.call(name, '', { method: 'POST', body: Buffer.alloc(8 * 1024 * 1024) });
    expect(res.status).toBe(413);
    expect(await res.json()).toMatchObject({ error: { code: 'PAYLOAD_TOO_LARGE' } });
    expect(await (await platform.call(name, '', { method: 'POST', body: 'again' })).text()).toBe('5');
    const logs = await logsOf(name, 2);
    expect(logs.every((l) => l.status === 'ok')).toBe(true);
  });

  it('ends an upload sent a byte at a time at the function timeout', async () => {
    const name = await deploy(`export default async (req) => new Response(String((await req.arrayBuffer()).byteLength));`, { timeoutMs: 1_500 });
    await platform.call(name, '', { method: 'POST', body: 'warm' });
    const started = Date.now();
    const status = await new Promise<number>((resolve, reject) => {
      const req = http.request(`${platform.url}/fn/${name}`, { method: 'POST', headers: { 'content-length': String(7 * 1024 * 1024) } }, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      });
      req.on('error', () => resolve(-1));
      const timer = setInterval(() => req.write('x'), 200);
      req.on('close', () => clearInterval(timer));
      setTimeout(() => {
        clearInterval(timer);
        req.destroy();
        reject(new Error('no answer within 10 s'));
      }, 10_000);
    });
    expect([504, -1]).toContain(status);
    expect(Date.now() - started).toBeLessThan(5_000);
  });

  it("drops a function's own x-faas-* headers (it cannot speak the platform's protocol)", async () => {
    const name = await deploy(
      `export default () => new Response('fine', { headers: { 'x-faas-error': 'init', 'x-faas-log-result': 'bm9wZQ==', 'x-mine': 'kept' } });`,
    );
    const res = await platform.call(name);
    expect(res.status).toBe(200);
    expect(await res.text()).toBe('fine');
    expect(res.headers.get('x-mine')).toBe('kept');
  });
});
