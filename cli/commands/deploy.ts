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
import type { FunctionSpec } from '../../core/function-spec.js';

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
  queue?: string[];
  on?: string[];
  schedule?: string[];
  timezone?: string;
  attempts?: string;
  maxEventAge?: string;
  maxBacklog?: string;
  batchSize?: string;
}

/** A trigger name as the API takes it; the CLI says so before anything is bundled. */
function triggerName(flag: string, value: string): string {
  if (!/^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/.test(value)) {
    throw new CliError(`--${flag} ${value} is not a valid name`, 'use letters, digits, dots, dashes and underscores, e.g. orders.created');
  }
  return value;
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
  if (flags.queue?.length) settings.queues = flags.queue.map((q) => triggerName('queue', q));
  if (flags.on?.length) settings.topics = flags.on.map((t) => triggerName('on', t));
  if (flags.timezone !== undefined && !flags.schedule?.length) throw new CliError('--timezone applies to --schedule', 'add --schedule "<cron>"');
  if (flags.schedule?.length) {
    settings.schedules = flags.schedule.map((cron) => ({ cron, ...(flags.timezone ? { timezone: flags.timezone } : {}) }));
  }
  if (flags.attempts !== undefined) settings.maxAttempts = integer('attempts', flags.attempts);
  if (flags.maxEventAge !== undefined) settings.maxEventAgeMs = duration('max-event-age', flags.maxEventAge);
  if (flags.maxBacklog !== undefined) settings.maxBacklog = integer('max-backlog', flags.maxBacklog);
  if (flags.batchSize !== undefined) settings.batchSize = integer('batch-size', flags.batchSize);
  return { name, settings };
}

const collect = (value: string, previous: string[] = []) => [...previous, value];

/** One line for a function's async triggers, as `faas ls` and `faas deploy` show them. */
export function describeTriggers(spec: Pick<FunctionSpec, 'queues' | 'topics' | 'schedules'>): string {
  const parts = [
    ...(spec.queues ?? []).map((q) => `queue:${q}`),
    ...(spec.topics ?? []).map((t) => `on:${t}`),
    ...(spec.schedules ?? []).map((s) => `cron:${s.cron}${s.timezone ? ` (${s.timezone})` : ''}`),
  ];
  return parts.length ? parts.join(', ') : '—';
}

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
    .option('--queue <name>', 'consume messages sent to this queue (repeatable)', collect)
    .option('--on <topic>', 'receive every CloudEvent published to this topic (repeatable)', collect)
    .option('--schedule <cron>', 'run on this cron schedule, e.g. "*/5 * * * *" (repeatable)', collect)
    .option('--timezone <tz>', 'time zone of --schedule, e.g. Europe/Paris (default UTC)')
    .option('--attempts <n>', 'runs of an async call, message, event or tick before it is dead-lettered (default 3)')
    .option('--max-event-age <duration>', 'drop (dead-letter) async work older than this, e.g. 1h (default 6h)')
    .option('--max-backlog <n>', 'jobs waiting before sends are refused with 429 (default 100000)')
    .option('--batch-size <n>', 'queue messages delivered per invocation (default 1)')
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
        const triggers = describeTriggers(result.function);
        if (triggers !== '—') info(`triggers: ${triggers}`);
      } catch (err) {
        spinner.fail(`deploying ${name} failed`);
        throw err;
      }
    });
}
