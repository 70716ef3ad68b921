// Tenants end to end (real Redis, real containers): namespaces, tokens, isolation of functions, logs,
// async results, queues and usage between tenants, and quotas (containers, GB-seconds per period).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestPlatform, waitUntil, type TestPlatform } from '../support/platform.js';

let platform: TestPlatform;
let acme: string;
let globex: string;

const echo = (who: string) => `export default (req) => new Response('${who} ' + new URL(req.url).pathname);`;
const as = (token: string) => (method: string, route: string, body?: unknown) => platform.apiAs(token, method, `/api/v1${route}`, body);

async function tenantWithToken(id: string, quotas: Record<string, number> = {}): Promise<string> {
  expect((await platform.api('POST', '/api/v1/tenants', { id, ...quotas })).status).toBe(201);
  const created = await platform.api('POST', `/api/v1/tenants/${id}/tokens`, { name: 'ci' });
  expect(created.status).toBe(201);
  expect(created.body).toMatchObject({ tenant: id, name: 'ci' });
  return created.body.token as string;
}

beforeAll(async () => {
  platform = await startTestPlatform();
  acme = await tenantWithToken('acme');
  globex = await tenantWithToken('globex');
}, 120_000);

afterAll(async () => {
  await platform?.stop();
});

describe('tenants', () => {
  it('gives each tenant its own namespace: the same name is three functions at three URLs', async () => {
    expect((await platform.deploy('hello', echo('default'))).status).toBe(201);
    const deployed = await as(acme)('PUT', '/functions/hello', { code: echo('acme') });
    expect(deployed.status).toBe(201);
    expect(deployed.body).toMatchObject({ function: { name: 'hello', tenant: 'acme' }, url: `${platform.config.publicUrl}/fn/acme/hello` });
    expect((await as(globex)('PUT', '/functions/hello', { code: echo('globex') })).status).toBe(201);

    expect(await (await fetch(`${platform.url}/fn/hello/x`)).text()).toBe('default /x');
    expect(await (await fetch(`${platform.url}/fn/acme/hello/a/b?q=1`)).text()).toBe('acme /a/b');
    expect(await (await fetch(`${platform.url}/fn/globex/hello`)).text()).toBe('globex /');
    // The id form is not a second URL of the function.
    expect((await fetch(`${platform.url}/fn/acme.hello`)).status).toBe(404);

    const listed = await as(acme)('GET', '/functions');
    expect(listed.body.functions.map((f: { name: string; tenant: string }) => [f.name, f.tenant])).toEqual([['hello', 'acme']]);
    // Containers too: a tenant lists its own only, and cannot ask for another's.
    const containers = await as(acme)('GET', '/containers/list');
    expect(containers.body.containers.map((c: { tenant: string; name: string }) => [c.tenant, c.name])).toEqual([['acme', 'hello']]);
    expect((await as(acme)('GET', '/containers/list?tenant=globex')).status).toBe(403);
    const everyone = await platform.api('GET', '/api/v1/containers/list');
    expect(
      everyone.body.containers
        .filter((c: { name: string }) => c.name === 'hello')
        .map((c: { tenant: string }) => c.tenant)
        .sort(),
    ).toEqual(['acme', 'default', 'globex']);
  });

  it("never lets a tenant see, change, delete or read the logs, results or usage of another tenant's functions", async () => {
    expect((await as(acme)('PUT', '/functions/secret', { code: `export default () => { console.log('acme-only'); return 'ok'; }` })).status).toBe(201);
    expect((await fetch(`${platform.url}/fn/acme/secret`)).status).toBe(200);
    const job = await fetch(`${platform.url}/async/fn/acme/secret`, { method: 'POST' });
    expect(job.status).toBe(202);
    const { invocationId } = (await job.json()) as { invocationId: string };

    const g = as(globex);
    for (const [method, route] of [
      ['GET', '/functions/secret'],
      ['GET', '/functions/secret/logs'],
      ['DELETE', '/functions/secret'],
      ['GET', `/invocations/${invocationId}`],
      ['POST', `/dlq/${invocationId}/redrive`],
    ] as const) {
      const res = await g(method, route);
      expect([403, 404], `${method} ${route} → ${res.status}`).toContain(res.status);
    }
    for (const [method, route] of [
      ['GET', '/usage?tenant=acme'],
      ['GET', '/invoices/current?tenant=acme'],
      ['GET', '/tenants'],
      ['POST', '/tenants/globex/tokens'],
      ['GET', '/tokens'],
    ] as const) {
      const res = await g(method, route, method === 'POST' ? {} : undefined);
      expect(res.status, `${method} ${route}`).toBe(403);
      expect(res.body.error.code).toBe('FORBIDDEN');
    }
    expect((await g('GET', '/functions')).body.functions.map((f: { name: string }) => f.name)).toEqual(['hello']);

    // acme's function is untouched and its own token reads everything.
    expect((await fetch(`${platform.url}/fn/acme/secret`)).status).toBe(200);
    const logs = await as(acme)('GET', '/functions/secret/logs');
    expect(logs.body.logs[0]).toMatchObject({ fn: 'secret' });
    const status = await waitUntil('the async job', async () => {
      const res = await as(acme)('GET', `/invocations/${invocationId}`);
      return res.body.status === 'succeeded' ? res.body : undefined;
    });
    expect(status.function).toBe('secret');
  });

  it("keeps queues per tenant: another tenant's queue of the same name is not reachable and not a conflict", async () => {
    const consumer = `export default async (req) => new Response('got ' + await req.text());`;
    expect((await as(acme)('PUT', '/functions/orders', { code: consumer, queues: ['orders'] })).status).toBe(201);
    // Same queue name in globex: its own queue, no 409.
    expect((await as(globex)('PUT', '/functions/orders', { code: consumer, queues: ['orders'] })).status).toBe(201);
    const sent = await as(acme)('POST', '/queues/orders/messages', 'one');
    expect(sent.status).toBe(202);
    expect(sent.body).toMatchObject({ queue: 'orders', consumer: 'orders' });
    expect((await as(globex)('GET', `/invocations/${sent.body.messageId}`)).status).toBe(404);
    const queues = await as(acme)('GET', '/queues');
    expect(queues.body.queues).toEqual([{ queue: 'orders', consumer: 'orders', batchSize: 1 }]);
  });

  it("shows a tenant its own usage only, and the admin every tenant's", async () => {
    await fetch(`${platform.url}/fn/globex/hello`);
    const rows = async (token: string, query: string) =>
      waitUntil(`usage ${query}`, async () => {
        const res = await platform.apiAs(token, 'GET', `/api/v1/usage?${query}`);
        return res.body.rows?.length ? res.body.rows : undefined;
      });
    const own = await rows(globex, 'groupBy=tenant,function');
    expect(new Set(own.map((r: { tenant: string }) => r.tenant))).toEqual(new Set(['globex']));
    const all = await waitUntil('admin usage of both tenants', async () => {
      const res = await platform.api('GET', '/api/v1/usage?groupBy=tenant');
      const tenants = res.body.rows.map((r: { tenant: string }) => r.tenant);
      return tenants.includes('acme') && tenants.includes('globex') && tenants.includes('default') ? res.body.rows : undefined;
    });
    expect(all.length).toBe(3);
  });

  it('rejects a revoked token at once, and names clashes between tenants and default-tenant functions', async () => {
    const created = await platform.api('POST', '/api/v1/tenants/acme/tokens', { name: 'temp' });
    const token = created.body.token as string;
    expect((await as(token)('GET', '/functions')).status).toBe(200);
    expect((await platform.api('DELETE', `/api/v1/tokens/${created.body.id}`)).status).toBe(204);
    const revoked = await as(token)('GET', '/functions');
    expect(revoked.status).toBe(401);
    expect(revoked.body.error.code).toBe('UNAUTHORIZED');

    expect((await platform.api('POST', '/api/v1/tenants', { id: 'hello' })).status).toBe(409);
    expect((await platform.deploy('acme', echo('x'))).status).toBe(409);
    expect((await platform.api('POST', '/api/v1/tenants', { id: 'Bad_Id' })).status).toBe(400);
    expect((await platform.api('DELETE', '/api/v1/tenants/acme')).status).toBe(409);
  });
});

describe('callbacks', () => {
  it('refuses callback URLs to this host or link-local addresses (the API, Redis, cloud metadata) by default', async () => {
    expect((await platform.deploy('cb', `export default () => 'ok';`)).status).toBe(201);
    for (const url of ['http://127.0.0.1:6379/', 'http://localhost:8080/api/v1/functions', 'http://169.254.169.254/latest/meta-data/', 'http://[::1]/x']) {
      const res = await fetch(`${platform.url}/async/fn/cb`, { method: 'POST', headers: { 'x-callback-url': url } });
      expect(res.status, url).toBe(400);
      const body = (await res.json()) as { error: { message: string } };
      expect(body.error.message).toMatch(/FAAS_CALLBACK_ALLOW_LOCAL/);
    }
  });
});

describe('quotas', () => {
  it("refuses a deploy whose minScale exceeds the tenant's maxContainers quota with 400 naming the quota, starting nothing", async () => {
    const token = await tenantWithToken('pair', { maxContainers: 2 });
    const res = await as(token)('PUT', '/functions/warm', { code: `export default () => 'ok';`, minScale: 6 });
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe('LIMIT_EXCEEDED');
    expect(res.body.error.message).toBe("minScale 6 exceeds tenant pair's maxContainers quota (2)");
    expect((await as(token)('GET', '/functions/warm')).status).toBe(404);
    expect((await as(token)('GET', '/containers/list')).body.containers).toEqual([]);
    // Within the quota it deploys and keeps its two warm.
    expect((await as(token)('PUT', '/functions/warm', { code: `export default () => 'ok';`, minScale: 2, maxScale: 2 })).status).toBe(201);
    await waitUntil('two warm containers', async () => ((await as(token)('GET', '/containers/list')).body.containers.length === 2 ? true : undefined));
  });

  it('answers 429 QUOTA_EXCEEDED when a tenant runs its maximum of containers, after evicting its own idle ones', async () => {
    const token = await tenantWithToken('tiny', { maxContainers: 1 });
    const slow = `export default async () => { await new Promise((r) => setTimeout(r, 1500)); return 'slow'; };`;
    expect((await as(token)('PUT', '/functions/a', { code: slow })).status).toBe(201);
    expect((await as(token)('PUT', '/functions/b', { code: `export default () => 'b';` })).status).toBe(201);
    // a's container idle: b may take its place.
    expect((await fetch(`${platform.url}/fn/tiny/a`)).status).toBe(200);
    expect((await fetch(`${platform.url}/fn/tiny/b`)).status).toBe(200);
    // b's container is now the one; a runs there after b's is evicted, and while a is busy, b gets 429.
    const running = fetch(`${platform.url}/fn/tiny/a`);
    await new Promise((r) => setTimeout(r, 700));
    const refused = await fetch(`${platform.url}/fn/tiny/b`);
    expect(refused.status).toBe(429);
    expect(((await refused.json()) as { error: { code: string } }).error.code).toBe('QUOTA_EXCEEDED');
    expect((await running).status).toBe(200);
  });

  it('answers 429 QUOTA_EXCEEDED once a tenant has used its GB-seconds for the period, on sync and async calls', async () => {
    const token = await tenantWithToken('metered', { maxGbSecondsPerPeriod: 0.05 });
    // 1024 MB × 100 ms = 0.1 GB-s per call: one call is past the quota.
    const code = `export default async () => { await new Promise((r) => setTimeout(r, 100)); return 'ok'; };`;
    expect((await as(token)('PUT', '/functions/f', { code, memoryMb: 1024 })).status).toBe(201);
    expect((await fetch(`${platform.url}/fn/metered/f`)).status).toBe(200);
    const refused = await waitUntil('the quota to apply', async () => {
      const res = await fetch(`${platform.url}/fn/metered/f`);
      return res.status === 429 ? res : undefined;
    });
    const body = (await refused.json()) as { error: { code: string; message: string } };
    expect(body.error.code).toBe('QUOTA_EXCEEDED');
    expect(body.error.message).toMatch(/metered.*GB-seconds/);
    expect((await fetch(`${platform.url}/async/fn/metered/f`, { method: 'POST' })).status).toBe(429);
    // Queue messages are accepted, but not run past the quota: the attempt fails with the quota's code.
    expect((await as(token)('PUT', '/functions/consumer', { code, queues: ['work'], maxAttempts: 1 })).status).toBe(201);
    const sent = await as(token)('POST', '/queues/work/messages', 'job');
    expect(sent.status).toBe(202);
    const dead = await waitUntil('the message to be dead-lettered', async () => {
      const res = await as(token)('GET', `/invocations/${sent.body.messageId}`);
      return res.body.status === 'dead' ? res.body : undefined;
    });
    expect(dead.error.code).toBe('QUOTA_EXCEEDED');
    // Other tenants are not affected; raising the quota lets the tenant run again.
    expect((await fetch(`${platform.url}/fn/acme/hello`)).status).toBe(200);
    expect((await platform.api('PATCH', '/api/v1/tenants/metered', { maxGbSecondsPerPeriod: 1000 })).status).toBe(200);
    await waitUntil('the raised quota', async () => ((await fetch(`${platform.url}/fn/metered/f`)).status === 200 ? true : undefined));
  });
});
