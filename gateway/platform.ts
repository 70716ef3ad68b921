// Wires one platform process: Redis stores, the Docker-backed in-process invoker, metering and the gateway.
import { randomBytes } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import Docker from 'dockerode';
import { Redis } from 'ioredis';
import type { PlatformConfig } from './config.js';
import { buildApp } from './app.js';
import { DockerDriver } from '../invoker/driver/docker/docker-driver.js';
import { ContainerPool } from '../invoker/pool/container-pool.js';
import { CodeCache } from '../invoker/code-cache.js';
import { InProcessInvoker } from '../invoker/in-process-invoker.js';
import { createRuntimeConnection } from '../invoker/runtime/undici-runtime-connection.js';
import { RedisFunctionRegistry } from '../invoker/registry/redis-function-registry.js';
import { RedisUsageStore } from '../invoker/metering/redis-usage-store.js';
import { RedisInvocationLogStore } from '../invoker/metering/redis-invocation-log-store.js';
import { attachMeter } from '../invoker/metering/meter.js';
import { ensureRuntimeImage } from '../runtime-images/node/build-image.js';

export interface RunningPlatform {
  /** Where the gateway listens, e.g. http://127.0.0.1:8080. */
  url: string;
  token: string;
  /** Set when the token was generated and saved rather than given by FAAS_TOKEN. */
  tokenFile?: string;
  close(): Promise<void>;
}

export interface StartOptions {
  onProgress?: (message: string) => void;
  /** Listen on this port instead of config.port (0 = any free port; tests use it). */
  port?: number;
}

/** Returns FAAS_TOKEN, or the token saved under dataDir, or a new one saved there (mode 0600). */
async function resolveToken(config: PlatformConfig): Promise<{ token: string; tokenFile?: string }> {
  if (config.token) return { token: config.token };
  const tokenFile = path.join(config.dataDir, 'token');
  const saved = await readFile(tokenFile, 'utf8').catch(() => '');
  if (saved.trim()) return { token: saved.trim(), tokenFile };
  const token = randomBytes(24).toString('base64url');
  await writeFile(tokenFile, `${token}\n`, { mode: 0o600 });
  return { token, tokenFile };
}

export async function startPlatform(config: PlatformConfig, options: StartOptions = {}): Promise<RunningPlatform> {
  const progress = options.onProgress ?? (() => {});
  await mkdir(config.dataDir, { recursive: true, mode: 0o755 });
  const { token, tokenFile } = await resolveToken(config);

  const redis = new Redis(config.redisUrl, { enableAutoPipelining: true, maxRetriesPerRequest: null, lazyConnect: true });
  await redis.connect();

  const docker = new Docker({ socketPath: config.dockerSocket });
  progress('checking the runtime image');
  const image = config.runtimeImage ?? (await ensureRuntimeImage(docker, { onProgress: progress }));

  const registry = await RedisFunctionRegistry.open({ redis, prefix: config.redisPrefix });
  const usage = new RedisUsageStore({ redis, prefix: config.redisPrefix });
  const logs = new RedisInvocationLogStore({ redis, prefix: config.redisPrefix });
  const driver = new DockerDriver(docker);
  const pool = new ContainerPool({
    driver,
    connect: createRuntimeConnection,
    codeCache: new CodeCache({ dataDir: config.dataDir, registry }),
    image,
    dataDir: config.dataDir,
    owner: config.invokerId,
    poolMemoryMb: config.poolMemoryMb,
    maxQueue: config.maxQueue,
    maxQueueWaitMs: config.maxQueueWaitMs,
    pidsLimit: config.pidsLimit,
    tmpMb: config.tmpMb,
  });
  progress('removing containers left behind');
  await pool.start();
  const invoker = new InProcessInvoker({ registry, pool });
  const detachMeter = attachMeter(invoker, { usage, logs });

  const app = await buildApp({ config, token, registry, invoker, events: invoker, usage, logs, logger: { level: config.logLevel } });
  const address = await app.listen({ host: config.host, port: options.port ?? config.port });
  const url = options.port === undefined ? config.publicUrl : address.replace('[::1]', '127.0.0.1');

  let closed = false;
  return {
    url,
    token,
    ...(tokenFile ? { tokenFile } : {}),
    async close() {
      if (closed) return;
      closed = true;
      await app.close();
      await invoker.close();
      detachMeter();
      await usage.flush();
      await registry.close();
      redis.disconnect();
    },
  };
}

