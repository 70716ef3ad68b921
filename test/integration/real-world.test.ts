// Real-world functions as users write them: their own host, mount prefix, and the answers' headers.
import http from 'node:http';
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { bundleFunction } from '../../cli/bundle.js';
import { startTestPlatform, uniqueName, waitUntil, type TestPlatform } from '../support/platform.js';

let platform: TestPlatform;
/** Where the test platform listens, and the port of its public URL (FAAS_PUBLIC_URL), which functions are told. */
let port: number;
let publicPort: string;

beforeAll(async () => {
  platform = await startTestPlatform();
  port = Number(new URL(platform.url).port);
  publicPort = new URL(platform.config.publicUrl).port;
});
afterAll(async () => {
  await platform?.stop();
});

async function deploy(code: string, settings: Record<string, unknown> = {}, name = uniqueName('rw')): Promise<{ name: string; body: any }> {
  const res = await platform.deploy(name, code, settings);
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return { name, body: res.body };
}

/** A request to the gateway's address with any Host header (as a browser or curl sends for *.localhost). */
function request(
  host: string,
  path: string,
  method = 'GET',
  headers: Record<string, string> = {},
): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, path, method, headers: { ...headers, host } }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

/** Echoes the URL it was called with, the prefix header, and redirects /go to its own root. */
const URL_ECHO = `export default (req) => {
  const url = new URL(req.url);
  if (url.pathname === '/go') return Response.redirect(new URL('/', req.url), 302);
  return Response.json({ url: req.url, prefix: req.headers.get('x-forwarded-prefix') });
};`;

describe('a host per function', () => {
  it('answers at <name>.localhost at the root, sees its own URL there, and its redirects stay on it', async () => {
    const { name, body } = await deploy(URL_ECHO);
    expect(body.hostUrl).toBe(`http://${name}.localhost:${publicPort}/`);
    // A caller's own x-forwarded-prefix never reaches the function (it would steer its links).
    const root = await request(`${name}.localhost:${port}`, '/a/b?c=1', 'GET', { 'x-forwarded-prefix': '//evil.example' });
    expect(root.status).toBe(200);
    expect(JSON.parse(root.body)).toEqual({ url: `http://${name}.localhost:${publicPort}/a/b?c=1`, prefix: null });
    const redirect = await request(`${name}.localhost:${port}`, '/go');
    expect(redirect.status).toBe(302);
    expect(redirect.headers.location).toBe(`http://${name}.localhost:${publicPort}/`);
  });

  it('sends every path of a function host to the function, the API’s and the dashboard’s too', async () => {
    const { name } = await deploy(URL_ECHO);
    for (const path of ['/api/v1/functions', '/dashboard', '/metrics', `/fn/${name}`]) {
      const res = await request(`${name}.localhost:${port}`, path);
      expect(res.status, path).toBe(200);
      expect(JSON.parse(res.body).url, path).toBe(`http://${name}.localhost:${publicPort}${path}`);
    }
  });

  it('refuses an absolute-form target at a function host as at the gateway’s', async () => {
    const { name } = await deploy(URL_ECHO);
    const res = await request(`${name}.localhost:${port}`, 'http://elsewhere.example/x');
    expect(res.status).toBe(400);
    expect(JSON.parse(res.body).error.code).toBeDefined();
  });

  it('answers a tenant’s function at <name>.<tenant>.localhost', async () => {
    expect((await platform.api('POST', '/api/v1/tenants', { id: 'hostco' })).status).toBe(201);
    const token = (await platform.api('POST', '/api/v1/tenants/hostco/tokens', { name: 'ci' })).body.token as string;
    const deployed = await platform.apiAs(token, 'PUT', '/api/v1/functions/shop', { code: URL_ECHO });
    expect(deployed.status).toBe(201);
    expect(deployed.body.hostUrl).toBe(`http://shop.hostco.localhost:${publicPort}/`);
    const res = await request(`shop.hostco.localhost:${port}`, '/');
    expect(JSON.parse(res.body).url).toBe(`http://shop.hostco.localhost:${publicPort}/`);
    // The default tenant's host of the same name is another function (none here).
    expect((await request(`shop.localhost:${port}`, '/')).status).toBe(404);
  });

  it('tells a function under /fn where it is mounted (x-forwarded-prefix)', async () => {
    const { name } = await deploy(URL_ECHO);
    for (const [path, prefix] of [
      [`/fn/${name}`, `/fn/${name}`],
      [`/fn/${name}/`, `/fn/${name}`],
      [`/fn/${name}/x/y?z=1`, `/fn/${name}`],
    ] as const) {
      const res = await platform.call(name, path.slice(`/fn/${name}`.length), { headers: { 'x-forwarded-prefix': '//evil.example' } });
      expect(((await res.json()) as { prefix: string }).prefix, path).toBe(prefix);
    }
  });
});

describe('answers', () => {
  it('names the invocation on every answer, platform errors included, and gives a cold start its init time', async () => {
    const { name } = await deploy(`export default () => 'hi';`);
    const first = await platform.call(name);
    expect(first.headers.get('x-faas-invocation-id')).toMatch(/^[0-9a-f-]{36}$/);
    expect(first.headers.get('x-faas-cold-start')).toBe('true');
    expect(Number(first.headers.get('x-faas-init-ms'))).toBeGreaterThan(0);
    const warm = await platform.call(name);
    expect(warm.headers.get('x-faas-init-ms')).toBeNull();
    const missing = await platform.call(uniqueName('nobody'));
    expect(missing.status).toBe(404);
    expect(missing.headers.get('x-faas-invocation-id')).toMatch(/^[0-9a-f-]{36}$/);
    expect(((await missing.json()) as { error: { code: string } }).error.code).toBe('FUNCTION_NOT_FOUND');
  });

  it('invents no content type for answers without a body (204, 304, an empty Lambda answer)', async () => {
    const web = await deploy(`export default (req) => new Response(null, { status: new URL(req.url).searchParams.get('s') === '304' ? 304 : 204 });`);
    for (const status of [204, 304]) {
      const res = await platform.call(web.name, `?s=${status}`);
      expect(res.status).toBe(status);
      expect(res.headers.get('content-type')).toBeNull();
    }
    const lambda = await deploy(`export const handler = async () => ({ statusCode: 200 });`);
    const res = await platform.call(lambda.name);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBeNull();
    expect(await res.text()).toBe('');
  });
});

/** Sends a queue message; returns its invocation id. */
async function send(queue: string, body: unknown, headers: Record<string, string> = {}): Promise<string> {
  const res = await fetch(`${platform.url}/api/v1/queues/${queue}/messages`, {
    method: 'POST',
    headers: { authorization: `Bearer ${platform.token}`, 'content-type': 'application/json', ...headers },
    body: JSON.stringify(body),
  });
  expect(res.status).toBe(202);
  return ((await res.json()) as { messageId: string }).messageId;
}

async function finished(id: string): Promise<any> {
  return waitUntil(`job ${id} to finish`, async () => {
    const { body } = await platform.api('GET', `/api/v1/invocations/${id}`);
    return body.status === 'succeeded' || body.status === 'dead' ? body : undefined;
  });
}

describe('Lambda handlers as written for Lambda', () => {
  it('runs the export --handler names, with API Gateway REST (1.0) events when asked', async () => {
    const code = `export const hello = async (event) => ({ statusCode: 200, headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ method: event.httpMethod, path: event.path, sig: event.headers['x-hub-signature-256'], a: event.multiValueQueryStringParameters.a }) });`;
    const { name } = await deploy(code, { handler: 'hello', eventFormat: '1.0' });
    // Named as the client spelt it, as API Gateway's REST APIs pass headers (fetch sends names in lower case).
    const res = await platform.call(name, '/hook?a=1&a=2', { method: 'POST', headers: { 'x-hub-signature-256': 'sha256=1' }, body: 'x' });
    expect(await res.json()).toEqual({ method: 'POST', path: '/hook', sig: 'sha256=1', a: ['1', '2'] });
  });

  it('calls a Lambda handler exported as default with (event, context, callback)', async () => {
    const { name } = await deploy(`export default (event, context, callback) => callback(null, { statusCode: 200, body: context.awsRequestId });`);
    const res = await platform.call(name);
    expect(await res.text()).toBe(res.headers.get('x-faas-invocation-id'));
  });
});

describe('queue messages with attributes', () => {
  it('gives Lambda handlers the attributes a message was sent with', async () => {
    const queue = uniqueName('attrq');
    const code = `export const handler = async (event) => ({ attrs: event.Records.map((r) => [r.messageAttributes.Author?.stringValue, r.messageAttributes.priority?.stringValue]) });`;
    await deploy(code, { queues: [queue] });
    const id = await send(queue, { n: 1 }, { 'message-attributes': '{"Author":"ada","priority":"high"}' });
    const done = await finished(id);
    expect(done.status).toBe('succeeded');
    expect(JSON.parse(done.result.body)).toEqual({ attrs: [['ada', 'high']] });
    const refused = await fetch(`${platform.url}/api/v1/queues/${queue}/messages`, {
      method: 'POST',
      headers: { authorization: `Bearer ${platform.token}`, 'message-attributes': '{"n":1}' },
      body: 'x',
    });
    expect(refused.status).toBe(400);
    expect(((await refused.json()) as { error: { message: string } }).error.message).toMatch(/attribute "n" must be a string/);
  });
});

describe('Workers modules as written for Workers', () => {
  it('gives fetch(request, env, ctx) the function’s variables as env', async () => {
    const { name } = await deploy(
      `export default { async fetch(req, env, ctx) { ctx.waitUntil(Promise.resolve()); return new Response('pw=' + env.PASSWORD); } };`,
      {
        env: { PASSWORD: 'sesame' },
      },
    );
    expect(await (await platform.call(name)).text()).toBe('pw=sesame');
  });

  it('calls queue(batch, env, ctx) for --queue, retrying only the messages it retries', async () => {
    const queue = uniqueName('rwq');
    const code = `export default { async queue(batch, env) {
      for (const m of batch.messages) { if (m.body.flaky && m.attempts < 2) m.retry(); else m.ack(); }
    } };`;
    await deploy(code, { queues: [queue], batchSize: 2 });
    const steady = await send(queue, { flaky: false });
    const flaky = await send(queue, { flaky: true });
    expect(await finished(steady)).toMatchObject({ status: 'succeeded', attempts: 1 });
    expect(await finished(flaky)).toMatchObject({ status: 'succeeded', attempts: 2 });
  });
});

describe('clear failures', () => {
  it('refuses at deploy a module without a handler, naming what it exports', async () => {
    const res = await platform.deploy(uniqueName('nohandler'), `export const scheduled = () => 1; export const helper = 2;`);
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe('NO_HANDLER');
    expect(res.body.error.message).toMatch(/it exports scheduled, helper/);
    const named = await platform.deploy(uniqueName('nohandler'), `export const handler = () => 1;`, { handler: 'hello' });
    expect(named.status).toBe(400);
    expect(named.body.error.message).toBe('the code has no export "hello" (--handler); it exports handler');
  });

  it('tells a function without --network that tries to connect out what to change, in the error and its logs', async () => {
    const { name } = await deploy(
      `export default async () => { try { await fetch('http://example.com/'); return 'connected'; } catch (err) { return err.message; } };`,
    );
    const res = await platform.call(name);
    expect(await res.text()).toBe('fetch failed: this function has no outbound network; deploy it with --network to let it connect out');
    const logs = await waitUntil('the call in the logs', async () => {
      const { body } = await platform.api('GET', `/api/v1/functions/${name}/logs`);
      return body.logs?.length ? body.logs : undefined;
    });
    expect(logs[0].logs).toContain('deploy it with --network');
  });
});

describe('per-function settings', () => {
  /** Writes `mb` MB to /tmp and answers what happened. */
  const WRITER = `import { appendFileSync, rmSync } from 'node:fs';
export default (req) => {
  const mb = Number(new URL(req.url).searchParams.get('mb'));
  const chunk = Buffer.alloc(1024 * 1024, 1);
  try { for (let i = 0; i < mb; i++) appendFileSync('/tmp/big', chunk); return 'wrote ' + mb; }
  catch (err) { return err.code; }
  finally { rmSync('/tmp/big', { force: true }); }
};`;

  it('gives a function the /tmp it asks for (--tmp), where the platform default is too small', async () => {
    const small = await deploy(WRITER);
    expect(await (await platform.call(small.name, '?mb=100')).text()).toBe('ENOSPC');
    const large = await deploy(WRITER, { tmpMb: 200, memoryMb: 512 });
    expect(await (await platform.call(large.name, '?mb=100')).text()).toBe('wrote 100');
  });

  it('refuses a /tmp past the platform limit or not below the memory, saying why', async () => {
    const tooBig = await platform.deploy(uniqueName('tmp'), WRITER, { tmpMb: 4096, memoryMb: 8192 });
    expect(tooBig.status).toBe(400);
    expect(tooBig.body.error.message).toMatch(/FAAS_MAX_TMP_MB/);
    const noRoom = await platform.deploy(uniqueName('tmp'), WRITER, { tmpMb: 256 });
    expect(noRoom.status).toBe(400);
    expect(noRoom.body.error.message).toMatch(/held in the function's memory; raise --memory above --tmp/);
  });
});

describe('bad requests in our error shape', () => {
  it('answers a query with raw UTF-8 bytes as the function would get it, or in our error shape — never fastify’s', async () => {
    const { name } = await deploy(`export default (req) => new URL(req.url).searchParams.get('q') ?? 'none';`);
    const raw = await new Promise<string>((resolve, reject) => {
      const socket = net.connect(port, '127.0.0.1', () => {
        socket.write(
          Buffer.concat([
            Buffer.from(`GET /fn/${name}?q=`),
            Buffer.from('é', 'utf8'),
            Buffer.from(' HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n'),
          ]),
        );
      });
      let text = '';
      socket.on('data', (c) => (text += c.toString('utf8')));
      socket.on('end', () => resolve(text));
      socket.on('error', reject);
    });
    const [head, body] = raw.split('\r\n\r\n');
    const status = Number(head!.split(' ')[1]);
    if (status === 200) expect(body).toContain('é');
    else {
      expect(status).toBe(400);
      expect(JSON.parse(body!)).toMatchObject({ error: { code: expect.any(String), message: expect.any(String) } });
      expect(JSON.parse(body!)).not.toHaveProperty('statusCode');
    }
  });
});

describe('files beside the code', () => {
  it('reads included files next to the code, by import.meta.url and by __dirname, in prewarmed and fresh containers', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'faas-files-'));
    try {
      mkdirSync(path.join(dir, 'templates'));
      writeFileSync(path.join(dir, 'templates', 'page.html'), '<h1>from a file</h1>');
      // CommonJS, as many real functions are: __dirname and require.
      writeFileSync(
        path.join(dir, 'handler.js'),
        `const fs = require('node:fs'); const path = require('node:path');
exports.handler = async () => ({ statusCode: 200, body: fs.readFileSync(path.join(__dirname, 'templates', 'page.html'), 'utf8') });`,
      );
      writeFileSync(
        path.join(dir, 'web.mjs'),
        `import { readFile } from 'node:fs/promises'; export default async () => new Response(await readFile(new URL('./templates/page.html', import.meta.url), 'utf8'));`,
      );
      for (const [entry, settings] of [
        ['handler.js', {}],
        ['web.mjs', {}],
        ['web.mjs', { tmpMb: 32 }], // a /tmp of its own: a fresh container, not a prewarmed one
      ] as const) {
        const bundle = await bundleFunction(path.join(dir, entry), ['templates/**']);
        const files = Object.fromEntries([...bundle.files].map(([name, content]) => [name, content.toString('base64')]));
        const name = uniqueName('files');
        const res = await platform.apiAs(platform.token, 'PUT', `/api/v1/functions/${name}`, { code: bundle.code, files, ...settings });
        expect(res.status, JSON.stringify(res.body)).toBe(201);
        expect(await (await platform.call(name)).text(), entry).toBe('<h1>from a file</h1>');
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('refuses a file path that would leave the code directory', async () => {
    for (const bad of ['../escape.txt', '/etc/passwd', 'a/../../b', 'index.mjs']) {
      const res = await platform.apiAs(platform.token, 'PUT', `/api/v1/functions/${uniqueName('files')}`, {
        code: `export default () => 1;`,
        files: { [bad]: 'eA==' },
      });
      expect(res.status, bad).toBe(400);
      expect(res.body.error.code, bad).toMatch(/BAD_REQUEST|VALIDATION/);
    }
    // A path that is both a file and a directory: refused at deploy (it failed every container start).
    const clash = await platform.apiAs(platform.token, 'PUT', `/api/v1/functions/${uniqueName('files')}`, {
      code: `export default () => 1;`,
      files: { a: 'eA==', 'a/b': 'eA==' },
    });
    expect(clash.status).toBe(400);
    expect(clash.body.error.message).toBe('files: "a" is a file and the directory of "a/b"; a path is one or the other');
  });
});
