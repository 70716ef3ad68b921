// Past one machine: a gateway and two invokers, apart, sharing one Redis.
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../platform/config.js';
import { startPlatform, type RunningPlatform } from '../../platform/start-platform.js';
import { requireDocker, startRedis, type TestRedis } from '../support/services.js';
import { uniqueName } from '../support/platform.js';
import { placeFunction } from '../../invoker/remote/placement.js';

let redis: TestRedis;
const dirs: string[] = [];
const running: RunningPlatform[] = [];
let gateway: RunningPlatform;
const token = `dist-${randomUUID()}`;
const prefix = `dist-${randomUUID().slice(0, 8)}:`;

function configFor(role: string, id: string) {
  const dataDir = mkdtempSync(path.join(os.tmpdir(), `faas-${role}-`));
  dirs.push(dataDir);
  return loadConfig({
    REDIS_URL: redis.url,
    FAAS_REDIS_PREFIX: prefix,
    FAAS_TOKEN: token,
    FAAS_DATA_DIR: dataDir,
    FAAS_ROLE: role,
    FAAS_INVOKER_ID: id,
    FAAS_LOG_LEVEL: 'warn',
  });
}

beforeAll(async () => {
  await requireDocker();
  redis = await startRedis();
  for (const id of ['invoker-a', 'invoker-b']) {
    running.push(await startPlatform(configFor('invoker', `${prefix}${id}`), { invokerPort: 0 }));
  }
  gateway = await startPlatform(configFor('gateway', 'gw'), { port: 0 });
  running.push(gateway);
});

afterAll(async () => {
  for (const p of running.reverse()) await p.close().catch(() => {});
  await redis?.stop();
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

const api = (method: string, route: string, body?: unknown) =>
  fetch(`${gateway.url}/api/v1${route}`, {
    method,
    headers: { authorization: `Bearer ${token}`, ...(body ? { 'content-type': 'application/json' } : {}) },
    ...(body ? { body: JSON.stringify(body) } : {}),
  });

describe('gateway with remote invokers', () => {
  it('deploys through the gateway and runs calls on an invoker, warm on the same one', async () => {
    const name = uniqueName('dist');
    const code = `const instance = crypto.randomUUID(); export default () => new Response(instance);`;
    expect((await api('PUT', `/functions/${name}`, { code })).status).toBe(201);
    const first = await fetch(`${gateway.url}/fn/${name}`);
    expect(first.status).toBe(200);
    expect(first.headers.get('x-faas-cold-start')).toBe('true');
    const instance = await first.text();
    for (let i = 0; i < 3; i++) {
      const res = await fetch(`${gateway.url}/fn/${name}`);
      expect(res.headers.get('x-faas-cold-start')).toBe('false');
      expect(await res.text()).toBe(instance);
    }
  });

  it('streams an answer through the gateway from a remote invoker as the function writes it, and aborts it when the caller leaves', async () => {
    const name = uniqueName('dist-stream');
    const code = `
let aborted = 0;
export default (req) => {
  const q = new URL(req.url).searchParams;
  if (q.has('count')) return new Response(String(aborted));
  req.signal.addEventListener('abort', () => aborted++);
  const n = Number(q.get('n') ?? 1e9);
  let i = 0;
  return new Response(new ReadableStream({
    async pull(c) {
      if (i === n) return c.close();
      await new Promise((r) => setTimeout(r, 150));
      c.enqueue(new TextEncoder().encode('tick ' + i++ + '\\n'));
    },
  }));
};`;
    expect((await api('PUT', `/functions/${name}`, { code, concurrency: 4 })).status).toBe(201);
    await (await fetch(`${gateway.url}/fn/${name}?n=1`)).text();
    const sentAt = Date.now();
    const res = await fetch(`${gateway.url}/fn/${name}?n=4`);
    const arrivals: number[] = [];
    let text = '';
    for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
      arrivals.push(Date.now() - sentAt);
      text += new TextDecoder().decode(chunk);
    }
    expect(text).toBe('tick 0\ntick 1\ntick 2\ntick 3\n');
    expect(arrivals.length).toBeGreaterThanOrEqual(3);
    expect(arrivals.at(-1)! - arrivals[0]!).toBeGreaterThan(300);
    // A caller that leaves mid-stream: the abort travels gateway → invoker → runtime.
    const controller = new AbortController();
    const endless = await fetch(`${gateway.url}/fn/${name}`, { signal: controller.signal });
    await endless.body!.getReader().read();
    controller.abort();
    const deadline = Date.now() + 10_000;
    let count = 0;
    while (count < 1 && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 100));
      count = Number(await (await fetch(`${gateway.url}/fn/${name}?count`)).text());
    }
    expect(count).toBe(1);
  });

  it('spreads functions over both invokers', async () => {
    // Names chosen so that placement puts at least one on each invoker.
    const ids = [`${prefix}invoker-a`, `${prefix}invoker-b`];
    const names: string[] = [];
    while (new Set(names.map((n) => placeFunction(n, ids))).size < 2 || names.length < 4) names.push(uniqueName('spread'));
    for (const name of names) await api('PUT', `/functions/${name}`, { code: `export default () => 'ok';` });
    await Promise.all(names.map((name) => fetch(`${gateway.url}/fn/${name}`).then((r) => r.text())));
    const perInvoker = await Promise.all(
      running
        .slice(0, 2)
        .map(
          async (inv) =>
            (await (await fetch(`${inv.url}/v1/containers`, { headers: { authorization: `Bearer ${token}` } })).json()) as { idle: number; paused: number },
        ),
    );
    // Warm containers on both: idle, or already paused.
    expect(perInvoker.every((counts) => counts.idle + counts.paused > 0)).toBe(true);
    // The gateway lists them one by one, each with the invoker it runs on.
    const listed = (await (await api('GET', '/containers/list')).json()) as { containers: Array<{ name: string | null; invoker: string }> };
    for (const name of names) expect(listed.containers.find((c) => c.name === name)?.invoker).toBe(placeFunction(name, ids));
  });

  it('relays function errors with their code, and meters calls made through the gateway', async () => {
    const name = uniqueName('dist-err');
    await api('PUT', `/functions/${name}`, {
      code: `export default (req) => { if (new URL(req.url).searchParams.has('fail')) throw new Error('remote boom'); return 'ok'; };`,
    });
    expect((await fetch(`${gateway.url}/fn/${name}`)).status).toBe(200);
    const failed = await fetch(`${gateway.url}/fn/${name}?fail`);
    expect(failed.status).toBe(500);
    expect(((await failed.json()) as any).error).toMatchObject({ code: 'FUNCTION_ERROR', message: expect.stringContaining('remote boom') });
    await new Promise((r) => setTimeout(r, 200));
    const usage = (await (await api('GET', `/usage?function=${name}`)).json()) as any;
    expect(usage.rows[0]).toMatchObject({ invocations: 2, errors: 1 });
  });

  it("holds a tenant's maxContainers quota across invokers: containers on the other invoker count", async () => {
    const tenant = `q${randomUUID().slice(0, 6)}`;
    expect((await api('POST', '/tenants', { id: tenant, maxContainers: 2 })).status).toBe(201);
    const created = (await (await api('POST', `/tenants/${tenant}/tokens`, { name: 'ci' })).json()) as { token: string };
    // Two functions on invoker-a and one on invoker-b.
    const ids = [`${prefix}invoker-a`, `${prefix}invoker-b`];
    const on = (invoker: string) => {
      for (;;) {
        const name = uniqueName('quota');
        if (placeFunction(`${tenant}.${name}`, ids) === `${prefix}${invoker}`) return name;
      }
    };
    const [a1, a2, b1] = [on('invoker-a'), on('invoker-a'), on('invoker-b')];
    const slow = `export default async () => { await new Promise((r) => setTimeout(r, 8000)); return 'slow'; };`;
    for (const name of [a1, a2, b1]) {
      const res = await fetch(`${gateway.url}/api/v1/functions/${name}`, {
        method: 'PUT',
        headers: { authorization: `Bearer ${created.token}`, 'content-type': 'application/json' },
        body: JSON.stringify({ code: slow }),
      });
      expect(res.status).toBe(201);
    }
    // One busy container on each invoker: the tenant's two. Invoker-a learns of b's within two counts (a second each).
    const busy = [fetch(`${gateway.url}/fn/${tenant}/${a1}`), fetch(`${gateway.url}/fn/${tenant}/${b1}`)];
    await new Promise((r) => setTimeout(r, 3_500));
    const refused = await fetch(`${gateway.url}/fn/${tenant}/${a2}`);
    expect(refused.status).toBe(429);
    const error = ((await refused.json()) as { error: { code: string; message: string } }).error;
    expect(error.code).toBe('QUOTA_EXCEEDED');
    expect(error.message).toContain('1 of them on other invokers');
    expect((await Promise.all(busy)).map((r) => r.status)).toEqual([200, 200]);
  });

  it('refuses gateway-to-invoker calls without the token', async () => {
    const res = await fetch(`${running[0]!.url}/v1/containers`);
    expect(res.status).toBe(401);
  });
});
