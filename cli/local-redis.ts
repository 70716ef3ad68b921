// Redis for `faas up`: use the one at REDIS_URL, or start a redis-server (AOF on) with its data under the data dir.
//
// The redis-server it starts runs in its own session (detached), so a terminal's Ctrl-C reaches only the
// platform, which drains through Redis and then stops it. Its pid is kept in <dataDir>/redis/redis-server.pid:
// when the platform died without stopping it (kill -9, crash), the next `faas up` finds it there, adopts
// it (it answers at REDIS_URL and is the redis-server of this data dir) and stops it at its own shutdown.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, readFileSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
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
  /** The redis-server this process stops at shutdown (started by it, or adopted from an earlier run). */
  pid?: number;
  /** SIGTERM (redis-server saves and exits), then SIGKILL when it has not exited within timeoutMs. */
  stop(timeoutMs?: number): Promise<void>;
  /** SIGTERM without waiting (a second Ctrl-C). */
  signal(): void;
}

const PIDFILE = 'redis-server.pid';

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** The pid in the pidfile when that process is a redis-server with its data in dir (Linux /proc), else undefined. */
function leftBehind(dir: string): number | undefined {
  const pid = Number(readFileSync(path.join(dir, PIDFILE), 'utf8').trim());
  if (!Number.isInteger(pid) || pid <= 0 || !alive(pid)) return undefined;
  try {
    // redis-server rewrites its command line, but keeps its name and runs in its --dir.
    if (readFileSync(`/proc/${pid}/comm`, 'utf8').trim() !== 'redis-server') return undefined;
    return realpathSync(`/proc/${pid}/cwd`) === realpathSync(dir) ? pid : undefined;
  } catch {
    return undefined;
  }
}

function stopper(pid: number, dir: string, exited: () => boolean, waitExit: Promise<unknown> | undefined): LocalRedis {
  const kill = (signal: NodeJS.Signals) => {
    // Never 0 or negative: process.kill would signal a whole process group (-1: every process).
    if (!Number.isInteger(pid) || pid <= 0) return;
    try {
      process.kill(pid, signal);
    } catch {
      // already gone
    }
  };
  return {
    pid,
    signal: () => kill('SIGTERM'),
    async stop(timeoutMs = 10_000) {
      const gone = async (within: number) => {
        const until = Date.now() + within;
        const polling = (async () => {
          while (!exited() && Date.now() < until) await new Promise((r) => setTimeout(r, 25));
        })();
        await Promise.race([polling, ...(waitExit ? [waitExit] : [])]);
        return exited();
      };
      if (!exited()) {
        kill('SIGTERM');
        if (!(await gone(timeoutMs))) {
          kill('SIGKILL');
          await gone(2_000);
        }
      }
      rmSync(path.join(dir, PIDFILE), { force: true });
    },
  };
}

/** Returns at once when Redis answers at url; else starts redis-server on url's port and waits for it. */
export async function ensureRedis(url: string, dataDir: string, log: (msg: string) => void): Promise<LocalRedis> {
  const dir = path.join(dataDir, 'redis');
  let orphan: number | undefined;
  try {
    orphan = leftBehind(dir);
  } catch {
    // no pidfile
  }
  if (await answers(url)) {
    if (orphan === undefined) return { stop: async () => {}, signal: () => {} };
    log(`using redis-server ${orphan} left running by an earlier \`faas up\`; it is stopped with this one`);
    return stopper(orphan, dir, () => !alive(orphan), undefined);
  }
  const { hostname, port } = new URL(url);
  if (hostname !== '127.0.0.1' && hostname !== 'localhost') {
    throw new CliError(`Redis at ${url} does not answer`, 'start it, or unset REDIS_URL to let `faas up` run one locally');
  }
  if (orphan !== undefined) {
    // Ours from an earlier run, but not answering at url (another port, or hung): stop it before starting one.
    log(`stopping redis-server ${orphan} left running by an earlier \`faas up\``);
    await stopper(orphan, dir, () => !alive(orphan), undefined).stop(5_000);
  }
  mkdirSync(dir, { recursive: true });
  // fsync before every reply: a job or usage batch Redis acknowledged survives Redis being killed.
  const args = ['--port', port || '6379', '--bind', '127.0.0.1', '--appendonly', 'yes', '--appendfsync', 'always', '--dir', dir];
  log(`starting redis-server on port ${port || 6379} (data in ${dir})`);
  // Its own session and process group: a terminal's Ctrl-C (SIGINT to the foreground group) reaches only
  // the platform, which needs Redis while it drains and stops it last. Not unref'd: it is stopped by us.
  const child = spawn('redis-server', args, { stdio: 'ignore', detached: true });
  const spawnError = new Promise<never>((_, reject) =>
    child.once('error', (err: NodeJS.ErrnoException) =>
      reject(
        err.code === 'ENOENT'
          ? new CliError(`redis-server is not installed and no Redis answers at ${url}`, 'install it: apt-get install -y redis-server')
          : err,
      ),
    ),
  );
  const exited = new Promise((r) => child.once('exit', r));
  const started = stopper(child.pid ?? 0, dir, () => child.pid === undefined || child.exitCode !== null || child.signalCode !== null, exited);
  if (child.pid !== undefined) writeFileSync(path.join(dir, PIDFILE), `${child.pid}\n`);
  const ready = (async () => {
    for (let i = 0; i < 100; i++) {
      if (await answers(url)) return;
      if (child.exitCode !== null) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new CliError(`redis-server did not start on port ${port || 6379}`, 'see whether another program holds the port');
  })();
  try {
    await Promise.race([ready, spawnError]);
  } catch (err) {
    await started.stop(2_000);
    throw err;
  }
  return { ...started, child };
}
