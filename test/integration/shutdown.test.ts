// `faas up` in a real terminal (tmux): Ctrl-C drains and stops the platform and the redis-server it started,
// within FAAS_SHUTDOWN_TIMEOUT_MS, also when that Redis is already dead. Runs the CLI from its TypeScript source (no build step).
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort, requireDocker } from '../support/services.js';

const CLI = path.resolve('cli/main.ts');
const BOUND_MS = 15_000;
/** A private tmux server: nothing of this file touches the user's sessions, and kill-server cleans up all. */
const SOCKET = `faas-shutdown-${randomUUID().slice(0, 8)}`;
const dirs: string[] = [];
const pids = new Set<number>();

function tmux(...args: string[]): string {
  return execFileSync('tmux', ['-L', SOCKET, ...args], { encoding: 'utf8' });
}

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

async function waitFor<T>(what: string, check: () => T | undefined | false, timeoutMs: number, everyMs = 50): Promise<T> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const value = check();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > until) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

interface Up {
  session: string;
  dataDir: string;
  port: number;
  redisPort: number;
  /** The node process running `faas up`. */
  pid: number;
  /** The redis-server it started (from its pidfile, checked against the listening port). */
  redisPid: number;
  pane(): string;
}

/** Pids listening on a loopback TCP port, from `ss -ltnp`. */
function listeners(port: number): number[] {
  const out = execFileSync('ss', ['-ltnpH', `sport = :${port}`], { encoding: 'utf8' });
  return [...out.matchAll(/pid=(\d+)/g)].map((m) => Number(m[1]));
}

/** Starts `faas up` in a new tmux session and waits for /healthz. */
async function up(name: string, reuse?: { dataDir: string; port: number; redisPort: number }): Promise<Up> {
  const dataDir = reuse?.dataDir ?? mkdtempSync(path.join(os.tmpdir(), 'faas-shutdown-'));
  if (!reuse) dirs.push(dataDir);
  const port = reuse?.port ?? (await freePort());
  // Nothing answers there, so `faas up` starts its own redis-server on it.
  const redisPort = reuse?.redisPort ?? (await freePort());
  const env = {
    FAAS_PORT: String(port),
    FAAS_DATA_DIR: dataDir,
    REDIS_URL: `redis://127.0.0.1:${redisPort}`,
    FAAS_TOKEN: 'shutdown-test',
    FAAS_PREWARM: '1',
    FAAS_SHUTDOWN_TIMEOUT_MS: String(BOUND_MS),
    NO_COLOR: '1',
  };
  const assignments = Object.entries(env)
    .map(([k, v]) => `${k}='${v}'`)
    .join(' ');
  const session = `${name}-${randomUUID().slice(0, 6)}`;
  // The shell stays after node exits, so the pane (and the exit code) can still be read.
  tmux(
    'new-session',
    '-d',
    '-s',
    session,
    '-x',
    '200',
    '-y',
    '50',
    `cd '${process.cwd()}' && env ${assignments} '${process.execPath}' --import tsx '${CLI}' up; echo "FAAS EXITED $?"; sleep 3600`,
  );
  const pane = () => tmux('capture-pane', '-p', '-J', '-S', '-1000', '-t', session);
  const shellPid = Number(tmux('display-message', '-p', '-t', session, '#{pane_pid}').trim());
  const pid = await waitFor(
    'the faas process',
    () =>
      Number(
        execFileSync('ps', ['-o', 'pid=', '--ppid', String(shellPid)], { encoding: 'utf8' })
          .trim()
          .split(/\s+/)[0],
      ) || undefined,
    10_000,
  );
  pids.add(pid);
  try {
    await waitFor(
      '/healthz',
      () => {
        const shown = pane();
        if (shown.includes('FAAS EXITED')) throw new Error('faas up exited');
        return shown.includes('faas is up at');
      },
      90_000,
      200,
    );
    const res = await fetch(`http://127.0.0.1:${port}/healthz`);
    expect(res.status).toBe(200);
  } catch (err) {
    throw new Error(`${(err as Error).message}\n--- pane ---\n${pane()}`);
  }
  const redisPid = Number(readFileSync(path.join(dataDir, 'redis', 'redis-server.pid'), 'utf8').trim());
  pids.add(redisPid);
  expect(listeners(redisPort)).toContain(redisPid);
  // Its own session: the terminal's Ctrl-C (to the foreground process group) does not reach it.
  const [pgid, sid] = execFileSync('ps', ['-o', 'pgid=,sid=', '-p', String(redisPid)], { encoding: 'utf8' })
    .trim()
    .split(/\s+/)
    .map(Number);
  expect(pgid).toBe(redisPid);
  expect(sid).toBe(redisPid);
  // No pause here: a Ctrl-C while the prewarmed runtimes still start must stop as fast (it once waited for
  // their start until the bound).
  return { session, dataDir, port, redisPort, pid, redisPid, pane };
}

/** Sends Ctrl-C and returns how long until both processes were gone, and the exit code the pane shows. */
async function ctrlC(u: Up): Promise<{ ms: number; code: number }> {
  const began = Date.now();
  tmux('send-keys', '-t', u.session, 'C-c');
  try {
    await waitFor('faas and its redis-server to exit', () => !alive(u.pid) && !alive(u.redisPid), BOUND_MS + 2_000);
  } catch (err) {
    throw new Error(`${(err as Error).message}\n--- pane ---\n${u.pane()}`);
  }
  const ms = Date.now() - began;
  const code = await waitFor('the exit code in the pane', () => /FAAS EXITED (\d+)/.exec(u.pane())?.[1], 5_000);
  console.log(`${u.session}: stopped in ${ms} ms, exit code ${code}${code === '0' ? '' : `\n--- pane ---\n${u.pane()}`}`);
  return { ms, code: Number(code) };
}

beforeAll(async () => {
  execFileSync('tmux', ['-V']);
  await requireDocker();
});

afterAll(() => {
  try {
    tmux('kill-server');
  } catch {
    // no session left
  }
  for (const pid of pids) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

describe('faas up in a terminal', () => {
  it('stops on one Ctrl-C: drains, stops the redis-server it started, exits 0 within the bound', async () => {
    const u = await up('ctrlc');
    const { ms, code } = await ctrlC(u);
    expect(ms).toBeLessThan(BOUND_MS);
    expect(code).toBe(0);
    const pane = u.pane();
    expect(pane).toContain('SIGINT: draining and stopping');
    expect(pane).toMatch(/redis-server \d+ stopped in/);
    expect(listeners(u.redisPort)).toEqual([]);
    expect(existsSync(path.join(u.dataDir, 'redis', 'redis-server.pid'))).toBe(false);
  });

  it('stops on one Ctrl-C when its redis-server was already killed', async () => {
    const u = await up('noredis');
    process.kill(u.redisPid, 'SIGKILL');
    await waitFor('the platform to notice Redis is gone', () => u.pane().includes('Redis unreachable'), 10_000);
    const { ms, code } = await ctrlC(u);
    expect(ms).toBeLessThan(BOUND_MS);
    expect(code).toBe(0);
    expect(u.pane()).toContain('SIGINT: draining and stopping');
  });

  it('adopts the redis-server a killed `faas up` left running and stops it on Ctrl-C', async () => {
    const first = await up('orphan');
    process.kill(first.pid, 'SIGKILL');
    await waitFor('faas to die', () => !alive(first.pid), 5_000);
    expect(alive(first.redisPid)).toBe(true);
    tmux('kill-session', '-t', first.session);

    const second = await up('adopt', first);
    expect(second.redisPid).toBe(first.redisPid);
    expect(second.pane()).toContain(`using redis-server ${first.redisPid} left running by an earlier`);
    const { ms, code } = await ctrlC(second);
    expect(ms).toBeLessThan(BOUND_MS);
    expect(code).toBe(0);
    expect(listeners(second.redisPort)).toEqual([]);
  });

  it('stops when its terminal closes (SIGHUP): its containers and the redis-server it started go too', async () => {
    const u = await up('hangup');
    const owner = `${os.hostname()}-${u.port}`;
    const docker = await requireDocker();
    const containers = () => docker.listContainers({ all: true, filters: { label: [`faas.owner=${owner}`] } });
    for (let i = 0; i < 600 && (await containers()).length === 0; i++) await new Promise((r) => setTimeout(r, 100));
    expect((await containers()).length).toBeGreaterThan(0); // its prewarmed runtime
    tmux('kill-session', '-t', u.session);
    await waitFor('faas and its redis-server to exit', () => !alive(u.pid) && !alive(u.redisPid), BOUND_MS + 5_000);
    expect(listeners(u.redisPort)).toEqual([]);
    expect(await containers()).toEqual([]);
  });
});
