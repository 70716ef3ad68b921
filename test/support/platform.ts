// Starts a whole platform (real Redis, real Docker) for end-to-end tests, with a small API client.
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import { loadConfig, type PlatformConfig } from '../../platform/config.js';
import { startPlatform, type RunningPlatform } from '../../platform/start-platform.js';
import { requireDocker, startRedis, type TestRedis } from './services.js';

export interface TestPlatform {
  config: PlatformConfig;
  redis: TestRedis;
  running: RunningPlatform;
  url: string;
  token: string;
  /** Management API call with the bearer token; returns status and parsed JSON (or undefined). */
  api(method: string, route: string, body?: unknown): Promise<{ status: number; body: any }>;
  /** The same with another token (a tenant's). */
  apiAs(token: string, method: string, route: string, body?: unknown): Promise<{ status: number; body: any }>;
  deploy(name: string, code: string, settings?: Record<string, unknown>): Promise<{ status: number; body: any }>;
  /** deploy(), failing with the API's answer unless the function was deployed. */
  deployOk(name: string, code: string, settings?: Record<string, unknown>): Promise<void>;
  /** Calls /fn/<name><rest>. */
  call(name: string, rest?: string, init?: RequestInit): Promise<Response>;
  /** Stops the platform process part and starts it again on the same Redis and data dir. */
  restart(options?: { redisToo?: boolean }): Promise<void>;
  stop(): Promise<void>;
}

export const uniqueName = (stem = 'fn') => `${stem}-${randomUUID().slice(0, 8)}`;

export async function startTestPlatform(env: Record<string, string> = {}): Promise<TestPlatform> {
  await requireDocker();
  const redis = await startRedis();
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'faas-'));
  const config = loadConfig({
    REDIS_URL: redis.url,
    FAAS_DATA_DIR: dataDir,
    FAAS_TOKEN: `test-${randomUUID()}`,
    FAAS_INVOKER_ID: `test-${randomUUID().slice(0, 8)}`,
    FAAS_LOG_LEVEL: 'warn',
    ...env,
  });
  let running = await startPlatform(config, { port: 0 });
  const platform: TestPlatform = {
    config,
    redis,
    get running() {
      return running;
    },
    get url() {
      return running.url;
    },
    token: config.token!,
    api(method, route, body) {
      return platform.apiAs(config.token!, method, route, body);
    },
    async apiAs(token, method, route, body) {
      const response = await fetch(`${running.url}${route}`, {
        method,
        headers: {
          authorization: `Bearer ${token}`,
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        },
        ...(body === undefined ? {} : { body: typeof body === 'string' ? body : JSON.stringify(body) }),
      });
      const text = await response.text();
      return { status: response.status, body: text ? JSON.parse(text) : undefined };
    },
    deploy(name, code, settings = {}) {
      return platform.api('PUT', `/api/v1/functions/${name}`, { code, ...settings });
    },
    async deployOk(name, code, settings = {}) {
      const res = await platform.deploy(name, code, settings);
      if (res.status >= 300) throw new Error(`deploy of ${name} answered ${res.status}: ${JSON.stringify(res.body)}`);
    },
    call(name, rest = '', init) {
      return fetch(`${running.url}/fn/${name}${rest}`, init);
    },
    async restart(options = {}) {
      await running.close();
      if (options.redisToo) await redis.restart();
      running = await startPlatform(config, { port: 0 });
    },
    async stop() {
      await running.close();
      await redis.stop();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
  return platform;
}

/** Polls until `check` returns a value (not undefined), or fails naming what it waited for. */
export async function waitUntil<T>(what: string, check: () => Promise<T | undefined>, timeoutMs = 30_000, everyMs = 50): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, everyMs));
  }
}

/** Starts test/support/platform-child.ts in its own process; resolves when it listens. */
export async function startPlatformChild(env: Record<string, string>): Promise<{ child: import('node:child_process').ChildProcess; url: string }> {
  const { spawn } = await import('node:child_process');
  const script = path.join(path.dirname(new URL(import.meta.url).pathname), 'platform-child.ts');
  const child = spawn(process.execPath, ['--import', 'tsx', script], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'inherit'] });
  const url = await new Promise<string>((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      const match = /ready (\S+)/.exec(out);
      if (match) resolve(match[1]!);
    });
    child.once('exit', (code) => reject(new Error(`platform child exited with ${code} before it was ready`)));
  });
  return { child, url };
}
