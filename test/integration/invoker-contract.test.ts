// One suite, run against every Invoker implementation (in-process, and remote through an invoker server),
// as hono runs one router suite against each router.
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defaultFunctionConfig, type FunctionConfig } from '../../core/function-spec.js';
import { HostDirectories } from '../../invoker/driver/docker/host-directories.js';
import { CodeCache } from '../../invoker/code-cache.js';
import { DockerDriver } from '../../invoker/driver/docker/docker-driver.js';
import { InProcessInvoker } from '../../invoker/in-process-invoker.js';
import type { InvocationRequest, Invoker } from '../../core/invoker.js';
import { ContainerPool } from '../../invoker/pool/container-pool.js';
import { RedisFunctionRegistry } from '../../registry/redis-function-registry.js';
import { InvokerServer } from '../../invoker/remote/invoker-server.js';
import { RemoteInvoker } from '../../invoker/remote/remote-invoker.js';
import { createRuntimeConnection } from '../../invoker/runtime/undici-runtime-connection.js';
import { ensureRuntimeImage } from '../../runtime-images/node/build-image.js';
import { requireDocker, startRedis, type TestRedis } from '../support/services.js';

interface Harness {
  invoker: Invoker;
  deploy(name: string, code: string, config?: Partial<FunctionConfig>): Promise<void>;
  close(): Promise<void>;
}

async function localHarness(redisUrl: string): Promise<Harness & { inProcess: InProcessInvoker }> {
  const docker = await requireDocker();
  const redis = new Redis(redisUrl, { enableAutoPipelining: true });
  const prefix = `contract-${randomUUID().slice(0, 8)}:`;
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'faas-contract-'));
  const registry = await RedisFunctionRegistry.open({ redis, prefix });
  const pool = new ContainerPool({
    driver: new DockerDriver(docker),
    connect: createRuntimeConnection,
    host: new HostDirectories({ dataDir, codeCache: new CodeCache({ dataDir, registry }) }),
    image: await ensureRuntimeImage(docker),
    owner: prefix,
    poolMemoryMb: 4_096,
    maxQueue: 10,
    maxQueueWaitMs: 10_000,
    pidsLimit: 64,
    tmpMb: 16,
  });
  await pool.start();
  const inProcess = new InProcessInvoker({ registry, pool });
  return {
    invoker: inProcess,
    inProcess,
    async deploy(name, code, config = {}) {
      await registry.deploy({ name, code: Buffer.from(code), config: { ...defaultFunctionConfig(), ...config } });
    },
    async close() {
      await inProcess.close();
      await registry.close();
      redis.disconnect();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

async function remoteHarness(redisUrl: string): Promise<Harness> {
  const local = await localHarness(redisUrl);
  const token = randomUUID();
  const server = new InvokerServer({ invoker: local.inProcess, token, maxFrameBytes: 8 * 1024 * 1024 });
  const url = await server.listen('127.0.0.1', 0);
  const remote = new RemoteInvoker({ invokers: () => [{ id: 'only', url, seenAt: Date.now() }], token });
  return {
    invoker: remote,
    deploy: local.deploy,
    async close() {
      await remote.close();
      await server.close();
      await local.close();
    },
  };
}

const request = (fn: string, over: Partial<InvocationRequest> = {}): InvocationRequest => ({
  invocationId: randomUUID(),
  fn,
  trigger: 'http',
  method: 'GET',
  path: '/',
  rawQuery: '',
  headers: { host: 'test' },
  body: Buffer.alloc(0),
  receivedAt: Date.now(),
  ...over,
});

let redis: TestRedis;
beforeAll(async () => {
  redis = await startRedis();
});
afterAll(async () => {
  await redis?.stop();
});

describe.each([
  ['in-process', (url: string) => localHarness(url)],
  ['remote', (url: string) => remoteHarness(url)],
])('Invoker contract: %s', (_name, make) => {
  let h: Harness;
  beforeAll(async () => {
    h = await make(redis.url);
    await h.deploy(
      'echo',
      `export default async (req) => new Response(await req.arrayBuffer(), { status: 201, headers: [['x-path', new URL(req.url).pathname + new URL(req.url).search], ['set-cookie', 'a=1'], ['set-cookie', 'b=2']] });`,
    );
    await h.deploy('throws', `export default () => { throw new Error('nope'); };`);
    await h.deploy('slow', `export default () => new Promise(() => {});`, { timeoutMs: 500 });
  });
  afterAll(async () => {
    await h?.close();
  });

  it('returns status, headers (several set-cookie), binary body and meta', async () => {
    const body = Buffer.from([0, 1, 2, 255]);
    const res = await h.invoker.invoke(request('echo', { method: 'POST', path: '/a/b', rawQuery: 'x=1', body }));
    expect(res.status).toBe(201);
    expect(res.headers['x-path']).toBe('/a/b?x=1');
    expect(res.headers['set-cookie']).toEqual(['a=1', 'b=2']);
    expect(res.body.equals(body)).toBe(true);
    expect(res.meta).toMatchObject({ fn: 'echo', version: 1, coldStart: true });
    const again = await h.invoker.invoke(request('echo'));
    expect(again.meta.coldStart).toBe(false);
  });

  it.each([
    ['an unknown function', 'missing', 404, 'FUNCTION_NOT_FOUND'],
    ['a throwing handler', 'throws', 500, 'FUNCTION_ERROR'],
    ['a timeout', 'slow', 504, 'FUNCTION_TIMEOUT'],
  ])('fails %s with the same code and status', async (_label, fn, status, code) => {
    const error = await h.invoker.invoke(request(fn)).catch((e: unknown) => e);
    expect(error).toMatchObject({ status, code });
  });

  it('counts containers by state', async () => {
    const counts = await h.invoker.containerCounts();
    expect(counts.idle + counts.busy + counts.starting + counts.removing).toBeGreaterThanOrEqual(1);
  });
});

describe('RemoteInvoker without invokers', () => {
  it('answers NO_CAPACITY naming how to start one', async () => {
    const remote = new RemoteInvoker({ invokers: () => [], token: 'x' });
    await expect(remote.invoke(request('echo'))).rejects.toMatchObject({
      status: 503,
      code: 'NO_CAPACITY',
      message: expect.stringContaining('--role invoker'),
    });
  });
});
