// The scale benchmark (BENCH_ONLY=scale, and last in the full run): 10,000 functions deployed — 20 tenants
// × 500, the per-tenant default — 1,000 of them consuming a named queue each, on one platform process.
// Redis connections and the platform's RSS before, with them all and after deleting them all, and the
// enqueue-to-start latency of another tenant's async call meanwhile (its worker live, and started afresh
// after going idle). The baselines are the same platform with nothing else deployed.
import { Redis } from 'ioredis';
import { Pool } from 'undici';
import type { PlatformProcess } from './platform-process.js';
import { NOOP, fanOut } from './measure.js';
import { ms, type Row } from './report.js';
import { median } from './stats.js';

/** BENCH_SCALE_TENANTS: fewer for a quick look (each brings PER_TENANT functions). */
const TENANTS = Number(process.env.BENCH_SCALE_TENANTS ?? 20);
const PER_TENANT = 500;
const QUEUES_PER_TENANT = 50;
const DEPLOYERS = 8;
const WARM_SAMPLES = 30;
const IDLE_SAMPLES = 5;
/** Longer than the default FAAS_ASYNC_WORKER_IDLE_MS (5 s): the probe's worker has closed. */
const IDLE_GAP_MS = 6_500;
/** After the deploys, before reading what the platform holds. */
const SETTLE_MS = 20_000;
const CLOCK = `export default () => String(performance.timeOrigin + performance.now());`;
const epochNow = () => performance.timeOrigin + performance.now();

const log = (msg: string) => process.stderr.write(`› ${msg}\n`);
const mb = (bytes: number) => `${Math.round(bytes / 2 ** 20)} MB`;

async function api(pool: Pool, token: string, method: string, path: string, body?: unknown): Promise<{ status: number; body: any }> {
  const res = await pool.request({
    path,
    method: method as 'GET',
    headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await res.body.text();
  return { status: res.statusCode, body: text ? JSON.parse(text) : undefined };
}

async function tenantToken(pool: Pool, admin: string, id: string): Promise<string> {
  const created = await api(pool, admin, 'POST', '/api/v1/tenants', { id });
  if (created.status !== 201) throw new Error(`tenant ${id}: ${created.status} ${JSON.stringify(created.body)}`);
  const token = await api(pool, admin, 'POST', `/api/v1/tenants/${id}/tokens`, { name: 'bench' });
  if (token.status !== 201) throw new Error(`token for ${id}: ${token.status}`);
  return token.body.token as string;
}

/** Submitted → the probe's code runs (ms), one async call, polled to its end. */
async function enqueueToStart(pool: Pool, token: string, path: string): Promise<number> {
  const sent = epochNow();
  const res = await pool.request({ path, method: 'POST', body: '', headers: { authorization: `Bearer ${token}` } });
  if (res.statusCode !== 202) throw new Error(`async call answered ${res.statusCode}: ${await res.body.text()}`);
  const { invocationId } = (await res.body.json()) as { invocationId: string };
  for (;;) {
    const view = await api(pool, token, 'GET', `/api/v1/invocations/${invocationId}`);
    if (view.body.status === 'succeeded') return Number(view.body.result.body) - sent;
    if (view.body.status === 'dead') throw new Error(`probe call dead: ${JSON.stringify(view.body.error)}`);
    await new Promise((r) => setTimeout(r, 2));
  }
}

export async function scaleBench(platform: PlatformProcess): Promise<Row[]> {
  const total = TENANTS * PER_TENANT;
  const pool = new Pool(platform.url, { connections: DEPLOYERS + 2, pipelining: 1 });
  const observer = new Redis(platform.redisUrl);
  const clients = async () => ((await observer.client('LIST')) as string).trim().split('\n').length - 1;
  const rows: Row[] = [];
  try {
    const before = { clients: await clients(), rss: platform.rssBytes() };
    const tokens: string[] = [];
    for (let t = 0; t < TENANTS; t++) tokens.push(await tenantToken(pool, platform.token, `scale${t}`));
    const probeToken = await tenantToken(pool, platform.token, 'probe');
    const probe = await api(pool, probeToken, 'PUT', '/api/v1/functions/clock', { code: CLOCK, minScale: 1 });
    if (probe.status !== 201) throw new Error(`probe deploy: ${probe.status}`);
    const path = '/async/fn/probe/clock';
    log(`scale: ${WARM_SAMPLES} async calls of the probe with nothing else deployed (the baseline)`);
    for (let i = 0; i < 5; i++) await enqueueToStart(pool, probeToken, path);
    const alone: number[] = [];
    for (let i = 0; i < WARM_SAMPLES; i++) alone.push(await enqueueToStart(pool, probeToken, path));
    log(`scale: deploying ${total.toLocaleString('en-US')} functions (${TENANTS} tenants × ${PER_TENANT}), ${TENANTS * QUEUES_PER_TENANT} with a queue`);
    const deployStarted = performance.now();
    await fanOut(total, DEPLOYERS, async (i) => {
      const tenant = Math.floor(i / PER_TENANT);
      const n = i % PER_TENANT;
      const res = await api(pool, tokens[tenant]!, 'PUT', `/api/v1/functions/f${n}`, {
        code: NOOP,
        ...(n < QUEUES_PER_TENANT ? { queues: [`q${n}`] } : {}),
      });
      if (res.status !== 201 && res.status !== 200) throw new Error(`deploy ${i}: ${res.status} ${JSON.stringify(res.body)}`);
      if ((i + 1) % 1_000 === 0) log(`scale: ${i + 1} deployed (${((performance.now() - deployStarted) / (i + 1)).toFixed(1)} ms each)`);
    });
    const deploySeconds = (performance.now() - deployStarted) / 1000;
    const peak = platform.rssBytes();
    // What the platform holds with them, once the deploy burst's garbage is collected (V8 collects lazily).
    await new Promise((r) => setTimeout(r, SETTLE_MS));
    const loaded = { clients: await clients(), rss: platform.rssBytes() };

    log(`scale: ${WARM_SAMPLES} async calls of another tenant back to back, then ${IDLE_SAMPLES} after its worker went idle`);
    for (let i = 0; i < 5; i++) await enqueueToStart(pool, probeToken, path);
    const warm: number[] = [];
    for (let i = 0; i < WARM_SAMPLES; i++) warm.push(await enqueueToStart(pool, probeToken, path));
    const idle: number[] = [];
    for (let i = 0; i < IDLE_SAMPLES; i++) {
      await new Promise((r) => setTimeout(r, IDLE_GAP_MS));
      idle.push(await enqueueToStart(pool, probeToken, path));
    }
    const busiest = Math.max(loaded.clients, await clients());

    log('scale: deleting them all');
    await fanOut(total, DEPLOYERS, async (i) => {
      const res = await api(pool, tokens[Math.floor(i / PER_TENANT)]!, 'DELETE', `/api/v1/functions/f${i % PER_TENANT}`);
      if (res.status !== 204) throw new Error(`delete ${i}: ${res.status}`);
    });
    await api(pool, probeToken, 'DELETE', '/api/v1/functions/clock');
    // Idle workers close after FAAS_ASYNC_WORKER_IDLE_MS.
    await new Promise((r) => setTimeout(r, IDLE_GAP_MS));
    const after = { clients: await clients(), rss: platform.rssBytes() };

    rows.push(
      {
        measure: `Redis connections: none deployed → ${total.toLocaleString('en-US')} functions and ${TENANTS * QUEUES_PER_TENANT} queues (most while calls ran) → all deleted`,
        platform: `${before.clients} → ${loaded.clients} (${busiest}) → ${after.clients}`,
        baseline: `${before.clients} (none deployed)`,
        comparison: `+${busiest - before.clients}`,
        target: '< 100, back to baseline',
        pass: busiest < 100 && after.clients <= before.clients,
      },
      {
        measure: `platform process RSS (gateway, invoker, async workers: one process) with ${total.toLocaleString('en-US')} functions deployed, ${SETTLE_MS / 1000} s after the last deploy (peak right after deploying them in ${deploySeconds.toFixed(0)} s) → all deleted`,
        platform: `${mb(loaded.rss)} (${mb(peak)}) → ${mb(after.rss)}`,
        baseline: `${mb(before.rss)} (none deployed)`,
        comparison: `+${mb(loaded.rss - before.rss)} (${((loaded.rss - before.rss) / total / 1024).toFixed(1)} KB per function)`,
        target: '< 400 MB',
        pass: loaded.rss < 400 * 2 ** 20,
      },
      {
        measure: `async enqueue-to-start p50 of another tenant's function with ${total.toLocaleString('en-US')} deployed: back to back (${WARM_SAMPLES}) / after its worker went idle (${IDLE_SAMPLES})`,
        platform: `${ms(median(warm))} / ${ms(median(idle))}`,
        baseline: `${ms(median(alone))} (back to back, nothing else deployed)`,
        comparison: `+${ms(median(warm) - median(alone))}`,
        target: '< 50 ms',
        pass: median(warm) < 50 && median(idle) < 50,
      },
    );
  } catch (err) {
    rows.push({
      measure: `scale: ${total.toLocaleString('en-US')} functions`,
      platform: `failed: ${(err as Error).message}`,
      baseline: '—',
      comparison: '—',
      target: '—',
      pass: false,
    });
  } finally {
    observer.disconnect();
    await pool.close();
  }
  return rows;
}
