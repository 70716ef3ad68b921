// faas up: the whole platform in this process (gateway + invoker), on the local Docker engine and Redis.
import { existsSync } from 'node:fs';
import type { Command } from 'commander';
import pc from 'picocolors';
import { loadConfig } from '../../gateway/config.js';
import { startPlatform } from '../../gateway/platform.js';
import { CliError } from '../errors.js';
import { ensureRedis } from '../local-redis.js';
import { info, ok } from '../output.js';

export function registerUp(program: Command): void {
  program
    .command('up')
    .description('start the platform here: gateway and invoker in one process, local Docker, local Redis')
    .option('--role <role>', "all (default), gateway (relays to invokers found in Redis) or invoker (runs containers for gateways)")
    .action(async (flags: { role?: string }) => {
      const config = loadConfig(flags.role ? { ...process.env, FAAS_ROLE: flags.role } : process.env);
      if (config.role !== 'gateway' && !existsSync(config.dockerSocket)) {
        throw new CliError(
          `no Docker engine socket at ${config.dockerSocket}`,
          'install and start Docker: `bash cli/setup-host.sh` (as root), or set DOCKER_SOCKET',
        );
      }
      const redis = await ensureRedis(config.redisUrl, config.dataDir, info);
      let platform;
      try {
        platform = await startPlatform(config, { onProgress: info });
      } catch (err) {
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
      const running = platform;
      await new Promise<void>((resolve) => {
        const stop = (signal: string) => {
          info(`${signal}: draining and stopping`);
          void running
            .close()
            .then(() => redis.stop())
            .finally(resolve);
        };
        process.once('SIGINT', () => stop('SIGINT'));
        process.once('SIGTERM', () => stop('SIGTERM'));
      });
    });
}
