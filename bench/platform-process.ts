// The platform under test, in its own process (`faas up`) with a private Redis, so the load generator does not share its event loop.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer().listen(0, '127.0.0.1', () => {
      const address = server.address() as net.AddressInfo;
      server.close(() => resolve(address.port));
    });
    server.on('error', reject);
  });
}

export interface PlatformProcess {
  url: string;
  token: string;
  /** Its private Redis (the async benchmark's raw BullMQ baseline runs on the same one). */
  redisUrl: string;
  /** The platform process's resident memory, bytes (from /proc). */
  rssBytes(): number;
  stop(): Promise<void>;
}

async function waitFor(check: () => Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check().catch(() => false))) {
    if (Date.now() > deadline) throw new Error(`${what} did not come up within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

const stopChild = async (child: ChildProcess) => {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  await exited;
};

export async function startPlatformProcess(extraEnv: Record<string, string> = {}): Promise<PlatformProcess> {
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'faas-bench-platform-'));
  const redisPort = await freePort();
  const port = await freePort();
  const token = randomBytes(16).toString('hex');
  // As `faas up` runs it: AOF with fsync before every reply.
  const redis = spawn(
    'redis-server',
    [
      '--port',
      String(redisPort),
      '--bind',
      '127.0.0.1',
      '--save',
      '',
      '--appendonly',
      'yes',
      '--appendfsync',
      process.env.BENCH_FSYNC ?? 'always',
      '--dir',
      dataDir,
    ],
    {
      stdio: 'ignore',
    },
  );
  const cli = fileURLToPath(new URL('../cli/main.js', import.meta.url));
  // BENCH_PROFILE=<dir>: the platform writes a CPU profile there when it stops.
  const profile = process.env.BENCH_PROFILE ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_PROFILE}`] : [];
  const platform = spawn(process.execPath, [...profile, cli, 'up'], {
    env: {
      ...process.env,
      FAAS_PORT: String(port),
      FAAS_TOKEN: token,
      REDIS_URL: `redis://127.0.0.1:${redisPort}`,
      FAAS_DATA_DIR: dataDir,
      FAAS_LOG_LEVEL: 'warn',
      FAAS_INVOKER_ID: `bench-${port}`,
      ...extraEnv,
    },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  const url = `http://127.0.0.1:${port}`;
  await waitFor(async () => (await fetch(`${url}/healthz`)).ok, 120_000, 'the platform');
  return {
    url,
    token,
    redisUrl: `redis://127.0.0.1:${redisPort}`,
    rssBytes() {
      // 0 once the process is gone (a sampler still running after a failed step must not crash the bench).
      try {
        const status = readFileSync(`/proc/${platform.pid}/status`, 'utf8');
        return Number(/VmRSS:\s+(\d+) kB/.exec(status)?.[1] ?? 0) * 1024;
      } catch {
        return 0;
      }
    },
    async stop() {
      await stopChild(platform);
      await stopChild(redis);
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
