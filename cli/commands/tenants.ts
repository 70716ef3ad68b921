// faas tenant create|ls|set|rm and faas token create|ls|revoke (admin token), faas whoami.
import type { Command } from 'commander';
import { ApiClient } from '../api-client.js';
import { loadCliConfig } from '../cli-config.js';
import { CliError } from '../errors.js';
import { formatBytes, ok, printJson, table } from '../output.js';
import type { Tenant, TenantQuotas, TokenInfo } from '../../tenancy/tenant-store.js';

type QuotaFlags = { maxContainers?: string; maxGbSeconds?: string; maxQueuedBytes?: string };

/** Quota flags to the API's fields; "none" clears a quota. */
export function quotasFrom(flags: QuotaFlags): Record<keyof TenantQuotas, number | null | undefined> {
  const parse = (flag: string, value: string | undefined, integer: boolean): number | null | undefined => {
    if (value === undefined) return undefined;
    if (value === 'none') return null;
    const n = Number(value);
    if (!Number.isFinite(n) || n <= 0 || (integer && !Number.isInteger(n))) {
      throw new CliError(
        `${flag} ${value} is not a ${integer ? 'whole ' : ''}number above 0`,
        `e.g. ${flag} ${integer ? 10 : 3600}, or ${flag} none for no limit`,
      );
    }
    return n;
  };
  return {
    maxContainers: parse('--max-containers', flags.maxContainers, true),
    maxGbSecondsPerPeriod: parse('--max-gb-seconds', flags.maxGbSeconds, false),
    maxQueuedBytes: parseBytes('--max-queued-bytes', flags.maxQueuedBytes),
  };
}

const UNITS: Record<string, number> = { '': 1, b: 1, kb: 1000, kib: 1024, mb: 1000 ** 2, mib: 1024 ** 2, gb: 1000 ** 3, gib: 1024 ** 3 };

/** A size such as 512MiB, 1GB or 1048576 (bytes); "none" clears the quota (null). */
export function parseBytes(flag: string, value: string | undefined): number | null | undefined {
  if (value === undefined) return undefined;
  if (value === 'none') return null;
  const m = /^(\d+(?:\.\d+)?)\s*([a-z]*)$/i.exec(value.trim());
  const unit = m ? UNITS[m[2]!.toLowerCase()] : undefined;
  if (!m || unit === undefined) throw new CliError(`${flag} ${value} is not a size`, `e.g. ${flag} 512MiB, ${flag} 1GB or ${flag} 1048576 (bytes)`);
  return Math.floor(Number(m[1]) * unit);
}

const defined = (o: Record<string, unknown>) => Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined));
const describeQuotas = (q: TenantQuotas) =>
  [
    q.maxContainers ? `${q.maxContainers} containers` : '',
    q.maxGbSecondsPerPeriod ? `${q.maxGbSecondsPerPeriod} GB-s/period` : '',
    q.maxQueuedBytes !== undefined ? `${formatBytes(q.maxQueuedBytes)} queued` : '',
  ]
    .filter(Boolean)
    .join(', ') || 'none';

export function registerTenants(program: Command): void {
  const tenant = program.command('tenant').description('tenants: who owns functions, tokens and usage (admin token)');
  const quotaOptions = (cmd: Command) =>
    cmd
      .option('--max-containers <n>', 'containers of all its functions at once ("none" for no limit)')
      .option('--max-gb-seconds <n>', 'GB-seconds per billing period ("none" for no limit)')
      .option('--max-queued-bytes <size>', 'bytes waiting in queues, e.g. 512MiB ("none": the platform default)');

  quotaOptions(tenant.command('create').argument('<id>', 'tenant id (a-z, 0-9, -)').description('create a tenant')).action(
    async (id: string, flags: QuotaFlags) => {
      const { tenant: created } = await new ApiClient(loadCliConfig()).request<{ tenant: Tenant }>('POST', '/tenants', { id, ...defined(quotasFrom(flags)) });
      ok(`created tenant ${created.id} (quotas: ${describeQuotas(created.quotas)}); give it a token with \`faas token create ${created.id}\``);
    },
  );

  quotaOptions(tenant.command('set').argument('<id>', 'tenant id').description("change a tenant's quotas")).action(async (id: string, flags: QuotaFlags) => {
    const body = defined(quotasFrom(flags));
    if (Object.keys(body).length === 0) throw new CliError('nothing to set', 'give --max-containers, --max-gb-seconds or --max-queued-bytes');
    const { tenant: updated } = await new ApiClient(loadCliConfig()).request<{ tenant: Tenant }>('PATCH', `/tenants/${id}`, body);
    ok(`tenant ${updated.id}: quotas ${describeQuotas(updated.quotas)}`);
  });

  tenant
    .command('ls')
    .description('list tenants')
    .option('--json', 'print JSON')
    .action(async (flags: { json?: boolean }) => {
      const { tenants } = await new ApiClient(loadCliConfig()).request<{ tenants: Tenant[] }>('GET', '/tenants');
      if (flags.json) return printJson(tenants);
      console.log(
        table(
          ['tenant', 'created', 'quotas'],
          tenants.map((t) => [t.id, t.createdAt, describeQuotas(t.quotas)]),
        ),
      );
    });

  tenant
    .command('rm')
    .argument('<id>', 'tenant id')
    .description('remove a tenant and revoke its tokens (delete its functions first)')
    .action(async (id: string) => {
      await new ApiClient(loadCliConfig()).request('DELETE', `/tenants/${id}`);
      ok(`removed tenant ${id}`);
    });

  const token = program.command('token').description('API tokens of tenants (admin token)');
  token
    .command('create')
    .argument('<tenant>', 'tenant id')
    .option('--name <name>', 'what the token is for', 'token')
    .description('create a token for a tenant; it is printed once')
    .option('--json', 'print JSON')
    .action(async (tenantId: string, flags: { name: string; json?: boolean }) => {
      const created = await new ApiClient(loadCliConfig()).request<TokenInfo & { token: string }>('POST', `/tenants/${tenantId}/tokens`, { name: flags.name });
      if (flags.json) return printJson(created);
      ok(`token ${created.id} for tenant ${created.tenant} (shown once; store it now):`);
      console.log(created.token);
    });

  token
    .command('ls')
    .option('--tenant <id>', 'only this tenant')
    .option('--json', 'print JSON')
    .description('list tokens (ids, never the secrets)')
    .action(async (flags: { tenant?: string; json?: boolean }) => {
      const { tokens } = await new ApiClient(loadCliConfig()).request<{ tokens: TokenInfo[] }>(
        'GET',
        `/tokens${flags.tenant ? `?tenant=${flags.tenant}` : ''}`,
      );
      if (flags.json) return printJson(tokens);
      console.log(
        table(
          ['id', 'tenant', 'name', 'created'],
          tokens.map((t) => [t.id, t.tenant, t.name, t.createdAt]),
        ),
      );
    });

  token
    .command('revoke')
    .argument('<id>', 'token id (from faas token ls)')
    .description('revoke a token at once')
    .action(async (id: string) => {
      await new ApiClient(loadCliConfig()).request('DELETE', `/tokens/${id}`);
      ok(`revoked token ${id}`);
    });

  program
    .command('whoami')
    .description('which tenant the token belongs to, and its quotas')
    .option('--json', 'print JSON')
    .action(async (flags: { json?: boolean }) => {
      const me = await new ApiClient(loadCliConfig()).request<{ tenant: string; admin: boolean; quotas: TenantQuotas }>('GET', '/whoami');
      if (flags.json) return printJson(me);
      console.log(`tenant ${me.tenant}${me.admin ? ' (admin token)' : ''}; quotas: ${describeQuotas(me.quotas)}`);
    });
}
