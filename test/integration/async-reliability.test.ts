// Nothing accepted is lost: an invoker killed with SIGKILL mid-job (the job runs again elsewhere after the
// stall interval and is counted once), and Redis killed with SIGKILL with jobs waiting (AOF, fsync always).
import type { ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../platform/config.js';
import { startPlatform, type RunningPlatform } from '../../platform/start-platform.js';
import { requireDocker, startRedis, type TestRedis } from '../support/services.js';
import { startPlatformChild, startTestPlatform, uniqueName, waitUntil } from '../support/platform.js';

const SLOW = `const instance = crypto.randomUUID();
export default async (req) => { await new Promise((r) => setTimeout(r, Number(new URL(req.url).searchParams.get('ms') ?? 100))); return instance; };`;

describe('an invoker killed with SIGKILL during a job', () => {
  let redis: TestRedis;
  let gateway: RunningPlatform;
  const children: ChildProcess[] = [];
  const dirs: string[] = [];
  const prefix = `kill-${randomUUID().slice(0, 6)}:`;
  const token = `kill-${randomUUID()}`;
  const dir = () => {
    const d = mkdtempSync(path.join(os.tmpdir(), 'faas-kill-'));
    dirs.push(d);
    return d;
  };
  const invokerEnv = (id: string) => ({
    REDIS_URL: redis.url,
    FAAS_REDIS_PREFIX: prefix,
    FAAS_TOKEN: token,
    FAAS_ROLE: 'invoker',
    FAAS_INVOKER_ID: `${prefix.slice(0, -1)}-${id}`,
    FAAS_DATA_DIR: dir(),
    FAAS_ASYNC_STALL_MS: '1500',
    FAAS_PREWARM: '0',
    FAAS_LOG_LEVEL: 'warn',
  });

  afterAll(async () => {
    for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    await gateway?.close();
    // The killed invoker could not remove its containers: do it as its restart would.
    const docker = await requireDocker();
    for (const info of await docker.listContainers({ all: true, filters: { label: [`faas.owner=${prefix.slice(0, -1)}-b`] } })) {
      await docker
        .getContainer(info.Id)
        .remove({ force: true })
        .catch(() => {});
    }
    await redis?.stop();
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });

  it('runs the job again on another invoker after the stall interval and counts it once', async () => {
    await requireDocker();
    redis = await startRedis();
    gateway = await startPlatform(
      loadConfig({ REDIS_URL: redis.url, FAAS_REDIS_PREFIX: prefix, FAAS_TOKEN: token, FAAS_ROLE: 'gateway', FAAS_DATA_DIR: dir(), FAAS_LOG_LEVEL: 'warn' }),
      { port: 0 },
    );
    const api = async (method: string, route: string, body?: unknown) => {
      const res = await fetch(`${gateway.url}${route}`, {
        method,
        headers: { authorization: `Bearer ${token}`, ...(body ? { 'content-type': 'application/json' } : {}) },
        ...(body ? { body: JSON.stringify(body) } : {}),
      });
      return { status: res.status, body: (await res.json()) as any };
    };
    const b = await startPlatformChild(invokerEnv('b'));
    children.push(b.child);
    const name = uniqueName('survivor');
    expect((await api('PUT', `/api/v1/functions/${name}`, { code: SLOW })).status).toBe(201);

    const accepted = await fetch(`${gateway.url}/async/fn/${name}?ms=3000`, { method: 'POST' });
    expect(accepted.status).toBe(202);
    const { invocationId } = (await accepted.json()) as { invocationId: string };
    await waitUntil('the job to run on invoker b', async () =>
      (await api('GET', `/api/v1/invocations/${invocationId}`)).body.status === 'running' ? true : undefined,
    );
    await new Promise((r) => setTimeout(r, 300));
    b.child.kill('SIGKILL');

    const c = await startPlatformChild(invokerEnv('c'));
    children.push(c.child);
    const done = await waitUntil(
      'the job to finish on invoker c',
      async () => {
        const { body } = await api('GET', `/api/v1/invocations/${invocationId}`);
        return body.status === 'succeeded' || body.status === 'dead' ? body : undefined;
      },
      30_000,
    );
    expect(done.status).toBe('succeeded');
    expect(done.result.status).toBe(200);
    // Two runs started (b's was cut short); one finished, one usage record.
    expect(done.attempts).toBe(2);
    await new Promise((r) => setTimeout(r, 500));
    const usage = await api('GET', `/api/v1/usage?function=${name}`);
    expect(usage.body.rows).toHaveLength(1);
    expect(usage.body.rows[0].invocations).toBe(1);
  });
});

describe('Redis killed with SIGKILL while jobs wait', () => {
  it('runs every accepted job once Redis is back (AOF, fsync always)', async () => {
    const platform = await startTestPlatform({ FAAS_PREWARM: '0', FAAS_RETRY_DELAY_MS: '100' });
    try {
      const name = uniqueName('durable');
      await platform.deploy(name, SLOW, { maxScale: 1 });
      const ids: string[] = [];
      for (let i = 0; i < 15; i++) {
        const res = await fetch(`${platform.url}/async/fn/${name}?ms=150`, { method: 'POST' });
        expect(res.status).toBe(202);
        ids.push(((await res.json()) as { invocationId: string }).invocationId);
      }
      await platform.redis.kill();
      await new Promise((r) => setTimeout(r, 500));
      await platform.redis.start();
      const statuses = await waitUntil(
        'every accepted job to finish',
        async () => {
          const views = await Promise.all(ids.map(async (id) => (await platform.api('GET', `/api/v1/invocations/${id}`)).body));
          return views.every((v) => v.status === 'succeeded' || v.status === 'dead') ? views.map((v) => v.status) : undefined;
        },
        60_000,
        200,
      );
      expect(statuses).toEqual(ids.map(() => 'succeeded'));
    } finally {
      await platform.stop();
    }
  });
});
