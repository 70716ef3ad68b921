// Anonymous callers at the HTTP edge: odd request lines, Host headers, methods, Expect and sizes are answered
// by the gateway in the API's error shape; none reaches a function, replaces its container or counts as its error.
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestPlatform, uniqueName, waitUntil, type TestPlatform } from '../support/platform.js';

let platform: TestPlatform;
let port: number;
const name = uniqueName('edge');

/** Echoes what it saw, and which container instance it runs in. */
const ECHO = `
const instance = crypto.randomUUID();
export default async (req) => {
  const body = new Uint8Array(await req.arrayBuffer());
  return Response.json({ instance, url: req.url, method: req.method, bodyBytes: body.length,
    host: req.headers.get('host'), forwardedHost: req.headers.get('x-forwarded-host'),
    expect: req.headers.get('expect'), xDrop: req.headers.get('x-drop') });
};`;

beforeAll(async () => {
  platform = await startTestPlatform({
    FAAS_MAX_BODY_BYTES: String(4 * 1024 * 1024),
    FAAS_MAX_STREAM_BYTES: String(4.5 * 1024 * 1024),
    FAAS_MAX_ASYNC_BODY_BYTES: String(4 * 1024 * 1024),
  });
  port = Number(new URL(platform.url).port);
  expect((await platform.deploy(name, ECHO)).status).toBe(201);
});
afterAll(async () => {
  await platform?.stop();
});

/** Sends raw bytes on a fresh connection; resolves with the status, headers and body of the answer. */
function raw(request: string | Buffer, waitMs = 5_000): Promise<{ status: number; head: string; body: string }> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1');
    let data = '';
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`no complete answer within ${waitMs} ms; got ${JSON.stringify(data)}`));
    }, waitMs);
    socket.on('data', (chunk) => {
      data += chunk.toString('latin1');
      // An interim 100 Continue comes before the answer.
      data = data.replace(/^HTTP\/1\.1 100 [^\r]*\r\n\r\n/, '');
      const split = data.indexOf('\r\n\r\n');
      if (split === -1) return;
      const head = data.slice(0, split);
      const length = /content-length: *(\d+)/i.exec(head);
      const body = data.slice(split + 4);
      if (length && Buffer.byteLength(body, 'latin1') < Number(length[1])) return;
      clearTimeout(timer);
      socket.destroy();
      resolve({ status: Number(head.split(' ')[1]), head, body });
    });
    socket.on('error', reject);
    socket.write(request);
  });
}

async function instance(): Promise<string> {
  return ((await (await platform.call(name)).json()) as { instance: string }).instance;
}

const errorShape = { error: { code: expect.any(String), message: expect.any(String) } };

describe('HTTP edge', () => {
  it.each([
    ['a Host that is not a host', `GET /fn/${name}/ HTTP/1.1\r\nHost: [::1\r\n\r\n`, 400],
    ['a Host with a space', `GET /fn/${name}/ HTTP/1.1\r\nHost: a b\r\n\r\n`, 400],
    ['a Host with a port out of range', `GET /fn/${name}/ HTTP/1.1\r\nHost: x:99999\r\n\r\n`, 400],
    ['an empty Host', `GET /fn/${name}/ HTTP/1.1\r\nHost: \r\n\r\n`, 400],
    ['a Host carrying a path', `GET /fn/${name}/ HTTP/1.1\r\nHost: evil.com/x?\r\n\r\n`, 400],
    ['two Host headers', `GET /fn/${name}/ HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n`, 400],
    ['no Host on HTTP/1.1', `GET /fn/${name}/ HTTP/1.1\r\n\r\n`, 400],
    ['TRACE', `TRACE /fn/${name}/ HTTP/1.1\r\nHost: localhost\r\n\r\n`, 405],
    ['TRACK', `TRACK /fn/${name}/ HTTP/1.1\r\nHost: localhost\r\n\r\n`, 400],
    ['CONNECT', `CONNECT localhost:443 HTTP/1.1\r\nHost: localhost:443\r\n\r\n`, 405],
    ['a method that is not a token', `G@T /fn/${name}/ HTTP/1.1\r\nHost: localhost\r\n\r\n`, 400],
    ['a broken request line', `GET\r\n\r\n`, 400],
    ['an absolute-form target', `GET http://x/fn/${name}/a HTTP/1.1\r\nHost: x\r\n\r\n`, 400],
    ['a URL over 8 KiB', `GET /fn/${name}/${'a'.repeat(9_000)} HTTP/1.1\r\nHost: localhost\r\n\r\n`, 414],
    ['a function name (path segment) over 100 characters', `GET /fn/${'a'.repeat(120)}/x HTTP/1.1\r\nHost: localhost\r\n\r\n`, 414],
    ['headers over 16 KiB', `GET /fn/${name}/ HTTP/1.1\r\nHost: localhost\r\nx-big: ${'a'.repeat(20_000)}\r\n\r\n`, 431],
    ['an unmeetable Expect', `POST /fn/${name}/ HTTP/1.1\r\nHost: localhost\r\nExpect: 200-ok\r\ncontent-length: 2\r\n\r\nhi`, 417],
    ['a body over the limit', `POST /fn/${name}/ HTTP/1.1\r\nHost: localhost\r\ncontent-length: ${5 * 1024 * 1024}\r\n\r\n`, 413],
    [
      'both Content-Length and Transfer-Encoding',
      `POST /fn/${name}/ HTTP/1.1\r\nHost: localhost\r\ncontent-length: 3\r\ntransfer-encoding: chunked\r\n\r\n0\r\n\r\n`,
      400,
    ],
    ['invalid percent-encoding in the path', `GET /fn/${name}/%zz HTTP/1.1\r\nHost: localhost\r\n\r\n`, 400],
    [
      'raw UTF-8 in the query',
      Buffer.concat([Buffer.from(`GET /fn/${name}/?q=`), Buffer.from('é', 'utf8'), Buffer.from(` HTTP/1.1\r\nHost: localhost\r\n\r\n`)]),
      400,
    ],
  ])('answers %s itself, and the function is unaffected', async (_what, request, status) => {
    const before = await instance();
    const answer = await raw(request);
    expect(answer.status, answer.head + answer.body).toBe(status);
    if (status !== 200) {
      expect(answer.head).toMatch(/content-type: application\/json/i);
      expect(JSON.parse(answer.body)).toEqual(errorShape);
    }
    expect(await instance()).toBe(before);
  });

  it('meets Expect: 100-continue for an upload over 1 MiB (as curl sends) without passing Expect on', async () => {
    const before = await instance();
    const body = Buffer.alloc(2 * 1024 * 1024, 7);
    const answer = await raw(
      Buffer.concat([Buffer.from(`POST /fn/${name}/up HTTP/1.1\r\nHost: localhost\r\nExpect: 100-continue\r\ncontent-length: ${body.length}\r\n\r\n`), body]),
      15_000,
    );
    expect(answer.status).toBe(200);
    expect(JSON.parse(answer.body)).toMatchObject({ bodyBytes: body.length, expect: null, instance: before });
  });

  it('runs an async call sent with Expect: 100-continue (it used to be dead-lettered)', async () => {
    const body = Buffer.alloc(1_500_000, 1);
    const answer = await raw(
      Buffer.concat([
        Buffer.from(`POST /async/fn/${name}/job HTTP/1.1\r\nHost: localhost\r\nExpect: 100-continue\r\ncontent-length: ${body.length}\r\n\r\n`),
        body,
      ]),
      15_000,
    );
    expect(answer.status, answer.body).toBe(202);
    const id = (JSON.parse(answer.body) as { invocationId: string }).invocationId;
    const done = await waitUntil('the async call to finish', async () => {
      const res = await platform.api('GET', `/api/v1/invocations/${id}`);
      return ['succeeded', 'failed', 'dead'].includes(res.body?.status) ? res.body : undefined;
    });
    expect(done.status).toBe('succeeded');
  });

  it('builds the URL a function sees from the public URL, the client host in x-forwarded-host', async () => {
    const answer = await raw(`GET /fn/${name}/a/b?c=d HTTP/1.1\r\nHost: attacker.example:8443\r\nConnection: keep-alive, x-drop\r\nx-drop: 1\r\n\r\n`);
    const seen = JSON.parse(answer.body);
    const publicUrl = new URL(platform.config.publicUrl);
    expect(seen).toMatchObject({ url: `${publicUrl.origin}/a/b?c=d`, host: publicUrl.host, forwardedHost: 'attacker.example:8443', xDrop: null });
  });

  it('serves a percent-encoded function name with the path below it intact', async () => {
    const encoded = name.replace(/^e/, '%65');
    const res = await fetch(`${platform.url}/fn/${encoded}/x?y=1`);
    expect(res.status).toBe(200);
    expect(((await res.json()) as { url: string }).url).toMatch(/\/x\?y=1$/);
  });

  it("gives the function every path, the runtime's own control paths included", async () => {
    for (const path of ['/_faas/ready', '/_faas/init']) {
      const res = await fetch(`${platform.url}/fn/${name}${path}`, {
        method: path.endsWith('init') ? 'POST' : 'GET',
        body: path.endsWith('init') ? '{}' : undefined,
      });
      expect(res.status).toBe(200);
      expect(((await res.json()) as { url: string }).url).toMatch(new RegExp(`${path}$`));
    }
  });

  it('passes a GET with a body to a web handler without failing it', async () => {
    const answer = await raw(`GET /fn/${name}/ HTTP/1.1\r\nHost: localhost\r\ncontent-length: 5\r\n\r\nhello`);
    expect(answer.status).toBe(200);
  });

  it('runs no request pipelined behind one the edge refused: the connection closes after the refusal', async () => {
    const counter = uniqueName('count');
    expect((await platform.deploy(counter, `let n = 0; export default () => String(++n);`, { maxScale: 1, concurrency: 1 })).status).toBe(201);
    const next = `GET /fn/${counter} HTTP/1.1\r\nHost: localhost\r\n\r\n`;
    for (const refused of [
      `TRACE /fn/${counter} HTTP/1.1\r\nHost: localhost\r\n\r\n`,
      `GET /fn/${counter} HTTP/1.1\r\nHost: a b\r\n\r\n`,
      `GET /fn/${'a'.repeat(120)}/x HTTP/1.1\r\nHost: localhost\r\n\r\n`,
    ]) {
      const all = await new Promise<string>((resolve, reject) => {
        const socket = net.connect(port, '127.0.0.1');
        let data = '';
        socket.on('data', (chunk) => (data += chunk.toString('latin1')));
        socket.on('close', () => resolve(data));
        socket.on('error', reject);
        socket.write(refused + next);
      });
      expect(all.match(/^HTTP\/1\.1 /gm)?.length, all).toBe(1);
      expect(all).toMatch(/^HTTP\/1\.1 4\d\d /);
    }
    // The first call the function ever ran: none of the pipelined ones did.
    expect(await (await platform.call(counter)).text()).toBe('1');
  });

  it("counted none of the rejected requests as the function's errors", async () => {
    const logs = await waitUntil('invocation logs', async () => {
      const res = await platform.api('GET', `/api/v1/functions/${name}/logs?limit=100`);
      return res.status === 200 ? res.body.logs : undefined;
    });
    expect((logs as Array<{ status: string }>).filter((l) => l.status !== 'ok')).toEqual([]);
  });
});
