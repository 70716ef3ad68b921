// faas deploy <file>: bundle with esbuild, upload, print the URL.
import path from 'node:path';
import type { Command } from 'commander';
import ora from 'ora';
import { ApiClient } from '../api-client.js';
import { bundleFunction } from '../bundle.js';
import { loadCliConfig } from '../cli-config.js';
import { parseDurationMs } from '../duration.js';
import { CliError } from '../errors.js';
import { formatBytes, info, ok } from '../output.js';
import type { FunctionSpec } from '../../invoker/core/function-spec.js';

export interface DeployFlags {
  name?: string;
  memory?: string;
  cpu?: string;
  timeout?: string;
  concurrency?: string;
  minScale?: string;
  maxScale?: string;
  idleTimeout?: string;
  env?: string[];
  network?: boolean;
}

function integer(flag: string, value: string): number {
  if (!/^\d+$/.test(value)) throw new CliError(`--${flag} ${value} is not a whole number`, `e.g. --${flag} 2`);
  return Number(value);
}

function duration(flag: string, value: string): number {
  try {
    return parseDurationMs(value);
  } catch (err) {
    throw new CliError(`--${flag}: ${(err as Error).message}`);
  }
}

/** Pure: the function name and the settings part of the deploy body from the file path and flags. */
export function deploySettings(file: string, flags: DeployFlags): { name: string; settings: Record<string, unknown> } {
  const name = flags.name ?? path.basename(file).replace(/\.[^.]+$/, '').toLowerCase();
  if (!/^[a-z][a-z0-9-]{0,62}$/.test(name)) {
    throw new CliError(
      `"${name}" is not a valid function name`,
      'use lower-case letters, digits and dashes, starting with a letter (set it with --name)',
    );
  }
  const settings: Record<string, unknown> = {};
  if (flags.memory !== undefined) settings.memoryMb = integer('memory', flags.memory);
  if (flags.cpu !== undefined) {
    const cpus = Number(flags.cpu);
    if (!Number.isFinite(cpus) || cpus <= 0) throw new CliError(`--cpu ${flags.cpu} is not a positive number`, 'e.g. --cpu 0.5');
    settings.cpus = cpus;
  }
  if (flags.timeout !== undefined) settings.timeoutMs = duration('timeout', flags.timeout);
  if (flags.concurrency !== undefined) settings.concurrency = integer('concurrency', flags.concurrency);
  if (flags.minScale !== undefined) settings.minScale = integer('min-scale', flags.minScale);
  if (flags.maxScale !== undefined) settings.maxScale = integer('max-scale', flags.maxScale);
  if (flags.idleTimeout !== undefined) settings.idleTimeoutMs = duration('idle-timeout', flags.idleTimeout);
  if (flags.env?.length) {
    const env: Record<string, string> = {};
    for (const pair of flags.env) {
      const at = pair.indexOf('=');
      if (at <= 0) throw new CliError(`--env ${pair} is not KEY=VALUE`, 'e.g. --env GREETING=hello');
      env[pair.slice(0, at)] = pair.slice(at + 1);
    }
    settings.env = env;
  }
  if (flags.network) settings.network = true;
  return { name, settings };
}

const collect = (value: string, previous: string[] = []) => [...previous, value];

export function registerDeploy(program: Command): void {
  program
    .command('deploy')
    .description('bundle a function file with esbuild and deploy it')
    .argument('<file>', 'the function: a .ts or .js file exporting a handler')
    .option('--name <name>', 'function name (default: the file name)')
    .option('--memory <MB>', 'memory limit in MB (default 128)')
    .option('--cpu <cores>', 'CPU limit in cores, e.g. 0.5 (default 1)')
    .option('--timeout <duration>', 'time limit per call, e.g. 30s (default 30s)')
    .option('--concurrency <n>', 'requests one container serves at once (default 1)')
    .option('--min-scale <n>', 'containers kept warm (default 0)')
    .option('--max-scale <n>', 'containers at most (default 10)')
    .option('--idle-timeout <duration>', 'idle time before a container is removed, e.g. 10m (default 10m)')
    .option('--env <KEY=VALUE>', 'environment variable for the function (repeatable)', collect)
    .option('--network', 'allow outbound network from the function')
    .action(async (file: string, flags: DeployFlags) => {
      const { name, settings } = deploySettings(file, flags);
      const spinner = ora({ text: `bundling ${file}`, stream: process.stderr }).start();
      const started = performance.now();
      let bundle;
      try {
        bundle = await bundleFunction(file);
      } catch (err) {
        spinner.fail(`bundling ${file} failed`);
        throw err;
      }
      spinner.succeed(`bundled ${file} (${formatBytes(bundle.bytes)} in ${Math.round(performance.now() - started)} ms)`);
      for (const warning of bundle.warnings) info(`warning: ${warning}`);
      const api = new ApiClient(loadCliConfig());
      spinner.start(`deploying ${name}`);
      try {
        const result = await api.request<{ function: FunctionSpec; url: string }>('PUT', `/functions/${name}`, {
          code: bundle.code,
          ...settings,
        });
        spinner.stop();
        ok(`deployed ${result.function.name} v${result.function.version} → ${result.url}`);
      } catch (err) {
        spinner.fail(`deploying ${name} failed`);
        throw err;
      }
    });
}
