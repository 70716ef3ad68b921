// faas secret set|ls|rm|rotate-key: a tenant's secrets. A value goes in from a file or stdin (never a flag:
// it would stay in the shell's history and the process list) and never comes back out.
import { readFile } from 'node:fs/promises';
import type { Command } from 'commander';
import { ApiClient } from '../api-client.js';
import { loadCliConfig } from '../cli-config.js';
import { CliError } from '../errors.js';
import { info, ok, printJson, table } from '../output.js';

interface SecretRow {
  name: string;
  createdAt: string;
  updatedAt: string;
  usedBy: string[];
}

async function readStdin(): Promise<string> {
  if (process.stdin.isTTY) info('type the value, then Ctrl-D (or pass --from-file)');
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

/** A value read from a file or stdin; one trailing newline (as `echo` adds) is dropped from stdin. */
async function readValue(fromFile: string | undefined): Promise<string> {
  if (fromFile) {
    try {
      return await readFile(fromFile, 'utf8');
    } catch (err) {
      throw new CliError(`--from-file ${fromFile}: ${(err as Error).message}`, 'give the path of a file holding the value');
    }
  }
  const value = (await readStdin()).replace(/\r?\n$/, '');
  if (value === '') throw new CliError('no value: stdin was empty', 'pipe the value in (printf %s "$VALUE" | faas secret set NAME), or pass --from-file');
  return value;
}

export function registerSecrets(program: Command): void {
  const secret = program.command('secret').description("the tenant's secrets: sealed in Redis (AES-256-GCM), given to functions deployed with --secret NAME");
  secret
    .command('set')
    .description('set a secret from stdin or a file (functions get it as $NAME and /run/secrets/NAME at their next container start)')
    .argument('<name>', 'secret name (letters, digits, _; an environment variable name)')
    .option('--from-file <file>', 'read the value from this file instead of stdin')
    .action(async (name: string, flags: { fromFile?: string }) => {
      const value = await readValue(flags.fromFile);
      const { created } = await new ApiClient(loadCliConfig()).request<{ created: boolean }>('PUT', `/secrets/${encodeURIComponent(name)}`, { value });
      ok(`${created ? 'set' : 'replaced'} secret ${name} (${Buffer.byteLength(value)} bytes)`);
      if (!created) info('the functions using it get new containers (the running calls finish on the old ones)');
    });
  secret
    .command('ls')
    .description('secret names, dates and the versions using each (never the values)')
    .option('--json', 'print JSON')
    .action(async (flags: { json?: boolean }) => {
      const { secrets } = await new ApiClient(loadCliConfig()).request<{ secrets: SecretRow[] }>('GET', '/secrets');
      if (flags.json) return printJson(secrets);
      if (secrets.length === 0) return void console.log('no secrets yet: set one with `faas secret set NAME < file`');
      console.log(
        table(
          ['name', 'created', 'updated', 'used by'],
          secrets.map((s) => [s.name, s.createdAt.slice(0, 19), s.updatedAt.slice(0, 19), s.usedBy.join(', ') || '—']),
        ),
      );
    });
  secret
    .command('rm')
    .description('delete a secret (refused while a kept version uses it, unless --force)')
    .argument('<name>', 'secret name')
    .option('--force', 'delete it even though versions use it (their next container start fails)')
    .action(async (name: string, flags: { force?: boolean }) => {
      await new ApiClient(loadCliConfig()).request('DELETE', `/secrets/${encodeURIComponent(name)}${flags.force ? '?force=true' : ''}`);
      ok(`deleted secret ${name}`);
    });
  secret
    .command('rotate-key')
    .description('re-seal every secret with the first key of FAAS_SECRETS_KEY (admin token; see README, Releases and secrets)')
    .action(async () => {
      const { resealed } = await new ApiClient(loadCliConfig()).request<{ resealed: number }>('POST', '/secrets/rotate', {});
      ok(`re-sealed ${resealed} secret${resealed === 1 ? '' : 's'} with the current key; the old key can now be dropped from FAAS_SECRETS_KEY`);
    });
}
