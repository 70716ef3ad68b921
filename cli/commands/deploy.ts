// faas deploy <file>: bundle with esbuild, upload, print the URL.
import path from 'node:path';
import type { Command } from 'commander';
import ora from 'ora';
import { ApiClient } from '../api-client.js';
import { bundleFunction, type Bundle } from '../bundle.js';
import { loadCliConfig } from '../cli-config.js';
import { parseDurationMs } from '../duration.js';
import { CliError } from '../errors.js';
import { formatBytes, info, ok } from '../output.js';
import type { FunctionSpec } from '../../core/function-spec.js';
import { SETTING_KEYS, SETTINGS, TRIGGER_NAME_PATTERN, type CliFlag } from '../../core/function-settings.js';

/**
 * Commander's values: --name, --timezone (for --schedule), and one per setting, named after its flag as
 * commander names it (--max-event-age → maxEventAge): text, a list of texts (repeatable flags) or true.
 */
export type DeployFlags = { name?: string; timezone?: string } & Record<string, string | string[] | boolean | undefined>;

/** The long flag's name (`--max-event-age <duration>` → max-event-age) and commander's key for it (maxEventAge). */
function flagName(cli: CliFlag): { name: string; key: string } {
  const name = cli.flag.split(' ')[0]!.replace(/^--/, '');
  return { name, key: name.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase()) };
}

/** A trigger name as the API takes it; the CLI says so before anything is bundled. */
function triggerName(flag: string, value: string): string {
  if (!new RegExp(TRIGGER_NAME_PATTERN).test(value)) {
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

const list = (value: string | string[] | boolean): string[] => (Array.isArray(value) ? value : [String(value)]);

/** One flag's value as the API takes it. */
function parseFlag(cli: CliFlag, flag: string, value: string | string[] | boolean, timezone: string | undefined): unknown {
  switch (cli.parse) {
    case 'integer':
      return integer(flag, String(value));
    case 'number': {
      const n = Number(value);
      if (!Number.isFinite(n) || n <= 0) throw new CliError(`--${flag} ${String(value)} is not a positive number`, `e.g. --${flag} 0.5`);
      return n;
    }
    case 'duration':
      return duration(flag, String(value));
    case 'text':
      // serverless.yml writes a handler as file.export: the export is what is after the last dot.
      return flag === 'handler' ? String(value).slice(String(value).lastIndexOf('.') + 1) : String(value);
    case 'names':
      return list(value).map((v) => triggerName(flag, v));
    case 'pairs': {
      const pairs: Record<string, string> = {};
      for (const pair of list(value)) {
        const at = pair.indexOf('=');
        if (at <= 0) throw new CliError(`--${flag} ${pair} is not KEY=VALUE`, `e.g. --${flag} GREETING=hello`);
        pairs[pair.slice(0, at)] = pair.slice(at + 1);
      }
      return pairs;
    }
    case 'switch':
      return true;
    case 'schedules':
      return list(value).map((cron) => ({ cron, ...(timezone ? { timezone } : {}) }));
  }
}

/** Pure: the function name and the settings part of the deploy body from the file path and flags. */
export function deploySettings(file: string, flags: DeployFlags): { name: string; settings: Record<string, unknown> } {
  const name =
    flags.name ??
    path
      .basename(file)
      .replace(/\.[^.]+$/, '')
      .toLowerCase();
  if (!/^[a-z][a-z0-9-]{0,62}$/.test(name)) {
    throw new CliError(`"${name}" is not a valid function name`, 'use lower-case letters, digits and dashes, starting with a letter (set it with --name)');
  }
  if (flags.timezone !== undefined && !flags.schedule) throw new CliError('--timezone applies to --schedule', 'add --schedule "<cron>"');
  const settings: Record<string, unknown> = {};
  for (const key of SETTING_KEYS) {
    const cli = SETTINGS[key].cli;
    const flag = flagName(cli);
    const value = flags[flag.key];
    if (value === undefined || value === false || (Array.isArray(value) && value.length === 0)) continue;
    settings[key] = parseFlag(cli, flag.name, value, flags.timezone);
  }
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

/** Adds one option per function setting (from core/function-settings.ts), --timezone and --include. */
export function addSettingOptions(command: Command): Command {
  for (const key of SETTING_KEYS) {
    const cli = SETTINGS[key].cli;
    if (['names', 'pairs', 'schedules'].includes(cli.parse)) command.option(cli.flag, cli.help, collect);
    else command.option(cli.flag, cli.help);
  }
  return command
    .option('--timezone <tz>', 'time zone of --schedule, e.g. Europe/Paris (default UTC)')
    .option('--include <glob>', 'ship files matching this glob beside the code, relative to the function file (repeatable)', collect)
    .option(
      '--external <package>',
      'ship this installed package (and its dependencies) unbundled beside the code, for packages that read their own files (repeatable)',
      collect,
    );
}

export interface Deployed {
  function: FunctionSpec;
  created: boolean;
  url: string;
  hostUrl?: string;
}

/** Uploads a bundle with its settings: one PUT. */
export function upload(api: ApiClient, name: string, bundle: Bundle, settings: Record<string, unknown>, promote = true): Promise<Deployed> {
  return api.request<Deployed>('PUT', `/functions/${name}`, {
    code: bundle.code,
    ...(promote ? {} : { promote: false }),
    ...(bundle.files.size ? { files: Object.fromEntries([...bundle.files].map(([name, content]) => [name, content.toString('base64')])) } : {}),
    ...settings,
  });
}

export function registerDeploy(program: Command): void {
  const command = program
    .command('deploy')
    .description('bundle a function file with esbuild and deploy it')
    .argument('<file>', 'the function: a .ts or .js file exporting a handler, or its directory')
    .option('--name <name>', 'function name (default: the file name)');
  addSettingOptions(command)
    .option('--no-promote', 'keep the latest alias where it is: the new version answers at /fn/<name>@<version> only')
    .action(async (file: string, flags: DeployFlags) => {
      const { name, settings } = deploySettings(file, flags);
      const spinner = ora({ text: `bundling ${file}`, stream: process.stderr }).start();
      const started = performance.now();
      let bundle: Bundle;
      try {
        bundle = await bundleFunction(file, (flags.include as string[] | undefined) ?? [], (flags.external as string[] | undefined) ?? []);
      } catch (err) {
        spinner.fail(`bundling ${file} failed`);
        throw err;
      }
      spinner.succeed(`bundled ${file} (${formatBytes(bundle.bytes)} in ${Math.round(performance.now() - started)} ms)`);
      for (const warning of bundle.warnings) info(`warning: ${warning}`);
      if (bundle.native.length > 0) info(`shipped as installed, not bundled (native addons): ${bundle.native.join(', ')}`);
      const api = new ApiClient(loadCliConfig());
      spinner.start(`deploying ${name}`);
      try {
        const result = await upload(api, name, bundle, settings, flags.promote !== false);
        spinner.stop();
        if (result.created) ok(`deployed ${result.function.name} v${result.function.version} → ${result.url}`);
        else ok(`${result.function.name} v${result.function.version} already has this code and these settings: no new version → ${result.url}`);
        if (flags.promote === false) info(`not promoted: call it at ${result.url}@${result.function.version}`);
        if (result.hostUrl) info(`and at its own host: ${result.hostUrl}`);
        const triggers = describeTriggers(result.function);
        if (triggers !== '—') info(`triggers: ${triggers}`);
      } catch (err) {
        spinner.fail(`deploying ${name} failed`);
        throw err;
      }
    });
}
