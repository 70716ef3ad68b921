// faas versions, faas version rm, faas alias set|ls|rm|default, faas rollback: a function's releases.
import type { Command } from 'commander';
import pc from 'picocolors';
import { ApiClient } from '../api-client.js';
import { loadCliConfig } from '../cli-config.js';
import { CliError } from '../errors.js';
import { formatBytes, ok, printJson, table } from '../output.js';
import type { Canary, Releases } from '../../core/releases.js';
import type { FunctionSpec } from '../../core/function-spec.js';

/** `--canary 8=10%` (or 8=10): version 8 takes 10 % of the calls. */
export function parseCanary(text: string): Canary {
  const match = /^([1-9][0-9]*)=([0-9]+(?:\.[0-9]+)?)%?$/.exec(text.trim());
  if (!match) throw new CliError(`--canary ${text} is not VERSION=PERCENT`, 'e.g. --canary 8=10% sends 10 % of the calls to version 8');
  const percent = Number(match[2]);
  if (!(percent > 0 && percent < 100)) throw new CliError(`--canary ${text}: the share must be more than 0 and less than 100 percent`);
  return { version: Number(match[1]), percent };
}

export function parseVersion(text: string, what = 'version'): number {
  if (!/^[1-9][0-9]{0,9}$/.test(text)) throw new CliError(`${what} ${text} is not a version number`, 'see the versions with `faas versions <name>`');
  return Number(text);
}

/** One line per alias: `prod → v7 90 % + v8 10 %`, the default marked. */
export function describeAliases(releases: Releases): string[] {
  return Object.entries(releases.aliases)
    .sort(([a], [b]) => (a < b ? -1 : 1))
    .map(([name, alias]) => {
      const canary = alias.canary ? ` + v${alias.canary.version} ${alias.canary.percent} %` : '';
      const stable = alias.canary ? ` ${Math.round((100 - alias.canary.percent) * 100) / 100} %` : '';
      const isDefault = name === releases.defaultAlias;
      return `${isDefault ? pc.bold(name) : name} → v${alias.version}${stable}${canary}${isDefault ? pc.dim('  (default)') : ''}`;
    });
}

export function registerReleases(program: Command): void {
  program
    .command('versions')
    .description('the versions a function keeps, with the aliases routing to each')
    .argument('<name>', 'function name')
    .option('--json', 'print JSON')
    .action(async (name: string, flags: { json?: boolean }) => {
      const reply = await new ApiClient(loadCliConfig()).request<{ versions: Array<FunctionSpec & { aliases: string[] }>; releases: Releases }>(
        'GET',
        `/functions/${name}/versions`,
      );
      if (flags.json) return printJson(reply);
      console.log(
        table(
          ['version', 'deployed', 'code', 'memory', 'timeout', 'aliases'],
          reply.versions.map((v) => [
            `v${v.version}`,
            v.updatedAt.replace('T', ' ').slice(0, 19),
            `${v.codeSha256.slice(0, 12)} (${formatBytes(v.codeBytes)})`,
            `${v.memoryMb} MB`,
            `${v.timeoutMs / 1000} s`,
            v.aliases.join(', ') || '—',
          ]),
        ),
      );
    });

  program
    .command('version')
    .description('manage one version')
    .command('rm')
    .description('delete a kept version (not the newest, not one an alias routes to)')
    .argument('<name>', 'function name')
    .argument('<version>', 'version number')
    .action(async (name: string, version: string) => {
      await new ApiClient(loadCliConfig()).request('DELETE', `/functions/${name}/versions/${parseVersion(version)}`);
      ok(`deleted ${name} v${version}`);
    });

  const alias = program.command('alias').description("a function's aliases: named pointers to a version, with an optional canary");
  alias
    .command('set')
    .description('point an alias at a version, e.g. `faas alias set hello prod 7 --canary 8=10%`')
    .argument('<name>', 'function name')
    .argument('<alias>', 'alias name (lower-case letters, digits, -)')
    .argument('<version>', 'version number')
    .option('--canary <version=percent>', 'send this share of the calls to another version, e.g. 8=10%')
    .action(async (name: string, aliasName: string, version: string, flags: { canary?: string }) => {
      const body = { version: parseVersion(version), ...(flags.canary ? { canary: parseCanary(flags.canary) } : {}) };
      const { releases } = await new ApiClient(loadCliConfig()).request<{ releases: Releases }>('PUT', `/functions/${name}/aliases/${aliasName}`, body);
      ok(`${name}@${aliasName} → v${body.version}${body.canary ? `, v${body.canary.version} takes ${body.canary.percent} %` : ''}`);
      for (const line of describeAliases(releases)) console.log(`  ${line}`);
    });
  alias
    .command('ls')
    .description("a function's aliases")
    .argument('<name>', 'function name')
    .option('--json', 'print JSON')
    .action(async (name: string, flags: { json?: boolean }) => {
      const { releases } = await new ApiClient(loadCliConfig()).request<{ releases: Releases }>('GET', `/functions/${name}/aliases`);
      if (flags.json) return printJson(releases);
      for (const line of describeAliases(releases)) console.log(line);
    });
  alias
    .command('rm')
    .description('delete an alias (not latest, not the default)')
    .argument('<name>', 'function name')
    .argument('<alias>', 'alias name')
    .action(async (name: string, aliasName: string) => {
      await new ApiClient(loadCliConfig()).request('DELETE', `/functions/${name}/aliases/${aliasName}`);
      ok(`deleted alias ${aliasName} of ${name}`);
    });
  alias
    .command('default')
    .description('the alias /fn/<name> (and triggers naming none) follow')
    .argument('<name>', 'function name')
    .argument('<alias>', 'alias name')
    .action(async (name: string, aliasName: string) => {
      await new ApiClient(loadCliConfig()).request('PUT', `/functions/${name}/default-alias`, { alias: aliasName });
      ok(`/fn/${name} now follows ${aliasName}`);
    });

  program
    .command('restart')
    .description("replace a function's containers (every version's): idle ones now, busy ones when their call ends — e.g. to pick up a changed secret")
    .argument('<name>', 'function name')
    .action(async (name: string) => {
      await new ApiClient(loadCliConfig()).request('POST', `/functions/${name}/restart`);
      ok(`restarting ${name}: new calls go to new containers`);
    });

  program
    .command('rollback')
    .description("move an alias back in one step (default: the function's default alias): a canary dropped, else to where it was before")
    .argument('<name>', 'function name')
    .option('--to <version>', 'the version to go back to')
    .option('--alias <alias>', 'the alias to move (default: the default alias)')
    .action(async (name: string, flags: { to?: string; alias?: string }) => {
      const body = { ...(flags.to ? { to: parseVersion(flags.to, '--to') } : {}), ...(flags.alias ? { alias: flags.alias } : {}) };
      const { releases } = await new ApiClient(loadCliConfig()).request<{ releases: Releases }>('POST', `/functions/${name}/rollback`, body);
      const moved = flags.alias ?? releases.defaultAlias;
      ok(`rolled back ${name}@${moved} → v${releases.aliases[moved]?.version}`);
      if (moved === 'latest') console.log(pc.dim('  the next `faas deploy` moves latest forward again (--no-promote keeps it)'));
    });
}
