// /healthz and /metrics: series from invocation events, trigger rejections and container counts, one registry per app;
// who may read which: the full exposition with the admin or scrape token, platform-wide series only without a token.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { buildApp } from '../../../gateway/app.js';
import { gatewayConfigOf, loadConfig } from '../../../platform/config.js';
import { createMetrics } from '../../../metrics/platform-metrics.js';
import { QueueFullError } from '../../../core/errors.js';
import type { TenantStore } from '../../../tenancy/tenant-store.js';
import {
  AUTH,
  errorOf,
  FakeInvoker,
  FakeLogs,
  FakeRegistry,
  FakeUsage,
  finished,
  injectRequest,
  testGateway,
  TOKEN,
  type TestGateway,
} from '../gateway/fakes.js';

let gw: TestGateway;
beforeEach(async () => {
  gw = await testGateway();
});
afterEach(async () => {
  await gw.app.close();
});

const scrape = async (app = gw.app) => {
  const res = await app.inject({ url: '/metrics', headers: AUTH });
  expect(res.statusCode).toBe(200);
  expect(res.headers['content-type']).toMatch(/^text\/plain/);
  return res.body;
};

describe('health', () => {
  it('answers /healthz with ok and no token', async () => {
    const res = await gw.inject({ url: '/healthz' });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ status: 'ok' });
  });
});

describe('metrics', () => {
  it('counts invocations from events, by function, status and start', async () => {
    gw.invoker.emit(finished());
    gw.invoker.emit(finished({ coldStart: false, initMs: undefined, durationMs: 100 }));
    gw.invoker.emit(finished({ coldStart: false, initMs: undefined, status: 'timeout', httpStatus: 504, trigger: 'async' }));
    const text = await scrape();
    expect(text).toContain('faas_invocations_total{function="hello",status="ok",start="cold"} 1');
    expect(text).toContain('faas_invocations_total{function="hello",status="ok",start="warm"} 1');
    expect(text).toContain('faas_invocations_total{function="hello",status="timeout",start="warm"} 1');
    expect(text).toContain('faas_invocation_duration_seconds_count{function="hello"} 3');
    expect(text).toContain('faas_invocation_duration_seconds_sum{function="hello"} 0.6');
    expect(text).toContain('faas_cold_start_seconds_count{function="hello"} 1');
    expect(text).toContain('faas_cold_start_seconds_sum{function="hello"} 0.18');
    expect(text).toContain('faas_queue_wait_seconds_count{function="hello"} 3');
    // 1024 MB for 250 + 100 + 250 billed ms.
    expect(text).toMatch(/faas_gigabyte_seconds_total\{function="hello"\} 0\.6\d*\n/);
  });

  it('counts trigger rejections (429) with their status and no start', async () => {
    gw.invoker.answer = () => Promise.reject(new QueueFullError('queue full'));
    expect((await gw.inject({ url: '/fn/hello' })).statusCode).toBe(429);
    expect(await scrape()).toContain('faas_invocations_total{function="hello",status="throttled",start="none"} 1');
  });

  it('reports containers by state at scrape time, and process metrics', async () => {
    gw.invoker.counts = { prewarmed: 2, starting: 1, idle: 4, paused: 1, busy: 3, removing: 0 };
    const text = await scrape();
    expect(text).toContain('faas_containers{state="idle"} 4');
    expect(text).toContain('faas_containers{state="paused"} 1');
    expect(text).toContain('faas_containers{state="busy"} 3');
    expect(text).toContain('faas_containers{state="prewarmed"} 2');
    expect(text).toMatch(/\nprocess_resident_memory_bytes \d+/);
  });

  it('keeps one registry per app and stops listening when the app closes', async () => {
    const other = await testGateway();
    try {
      other.invoker.emit(finished({ fn: 'elsewhere' }));
      expect(await scrape(other.app)).toContain('function="elsewhere"');
      expect(await scrape()).not.toContain('function="elsewhere"');
    } finally {
      await other.app.close();
    }
    expect(other.invoker.listenerCount).toBe(0);
  });
});

const SECRET = 'secret-fn-name';
const TENANT_TOKEN = 'tenant-token-abcdef';
const METRICS_TOKEN = 'scrape-token-0123456789';

/** A gateway whose tenant store knows one tenant token (acme's), and with FAAS_METRICS_TOKEN set. */
async function gatewayWithTenants() {
  const config = gatewayConfigOf(loadConfig({ FAAS_PUBLIC_URL: 'https://faas.example', FAAS_TOKEN: TOKEN, FAAS_METRICS_TOKEN: METRICS_TOKEN }, '/tmp'));
  const registry = new FakeRegistry();
  const invoker = new FakeInvoker(registry);
  const tenants = {
    authenticate: async (token: string) => (token === TENANT_TOKEN ? { tenant: 'acme', admin: false, tokenId: 't1' } : undefined),
  } as unknown as TenantStore;
  const app = await buildApp({ config, token: TOKEN, tenants, registry, invoker, events: invoker, rollups: new FakeUsage(), logs: new FakeLogs() });
  // One function of the default tenant and one of tenant acme, each with a name no one else should learn.
  invoker.emit(finished({ fn: SECRET }));
  invoker.emit(finished({ fn: `acme.${SECRET}`, coldStart: false, initMs: undefined, status: 'function_error', httpStatus: 500, durationMs: 50 }));
  invoker.emit(finished({ fn: 'acme.other', memoryMb: 512 }));
  return { app, invoker };
}

describe('who may read /metrics', () => {
  let tg: Awaited<ReturnType<typeof gatewayWithTenants>>;
  beforeEach(async () => {
    tg = await gatewayWithTenants();
  });
  afterEach(async () => {
    await tg.app.close();
  });
  const get = (headers: Record<string, string> = {}) => tg.app.inject({ url: '/metrics', headers });

  it('gives anonymous callers platform-wide series only: no tenant, function or queue names', async () => {
    const res = await get();
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toMatch(/^text\/plain/);
    expect(res.headers.vary).toMatch(/authorization/i);
    const text = res.body;
    expect(text).not.toContain(SECRET);
    expect(text).not.toContain('acme');
    expect(text).not.toMatch(/\b(function|tenant|queue)="/);
    expect(text).not.toContain('faas_tenant_');
    // Process and Node.js series, containers by state, and totals over all functions.
    expect(text).toMatch(/\nprocess_resident_memory_bytes \d+/);
    expect(text).toMatch(/\nnodejs_heap_size_used_bytes \d+/);
    expect(text).toContain('faas_containers{state="idle"} 3');
    expect(text).toContain('faas_invocations_total{status="ok",start="cold"} 2');
    expect(text).toContain('faas_invocations_total{status="function_error",start="warm"} 1');
    // 1024 MB x 250 ms + 1024 MB x 50 ms + 512 MB x 250 ms.
    expect(text).toMatch(/\nfaas_gigabyte_seconds_total 0\.42\d*\n/);
    // Latency histograms are per function: only with the token.
    expect(text).not.toContain('faas_invocation_duration_seconds');
  });

  it('keeps the anonymous totals in step with the per-function series, scrape after scrape', async () => {
    expect((await get()).body).toContain('faas_invocations_total{status="ok",start="cold"} 2');
    tg.invoker.emit(finished({ fn: 'acme.other', coldStart: true }));
    const [a, b] = await Promise.all([get(), get()]);
    for (const res of [a, b]) expect(res.body).toContain('faas_invocations_total{status="ok",start="cold"} 3');
  });

  it('counts trigger rejections in the anonymous totals, without the function', async () => {
    tg.invoker.answer = () => Promise.reject(new QueueFullError('queue full'));
    expect((await injectRequest(tg.app, { url: `/fn/${SECRET}` })).statusCode).toBe(429);
    const text = (await get()).body;
    expect(text).toContain('faas_invocations_total{status="throttled",start="none"} 1');
    expect(text).not.toContain(SECRET);
  });

  it.each([
    ['the admin token', { authorization: `Bearer ${TOKEN}` }],
    ['FAAS_METRICS_TOKEN', { authorization: `Bearer ${METRICS_TOKEN}` }],
    ['a lower-case scheme', { authorization: `bearer ${METRICS_TOKEN}` }],
  ])('gives %s every series, with tenant and function names', async (_label, headers) => {
    const res = await get(headers);
    expect(res.statusCode).toBe(200);
    expect(res.body).toContain(`faas_invocations_total{function="${SECRET}",status="ok",start="cold"} 1`);
    expect(res.body).toContain(`faas_invocations_total{function="acme.${SECRET}",status="function_error",start="warm"} 1`);
    expect(res.body).toContain('faas_tenant_invocations_total{tenant="acme",status="function_error"} 1');
    expect(res.body).toMatch(/\nprocess_resident_memory_bytes \d+/);
    expect(res.body).toContain('faas_containers{state="idle"} 3');
  });

  it("answers a tenant's token 403, without the exposition", async () => {
    const res = await get({ authorization: `Bearer ${TENANT_TOKEN}` });
    expect(errorOf(res, 403, 'FORBIDDEN')).toMatch(/FAAS_METRICS_TOKEN/);
    expect(res.body).not.toContain(SECRET);
  });

  it.each([
    ['a wrong token', { authorization: 'Bearer wrong' }],
    ['a malformed header', { authorization: 'Basic abc' }],
    ['an empty header', { authorization: '' }],
    ['a token that only prefixes the admin token', { authorization: `Bearer ${TOKEN.slice(0, -1)}` }],
  ])('answers %s 401, without the exposition', async (_label, headers) => {
    const res = await get(headers);
    errorOf(res, 401, 'UNAUTHORIZED');
    expect(res.body).not.toContain(SECRET);
  });

  it('does not let FAAS_METRICS_TOKEN use the management API', async () => {
    const res = await tg.app.inject({ url: '/api/v1/functions', headers: { authorization: `Bearer ${METRICS_TOKEN}` } });
    errorOf(res, 401, 'UNAUTHORIZED');
  });

  it('answers 401 to any token but the admin token when FAAS_METRICS_TOKEN is unset', async () => {
    // gw: the default test gateway, without FAAS_METRICS_TOKEN or a tenant store.
    errorOf(await gw.inject({ url: '/metrics', headers: { authorization: `Bearer ${METRICS_TOKEN}` } }), 401, 'UNAUTHORIZED');
    expect((await gw.inject({ url: '/metrics' })).statusCode).toBe(200);
  });
});

describe('async metrics', () => {
  it('keeps function and queue names out of the public registry, with totals over all queues', async () => {
    const registry = new FakeRegistry();
    const invoker = new FakeInvoker(registry);
    let onRetry: (fn: string) => void = () => {};
    const metrics = createMetrics(invoker, invoker, {
      counts: async () => [
        { queue: `fn.acme.${SECRET}`, function: `acme.${SECRET}`, waiting: 2, active: 1, delayed: 0, dead: 1, oldestWaitingMs: 1500 },
        { queue: `q.${SECRET}-queue`, function: SECRET, waiting: 3, active: 0, delayed: 1, dead: 0, oldestWaitingMs: 4000 },
      ],
      retries: {
        onRetry(listener) {
          onRetry = listener;
          return () => {};
        },
      },
    });
    try {
      onRetry(`acme.${SECRET}`);
      const full = await metrics.registry.metrics();
      expect(full).toContain(`faas_async_jobs{function="acme.${SECRET}",queue="fn.acme.${SECRET}",state="waiting"} 2`);
      expect(full).toContain(`faas_async_retries_total{function="acme.${SECRET}"} 1`);
      const open = await metrics.publicRegistry.metrics();
      expect(open).not.toContain(SECRET);
      expect(open).not.toMatch(/\b(function|tenant|queue)="/);
      expect(open).toContain('faas_async_jobs{state="waiting"} 5');
      expect(open).toContain('faas_async_jobs{state="active"} 1');
      expect(open).toContain('faas_async_jobs{state="delayed"} 1');
      expect(open).toContain('faas_async_jobs{state="dead"} 1');
      expect(open).toContain('faas_async_oldest_waiting_seconds 4');
      expect(open).toContain('faas_async_retries_total 1');
    } finally {
      metrics.detach();
    }
  });
});
