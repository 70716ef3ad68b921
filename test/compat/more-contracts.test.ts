// More peers' functions, deployed with `faas deploy` as they are (or with their one documented flag) into
// real containers: Azure Functions v4 (app.http, `@azure/functions` resolved by faas deploy) and v3
// (--style azure), Vercel's route handlers (export function GET/POST) and a Knative function answering
// CloudEvents with a CloudEvent.
import { request as httpRequest } from 'node:http';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildCli, cliEnv, runCli } from '../support/cli.js';
import { startTestPlatform, uniqueName, type TestPlatform } from '../support/platform.js';

let platform: TestPlatform;
let cli: string;

beforeAll(async () => {
  [platform, cli] = await Promise.all([startTestPlatform(), buildCli('more-contracts')]);
});
afterAll(async () => {
  await platform?.stop();
});

const faas = (...args: string[]) => runCli(cli, cliEnv(platform.url, platform.token), args);
const fixture = (...parts: string[]) => path.join('test', 'compat', 'fixtures', ...parts);

const deployOk = (name: string, code: string, settings: Record<string, unknown> = {}) => platform.deployOk(name, code, settings);

describe('Azure Functions', { timeout: 180_000 }, () => {
  it('runs the v4 quickstart (app.http) as it is, with a routed second function, and its 405', async () => {
    const name = uniqueName('azure4');
    const deployed = await faas('deploy', fixture('azure-v4', 'src', 'functions', 'httpTrigger1.js'), '--name', name);
    expect(deployed.code, deployed.stderr).toBe(0);
    expect(await (await platform.call(name, '/api/httpTrigger1?name=Azure')).text()).toBe('Hello, Azure!');
    expect(await (await platform.call(name, '/api/httpTrigger1', { method: 'POST', body: 'body' })).text()).toBe('Hello, body!');
    expect(await (await platform.call(name, '/api/products/42')).json()).toEqual({ id: 42, name: 'product 42' });
    expect((await platform.call(name, '/api/products/42', { method: 'POST' })).status).toBe(405);
    expect((await platform.call(name, '/api/nothing')).status).toBe(404);
  });

  it('runs the v3 HTTP template with --style azure, and refuses it without naming the choice', async () => {
    const refused = await faas('deploy', fixture('azure-v3', 'HttpTrigger', 'index.js'), '--name', uniqueName('azure3x'));
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toMatch(/--style azure/);
    const name = uniqueName('azure3');
    const deployed = await faas('deploy', fixture('azure-v3', 'HttpTrigger', 'index.js'), '--name', name, '--style', 'azure');
    expect(deployed.code, deployed.stderr).toBe(0);
    expect(await (await platform.call(name, '?name=v3')).text()).toBe('Hello, v3. This HTTP triggered function executed successfully.');
    const posted = await platform.call(name, '', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"name":"json"}' });
    expect(await posted.text()).toBe('Hello, json. This HTTP triggered function executed successfully.');
  });
});

describe('Vercel route handlers and Knative CloudEvents', { timeout: 180_000 }, () => {
  it("runs Vercel's Web function (export function GET / POST) with its 405", async () => {
    const name = uniqueName('vercelweb');
    await deployOk(
      name,
      `export function GET(request) { return new Response('Hello from ' + new URL(request.url).pathname); }
       export async function POST(request) { const body = await request.json(); return Response.json({ received: body }, { status: 201 }); }`,
    );
    expect(await (await platform.call(name, '/api/hello')).text()).toBe('Hello from /api/hello');
    const posted = await platform.call(name, '', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"a":1}' });
    expect([posted.status, await posted.json()]).toEqual([201, { received: { a: 1 } }]);
    const put = await platform.call(name, '', { method: 'PUT' });
    expect([put.status, put.headers.get('allow')]).toEqual([405, 'GET, POST, HEAD, OPTIONS']);
  });

  it("streams a Vercel Node function's res.write as it writes (server-sent events)", async () => {
    const name = uniqueName('vercelsse');
    await deployOk(
      name,
      `export default function handler(req, res) {
         res.setHeader('Content-Type', 'text/event-stream');
         let n = 0;
         const tick = () => { res.write('data: ' + n + '\\n\\n'); if (++n === 3) res.end(); else setTimeout(tick, 20); };
         tick();
       }`,
      { style: 'vercel' },
    );
    const res = await platform.call(name);
    expect(res.headers.get('content-type')).toBe('text/event-stream');
    expect(res.headers.get('content-length')).toBeNull();
    expect(await res.text()).toBe('data: 0\n\ndata: 1\n\ndata: 2\n\n');
  });

  it("answers a CloudEvent with a CloudEvent (Knative's CloudEvents template)", async () => {
    const name = uniqueName('knativece');
    await deployOk(
      name,
      `const handle = async (context, event) => {
         context.log.info('received', event.type);
         return { specversion: '1.0', id: 'reply-1', source: 'function.eventViewer', type: 'echo', data: { message: event.data.message, from: context.cloudevent.source } };
       };
       export { handle };`,
    );
    const res = await platform.call(name, '', {
      method: 'POST',
      headers: { 'ce-specversion': '1.0', 'ce-id': 'abc', 'ce-source': '/sender', 'ce-type': 'greeting', 'content-type': 'application/json' },
      body: '{"message":"hi"}',
    });
    expect(res.status).toBe(200);
    expect(res.headers.get('ce-type')).toBe('echo');
    expect(res.headers.get('ce-source')).toBe('function.eventViewer');
    expect(res.headers.get('ce-id')).toBe('reply-1');
    expect(await res.json()).toEqual({ message: 'hi', from: '/sender' });
  });
});

/** A request with header names spelt as given (fetch would lower-case them, as any HTTP/2 client does). */
function rawCall(url: string, headers: Record<string, string>, body: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(url, { method: 'POST', headers }, (res) => {
      let text = '';
      res.on('data', (d: Buffer) => (text += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

describe('Lambda REST (1.0) events', { timeout: 180_000 }, () => {
  it("give header names in the client's spelling, as a GitHub webhook handler reads them (X-GitHub-Event)", async () => {
    const name = uniqueName('rest1');
    await deployOk(
      name,
      `export const handler = async (event) => {
         const kind = event.headers['X-GitHub-Event'];
         if (!kind) return { statusCode: 400, body: 'not a GitHub event: ' + Object.keys(event.headers).join(',') };
         return { statusCode: 200, body: kind + ' ' + JSON.parse(event.body).action };
       };`,
      { eventFormat: '1.0' },
    );
    const res = await rawCall(`${platform.url}/fn/${name}`, { 'Content-Type': 'application/json', 'X-GitHub-Event': 'issues' }, '{"action":"opened"}');
    expect(res).toEqual({ status: 200, body: 'issues opened' });
  });
});
