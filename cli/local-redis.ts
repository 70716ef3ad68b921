// Redis for `faas up`: use the one at REDIS_URL, or start a redis-server (AOF on) with its data under the data dir.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { Redis } from 'ioredis';
import { CliError } from './errors.js';

async function answers(url: string): Promise<boolean> {
  const probe = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0, connectTimeout: 1_000, retryStrategy: () => null });
  probe.on('error', () => {});
  try {
    await probe.connect();
    await probe.ping();
    return true;
  } catch {
    return false;
  } finally {
    probe.disconnect();
  }
}

export interface LocalRedis {
  /** Set when this process started redis-server. */
  child?: ChildProcess;
  stop(): Promise<void>;
}

/** Returns at once when Redis answers at url; else starts redis-server on url's port and waits for it. */
export async function ensureRedis(url: string, dataDir: string, log: (msg: string) => void): Promise<LocalRedis> {
  if (await answers(url)) return { stop: async () => {} };
  const { hostname, port } = new URL(url);
  if (hostname !== '127.0.0.1' && hostname !== 'localhost') {
    throw new CliError(`Redis at ${url} does not answer`, 'start it, or unset REDIS_URL to let `faas up` run one locally');
  }
  const dir = path.join(dataDir, 'redis');
  mkdirSync(dir, { recursive: true });
  // fsync before every reply: a job or usage batch Redis acknowledged survives Redis being killed.
  const args = ['--port', port || '6379', '--bind', '127.0.0.1', '--appendonly', 'yes', '--appendfsync', 'always', '--dir', dir];
  log(`starting redis-server on port ${port || 6379} (data in ${dir})`);
  const child = spawn('redis-server', args, { stdio: 'ignore' });
  const spawnError = new Promise<never>((_, reject) =>
    child.once('error', (err: NodeJS.ErrnoException) =>
      reject(
        err.code === 'ENOENT'
          ? new CliError('redis-server is not installed and no Redis answers at ' + url, 'install it: apt-get install -y redis-server')
          : err,
      ),
    ),
  );
  const ready = (async () => {
    for (let i = 0; i < 100; i++) {
      if (await answers(url)) return;
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new CliError(`redis-server did not start on port ${port || 6379}`, 'see whether another program holds the port');
  })();
  await Promise.race([ready, spawnError]);
  return {
    child,
    async stop() {
      if (child.exitCode !== null) return;
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await exited;
    },
  };
}
