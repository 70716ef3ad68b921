// The measurements: cold starts, sequential warm latency and throughput, each for the platform and its baseline.
import autocannon from 'autocannon';
import type Dockerode from 'dockerode';
import type { Client, Pool } from 'undici';
import type { PlatformProcess } from './platform-process.js';

export const NOOP = `export default () => new Response('ok');`;

export async function deploy(p: PlatformProcess, name: string, settings: Record<string, unknown> = {}): Promise<void> {
  const res = await fetch(`${p.url}/api/v1/functions/${name}`, {
    method: 'PUT',
    headers: { authorization: `Bearer ${p.token}`, 'content-type': 'application/json' },
    body: JSON.stringify({ code: NOOP, ...settings }),
  });
  if (!res.ok) throw new Error(`deploy ${name}: ${res.status} ${await res.text()}`);
}

export async function remove(p: PlatformProcess, name: string): Promise<void> {
  const res = await fetch(`${p.url}/api/v1/functions/${name}`, { method: 'DELETE', headers: { authorization: `Bearer ${p.token}` } });
  if (res.status !== 204) throw new Error(`delete ${name}: ${res.status} ${await res.text()}`);
}

/** Time of one call, checking it answered 200 (and, when given, whether it was cold). */
export async function timedCall(client: Client | Pool, path: string, expectCold?: boolean): Promise<number> {
  const started = performance.now();
  const res = await client.request({ path, method: 'GET' });
  await res.body.text();
  const ms = performance.now() - started;
  if (res.statusCode !== 200) throw new Error(`${path} answered ${res.statusCode}`);
  if (expectCold !== undefined && (res.headers['x-faas-cold-start'] === 'true') !== expectCold) {
    throw new Error(`${path}: expected a ${expectCold ? 'cold' : 'warm'} start`);
  }
  return ms;
}

/** `count` sequential calls after `warmup` unmeasured ones. */
export async function sequential(client: Client | Pool, path: string, warmup: number, count: number): Promise<number[]> {
  for (let i = 0; i < warmup; i++) await timedCall(client, path);
  const samples: number[] = [];
  for (let i = 0; i < count; i++) samples.push(await timedCall(client, path));
  return samples;
}

export interface Throughput {
  requestsPerSecond: number;
  errors: number;
  /** Latency under that load, ms. */
  p50Ms: number;
  p99Ms: number;
}

/** Requests per second with `connections` keep-alive connections for `seconds`, after a 2 s warm-up. */
export async function throughput(target: { url: string; socketPath?: string }, connections: number, seconds: number): Promise<Throughput> {
  const options = { url: target.url, connections, pipelining: 1, ...(target.socketPath ? { socketPath: target.socketPath } : {}) };
  await autocannon({ ...options, duration: 2 });
  const result = await autocannon({ ...options, duration: seconds });
  return { requestsPerSecond: result.requests.average, errors: result.errors + result.non2xx, p50Ms: result.latency.p50, p99Ms: result.latency.p99 };
}

/** Waits until the platform reports at least `n` prewarmed runtimes ready (from /metrics). */
export async function waitPrewarmed(p: PlatformProcess, n: number, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const text = await (await fetch(`${p.url}/metrics`, { headers: { authorization: `Bearer ${p.token}` } })).text();
    if (Number(/faas_containers\{state="prewarmed"\} (\d+)/.exec(text)?.[1] ?? 0) >= n) return;
    if (Date.now() > deadline) throw new Error(`no prewarmed runtime after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Waits until the engine has no container of the function (scaled to zero). */
export async function waitGone(docker: Dockerode, fn: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const list = await docker.listContainers({ all: true, filters: { name: [`^/faas-${fn}-[0-9a-f]{12}$`] } });
    if (list.length === 0) return;
    if (Date.now() > deadline) throw new Error(`${fn} still has containers after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Runs `work(i)` for i in [0, total) from `workers` concurrent loops. */
export async function fanOut(total: number, workers: number, work: (i: number) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: workers }, async () => {
      while (next < total) {
        const i = next;
        next += 1;
        await work(i);
      }
    }),
  );
}
