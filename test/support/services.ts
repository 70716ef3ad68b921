// Real Redis and Docker for integration tests: start a private redis-server, check the Docker engine; fail loudly when missing.
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import Docker from 'dockerode';

const HOW_TO_START = 'Install and start the services with `bash cli/setup-host.sh` (as root: installs docker.io and redis-server, starts dockerd).';

/** Finds a free TCP port on loopback. */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))));
    });
    server.on('error', reject);
  });
}

export interface TestRedis {
  url: string;
  port: number;
  dir: string;
  /** Stops the server (SHUTDOWN, so the AOF is flushed) and starts it again on the same port and data. */
  restart(): Promise<void>;
  /** Kills the server with SIGKILL (no AOF rewrite, as a crash) and leaves it down until start(). */
  kill(): Promise<void>;
  start(): Promise<void>;
  stop(): Promise<void>;
}

export function redisBinary(): string {
  try {
    return execFileSync('sh', ['-c', 'command -v redis-server'], { encoding: 'utf8' }).trim();
  } catch {
    throw new Error(`redis-server is not installed, and the integration tests need a real Redis. ${HOW_TO_START}`);
  }
}

export async function waitForPort(port: number, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const ok = await new Promise<boolean>((resolve) => {
      const socket = net.connect(port, '127.0.0.1', () => {
        socket.end();
        resolve(true);
      });
      socket.on('error', () => resolve(false));
    });
    if (ok) return;
    if (Date.now() > deadline) throw new Error(`redis-server did not answer on port ${port} within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** Starts a private redis-server (AOF, fsync always, as `faas up` runs it) in a temporary directory. */
export async function startRedis(): Promise<TestRedis> {
  const binary = redisBinary();
  const dir = mkdtempSync(path.join(os.tmpdir(), 'faas-redis-'));
  const port = await freePort();
  let child: ChildProcess | undefined;
  const start = async () => {
    child = spawn(binary, ['--port', String(port), '--bind', '127.0.0.1', '--appendonly', 'yes', '--appendfsync', 'always', '--dir', dir, '--save', ''], {
      stdio: 'ignore',
    });
    await waitForPort(port, 10_000);
  };
  const stopChild = async () => {
    const c = child;
    if (!c || c.exitCode !== null) return;
    const exited = new Promise((r) => c.once('exit', r));
    c.kill('SIGTERM');
    await exited;
  };
  await start();
  return {
    url: `redis://127.0.0.1:${port}`,
    port,
    dir,
    async restart() {
      await stopChild();
      await start();
    },
    async kill() {
      const c = child;
      if (!c || c.exitCode !== null) return;
      const exited = new Promise((r) => c.once('exit', r));
      c.kill('SIGKILL');
      await exited;
    },
    start,
    async stop() {
      await stopChild();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Throws with instructions when no Docker engine answers. */
export async function requireDocker(socketPath = '/var/run/docker.sock'): Promise<Docker> {
  const docker = new Docker({ socketPath });
  try {
    await docker.ping();
  } catch (err) {
    throw new Error(`No Docker engine answers at ${socketPath} (${(err as Error).message}); the integration tests need a real one. ${HOW_TO_START}`);
  }
  return docker;
}

/** Debian's Chromium for browser tests (never a downloaded browser); fails saying how to install it. */
export function requireChromium(): string {
  for (const candidate of ['/usr/bin/chromium', '/usr/bin/chromium-browser']) {
    try {
      execFileSync(candidate, ['--version'], { stdio: 'ignore' });
      return candidate;
    } catch {
      // try the next one
    }
  }
  throw new Error(
    "Chromium is not installed, and the dashboard test drives a real browser. Install it with `apt-get install -y chromium` (Debian's package; .ci/run does this).",
  );
}
