#!/usr/bin/env node
// The faas command: one file per command in commands/, wired here.
import { Command, CommanderError } from 'commander';
import { registerAsync } from './commands/async.js';
import { registerDeploy } from './commands/deploy.js';
import { registerReleases } from './commands/releases.js';
import { registerDevelop } from './commands/develop.js';
import { registerSecrets } from './commands/secrets.js';
import { registerInvoke } from './commands/invoke.js';
import { registerManage } from './commands/manage.js';
import { registerUp } from './commands/up.js';
import { registerUsage } from './commands/usage.js';
import { registerTenants } from './commands/tenants.js';
import { ConfigError } from '../platform/config.js';
import { CliError } from './errors.js';
import { fail } from './output.js';

const program = new Command()
  .name('faas')
  .description('Functions as a service on your own machine: deploy TypeScript functions into real containers.')
  .version('0.1.0')
  .showHelpAfterError('(run with --help for usage)')
  .exitOverride();

registerUp(program);
registerDeploy(program);
registerReleases(program);
registerDevelop(program);
registerSecrets(program);
registerInvoke(program);
registerManage(program);
registerUsage(program);
registerAsync(program);
registerTenants(program);

try {
  await program.parseAsync(process.argv);
} catch (err) {
  if (err instanceof CommanderError) {
    process.exitCode = err.exitCode;
  } else if (err instanceof CliError) {
    fail(err.message, err.hint);
    process.exitCode = 1;
  } else if (err instanceof ConfigError) {
    fail(`configuration: ${err.message}`, 'fix the environment variable named above (see README, Configuration)');
    process.exitCode = 1;
  } else {
    fail(`unexpected error: ${(err as Error).stack ?? String(err)}`);
    process.exitCode = 1;
  }
}
