// faas up: the whole platform in this process (gateway + invoker), on the local Docker engine and Redis.
import { closeSync, existsSync, fstatSync, openSync } from 'node:fs';
import type { Command } from 'commander';
import pc from 'picocolors';
import { loadConfig } from '../../platform/config.js';
import { startPlatform, type RunningPlatform } from '../../platform/start-platform.js';
import { CliError } from '../errors.js';
import { ensureRedis, type LocalRedis } from '../local-redis.js';
import { fail, info, ok } from '../output.js';

export function registerUp(program: Command): void {
  program
    .command('up')
    .description('start the platform here: gateway and invoker in one process, local Docker, local Redis')
    .option('--role <role>', 'all (default), gateway (relays to invokers found in Redis) or invoker (runs containers for gateways)')
    .action(async (flags: { role?: string }) => {
      const config = loadConfig(flags.role ? { ...process.env, FAAS_ROLE: flags.role } : process.env);
      if (config.role !== 'gateway' && !existsSync(config.dockerSocket)) {
        throw new CliError(
          `no Docker engine socket at ${config.dockerSocket}`,
          'install and start Docker: `bash cli/setup-host.sh` (as root), or set DOCKER_SOCKET',
        );
      }
      // With Redis Sentinel the operator runs Redis; otherwise one is started here when none answers.
      const redis = config.redis.sentinels ? { stop: async () => {}, signal: () => {} } : await ensureRedis(config.redisUrl, config.dataDir, info);
      // A signal while the platform starts: nothing to drain yet; stop the redis-server we started and go.
      const early = (signal: NodeJS.Signals) => {
        info(`${signal}: stopping before the platform is up`);
        void redis.stop(5_000).finally(() => process.exit(130));
      };
      // A closed terminal (SIGHUP) stops the platform as Ctrl-C does; its output has nowhere to go then, and the
      // logger's synchronous writes to the hung-up terminal would block the drain: they go to /dev/null instead.
      for (const stream of [process.stdout, process.stderr]) stream.on('error', () => {});
      process.once('SIGHUP', detachFromTerminal);
      process.once('SIGINT', early);
      process.once('SIGTERM', early);
      process.once('SIGHUP', early);
      let platform: RunningPlatform;
      try {
        platform = await startPlatform(config, { onProgress: info });
      } catch (err) {
        process.off('SIGINT', early);
        process.off('SIGTERM', early);
        process.off('SIGHUP', early);
        await redis.stop();
        const e = err as NodeJS.ErrnoException;
        if (e.code === 'EADDRINUSE') throw new CliError(`port ${config.port} is in use`, 'stop what holds it, or set FAAS_PORT');
        if (e.code === 'EACCES' || e.code === 'ECONNREFUSED') {
          throw new CliError(`cannot use the Docker engine at ${config.dockerSocket}: ${e.message}`, 'is dockerd running, and are you root?');
        }
        throw err;
      }
      ok(config.role === 'invoker' ? `invoker ${config.invokerId} serves gateways at ${pc.bold(platform.url)}` : `faas is up at ${pc.bold(platform.url)}`);
      info(`token: ${platform.token}${platform.tokenFile ? ` (saved in ${platform.tokenFile})` : ''}`);
      info('deploy a function: faas deploy functions/hello.ts');
      process.off('SIGINT', early);
      process.off('SIGTERM', early);
      process.off('SIGHUP', early);
      const running = platform;
      const code = await new Promise<number>((resolve) => {
        let signals = 0;
        const onSignal = (signal: NodeJS.Signals) => {
          if (++signals === 1) {
            void shutdown(running, redis, config.shutdownTimeoutMs, signal).then(resolve);
            return;
          }
          // A second signal: exit at once (our redis-server gets SIGTERM: it saves and exits on its own).
          fail(`${signal} again: exiting without waiting for the drain`);
          redis.signal();
          process.exit(130);
        };
        process.on('SIGINT', onSignal);
        process.on('SIGTERM', onSignal);
        process.on('SIGHUP', onSignal);
      });
      // Whatever still holds the event loop (a reconnecting client, a timer) must not keep a stopped platform alive.
      process.exit(code);
    });
}

/** Longest wait for our redis-server to exit after SIGTERM, taken out of the overall bound. */
const REDIS_STOP_MS = 5_000;

/**
 * Stops in order, within boundMs: the platform closes (the gateway stops taking requests, in-flight
 * calls and async jobs finish or fail, the pool drains, the usage journal ships to Redis), then the
 * redis-server we started stops. Resolves to the exit code: 0, or 1 when a step did not finish in time.
 */
async function shutdown(platform: RunningPlatform, redis: LocalRedis, boundMs: number, signal: string): Promise<number> {
  const began = Date.now();
  const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
  info(`${signal}: draining and stopping (at most ${seconds(boundMs)}; press Ctrl-C again to exit at once)`);
  const platformMs = redis.pid === undefined ? boundMs : Math.max(boundMs - REDIS_STOP_MS, boundMs / 2);
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<'timeout'>((r) => (timer = setTimeout(() => r('timeout'), platformMs)));
  const closed = platform.close().then(
    () => 'closed' as const,
    (err: Error) => err,
  );
  const outcome = await Promise.race([closed, timedOut]);
  clearTimeout(timer);
  let code = 0;
  if (outcome === 'timeout') {
    fail(
      `shutdown: after ${seconds(platformMs)} the platform had not finished closing: still pending are in-flight calls, ` +
        'async jobs, the container pool drain or the usage journal flush (unshipped usage stays in the journal and ships at the next start)',
    );
    code = 1;
  } else if (outcome instanceof Error) {
    fail(`shutdown: the platform did not close cleanly: ${outcome.message}`);
    code = 1;
  } else {
    info(`platform closed in ${seconds(Date.now() - began)}`);
  }
  if (redis.pid !== undefined) {
    const redisMs = Math.max(1_000, boundMs - (Date.now() - began));
    const stopping = Date.now();
    await redis.stop(redisMs);
    info(`redis-server ${redis.pid} stopped in ${seconds(Date.now() - stopping)}`);
  }
  info(`stopped in ${seconds(Date.now() - began)}`);
  return code;
}

/** Points file descriptors 1 and 2, where they are a terminal (a character device; a hung-up one fails isatty), at /dev/null (close, then open takes the lowest free fd). */
function detachFromTerminal(): void {
  for (const fd of [1, 2]) {
    if (!fstatSync(fd).isCharacterDevice()) continue;
    try {
      closeSync(fd);
      const reopened = openSync('/dev/null', 'w');
      if (reopened !== fd) closeSync(reopened);
    } catch {
      // Nothing more to do: the shutdown goes on either way.
    }
  }
}
