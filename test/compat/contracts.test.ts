// Functions written for other platforms, deployed unchanged (or with the one documented flag) into real
// containers, and the two silent wrong answers of before: a Netlify v2 function's 401 and 405 answered as
// 200, and queue records code keyed on aws:sqs skipped. Also Lambda's environment as SDKs read it, a
// Fission function, and a result that fits no contract answered 502, never guessed.
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

describe('peer contracts', { timeout: 180_000 }, () => {
  it("runs Netlify's auth example (v2: default (request, context), export const config) with its 401 and 405", async () => {
    const name = uniqueName('netlify');
    await deployOk(
      name,
      `export default async (req, context) => {
        if (req.method !== 'POST') return new Response('Method not allowed', { status: 405 });
        const auth = req.headers.get('authorization');
        if (auth !== 'Bearer s3cret') return new Response('Unauthorized', { status: 401 });
        return Response.json({ message: 'welcome', requestId: typeof context.requestId });
      };
      export const config = { path: '/api/auth' };`,
    );
    expect((await platform.call(name)).status).toBe(405);
    const wrong = await platform.call(name, '', { method: 'POST', headers: { authorization: 'Bearer nope' } });
    expect(wrong.status).toBe(401);
    expect(await wrong.text()).toBe('Unauthorized');
    const right = await platform.call(name, '', { method: 'POST', headers: { authorization: 'Bearer s3cret' } });
    expect(await right.json()).toEqual({ message: 'welcome', requestId: 'string' });
  });

  it('refuses a two-parameter default export at deploy, naming --style, and runs it as the style chosen', async () => {
    const code = `export default async (event, context) => ({ statusCode: 200, body: JSON.stringify({ id: context.awsRequestId.length > 0, path: event.rawPath }) });`;
    const refused = await platform.deploy(uniqueName('ambiguous'), code);
    expect(refused).toMatchObject({ status: 400, body: { error: { code: 'NO_HANDLER' } } });
    expect(refused.body.error.message).toMatch(/--style lambda or --style web/);
    const name = uniqueName('lambda2');
    await deployOk(name, code, { style: 'lambda' });
    expect(await (await platform.call(name, '/x')).json()).toEqual({ id: true, path: '/x' });
  });

  it('runs a Fission function with --style fission', async () => {
    const name = uniqueName('fission');
    // Fission's Node example (module.exports = …, which \`faas deploy\` bundles into this default export).
    await deployOk(
      name,
      `export default async function (context) { return { status: 200, headers: { 'x-from': 'fission' }, body: 'hello, ' + (context.request.query.name || 'world') + '\\n' }; };`,
      {
        style: 'fission',
      },
    );
    const res = await platform.call(name, '?name=you');
    expect(res.status).toBe(200);
    expect(res.headers.get('x-from')).toBe('fission');
    expect(await res.text()).toBe('hello, you\n');
  });

  it("runs OpenWhisk's hello web action (main(params)) as it is", async () => {
    const name = uniqueName('openwhisk');
    await deployOk(
      name,
      `export function main(params) { const name = params.name || 'stranger'; return { body: { payload: 'Hello, ' + name + '!' }, statusCode: 200 }; }`,
    );
    expect(await (await platform.call(name, '?name=ow')).json()).toEqual({ payload: 'Hello, ow!' });
    const posted = await platform.call(name, '', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"name":"json"}' });
    expect(await posted.json()).toEqual({ payload: 'Hello, json!' });
  });

  it("runs Knative Functions' Node template (handle(context, body)) as it is", async () => {
    const name = uniqueName('knative');
    await deployOk(
      name,
      `const handle = async (context, body) => { context.log.info('query', context.query); if (context.method === 'POST') return { body }; return { query: context.query }; }; export { handle };`,
    );
    expect(await (await platform.call(name, '?a=1')).json()).toEqual({ query: { a: '1' } });
    const posted = await platform.call(name, '', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"n":2}' });
    expect(await posted.json()).toEqual({ n: 2 });
  });

  it("runs Vercel's Node example (req, res) with --style vercel", async () => {
    const name = uniqueName('vercel');
    await deployOk(
      name,
      `export default function handler(req, res) { const { name = 'World' } = req.query; return res.json({ message: 'Hello ' + name + '!' }); }`,
      {
        style: 'vercel',
      },
    );
    expect(await (await platform.call(name, '?name=vercel')).json()).toEqual({ message: 'Hello vercel!' });
  });

  it("runs OpenFaaS's node template handler (event, context) with --style openfaas", async () => {
    const name = uniqueName('openfaas');
    const code = `export default async (event, context) => { const result = { status: 'Received input: ' + JSON.stringify(event.body) }; return context.status(200).succeed(result); };`;
    expect((await platform.deploy(uniqueName('openfaas-guess'), code)).status).toBe(400);
    await deployOk(name, code, { style: 'openfaas' });
    const res = await platform.call(name, '', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"x":1}' });
    expect(await res.json()).toEqual({ status: 'Received input: {"x":1}' });
  });

  it("runs Cloudflare's Cache API example: caches.default keeps an answer for its max-age", async () => {
    const name = uniqueName('cfcache');
    await deployOk(
      name,
      `let made = 0;
      export default {
        async fetch(request, env, ctx) {
          const cache = caches.default;
          let response = await cache.match(request);
          if (!response) {
            made += 1;
            response = new Response('made ' + made, { headers: { 'Cache-Control': 's-maxage=60', 'x-cf-colo': String(request.cf?.colo) } });
            ctx.waitUntil(cache.put(request, response.clone()));
          }
          return response;
        },
      };`,
    );
    expect(await (await platform.call(name)).text()).toBe('made 1');
    const again = await platform.call(name);
    expect(await again.text()).toBe('made 1');
    expect(again.headers.get('x-cf-colo')).toBe('LOCAL');
  });

  it("runs Cloudflare's auth-with-headers example (crypto.subtle.timingSafeEqual)", async () => {
    const name = uniqueName('cfauth');
    await deployOk(
      name,
      `export default {
        async fetch(request, env) {
          const enc = new TextEncoder();
          const given = enc.encode(request.headers.get('X-Custom-PSK') ?? '');
          const secret = enc.encode(env.PRESHARED_AUTH_HEADER_VALUE);
          if (given.byteLength !== secret.byteLength || !crypto.subtle.timingSafeEqual(given, secret)) return new Response('Sorry, you have supplied an invalid key.', { status: 403 });
          return new Response('welcome');
        },
      };`,
      { env: { PRESHARED_AUTH_HEADER_VALUE: 'mypresharedkey' } },
    );
    expect((await platform.call(name, '', { headers: { 'X-Custom-PSK': 'wrong-key-val' } })).status).toBe(403);
    expect(await (await platform.call(name, '', { headers: { 'X-Custom-PSK': 'mypresharedkey' } })).text()).toBe('welcome');
  });

  it("answers 502 BAD_FUNCTION_RESULT, naming what came back, for a web handler returning another platform's answer", async () => {
    const name = uniqueName('shape');
    await deployOk(name, `export default async () => ({ status: 200, body: 'from fission' });`);
    const res = await platform.call(name);
    expect(res.status).toBe(502);
    const body = (await res.json()) as { error: { code: string; message: string } };
    expect(body.error.code).toBe('BAD_FUNCTION_RESULT');
    expect(body.error.message).toMatch(/\{ status, body \}.*--style fission/);
  });

  it("gives Lambda's environment: AWS_REGION (the function's own wins), function name, version, memory, initialization type, _HANDLER", async () => {
    const code = `export const handler = async () => ({ statusCode: 200, body: JSON.stringify(Object.fromEntries(['AWS_REGION', 'AWS_DEFAULT_REGION', 'AWS_LAMBDA_FUNCTION_NAME', 'AWS_LAMBDA_FUNCTION_VERSION', 'AWS_LAMBDA_FUNCTION_MEMORY_SIZE', 'AWS_LAMBDA_INITIALIZATION_TYPE', '_HANDLER', 'LAMBDA_TASK_ROOT'].map((k) => [k, process.env[k]]))) });`;
    const name = uniqueName('awsenv');
    await deployOk(name, code, { memoryMb: 256 });
    expect(await (await platform.call(name)).json()).toEqual({
      AWS_REGION: 'us-east-1',
      AWS_DEFAULT_REGION: 'us-east-1',
      AWS_LAMBDA_FUNCTION_NAME: name,
      AWS_LAMBDA_FUNCTION_VERSION: '1',
      AWS_LAMBDA_FUNCTION_MEMORY_SIZE: '256',
      AWS_LAMBDA_INITIALIZATION_TYPE: 'on-demand',
      _HANDLER: 'index.handler',
      LAMBDA_TASK_ROOT: '/fn',
    });
    const eu = uniqueName('awseu');
    await deployOk(eu, code, { env: { AWS_REGION: 'eu-west-1' } });
    expect(await (await platform.call(eu)).json()).toMatchObject({ AWS_REGION: 'eu-west-1', AWS_DEFAULT_REGION: 'eu-west-1' });
  });

  it('delivers queue messages as SQS records (eventSource aws:sqs): code keyed on it fails the message it should', async () => {
    const name = uniqueName('sqs');
    const queue = `jobs-${name.slice(-8)}`;
    // As Middy's event-normalizer and Powertools' batch processor do: only aws:sqs records are handled.
    await deployOk(
      name,
      `export const handler = async (event) => {
        const failures = [];
        for (const record of event.Records) {
          if (record.eventSource !== 'aws:sqs') continue;
          if (JSON.parse(record.body).poison) failures.push({ itemIdentifier: record.messageId });
        }
        return { batchItemFailures: failures };
      };`,
      { queues: [queue], maxAttempts: 1 },
    );
    const sent = await platform.api('POST', `/api/v1/queues/${queue}/messages`, JSON.stringify({ poison: true }));
    expect(sent.status).toBe(202);
    const dead = await waitUntil('the poison message dead-lettered', async () => {
      const { body } = await platform.api('GET', `/api/v1/dlq?function=${name}`);
      return body.deadLetters?.length > 0 ? body.deadLetters : undefined;
    });
    expect(dead).toHaveLength(1);
  });

  it('imports the AWS SDK v3 clients the runtime image carries, without bundling them (as Lambda ships them)', async () => {
    const name = uniqueName('awssdk');
    await deployOk(
      name,
      `import { S3Client } from '@aws-sdk/client-s3';
       import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
       import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
       export const handler = async () => {
         const s3 = new S3Client({});
         const docs = DynamoDBDocumentClient.from(new DynamoDBClient({}));
         return { statusCode: 200, body: JSON.stringify({ region: await s3.config.region(), send: typeof docs.send }) };
       };`,
    );
    expect(await (await platform.call(name)).json()).toEqual({ region: 'us-east-1', send: 'function' });
  });

  it('checks a redeploy’s code against the --handler kept from before, naming where it came from', async () => {
    const name = uniqueName('kept');
    await deployOk(name, `export const hello = async () => ({ statusCode: 200, body: 'v1' });`, { handler: 'hello' });
    const refused = await platform.deploy(name, `export const handler = async () => ({ statusCode: 200, body: 'v2' });`);
    expect(refused.status).toBe(400);
    expect(refused.body.error.message).toMatch(
      /no export "hello".*--handler hello is kept from the deploy of v1: give --handler default \(or another export\)/,
    );
    await deployOk(name, `export const handler = async () => ({ statusCode: 200, body: 'v2' });`, { handler: 'handler' });
    expect(await (await platform.call(name)).text()).toBe('v2');
  });
});
