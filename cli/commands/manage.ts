// faas ls, faas rm, faas logs, faas ps: list and delete functions, read recent invocations, see live containers.
import type { Command } from 'commander';
import pc from 'picocolors';
import { ApiClient } from '../api-client.js';
import { loadCliConfig } from '../cli-config.js';
import { CliError } from '../errors.js';
import { formatAge, formatMs, ok, printJson, printable, table } from '../output.js';
import { followLogs, matches, printEntry } from '../follow-logs.js';
import { DEFAULT_TENANT, type FunctionRecord, type FunctionSpec } from '../../core/function-spec.js';
import { functionPath } from '../../tenancy/names.js';
import { describeTriggers } from './deploy.js';
import type { InvocationLogEntry } from '../../metering/usage-record.js';
import type { ContainerInfo } from '../../core/invoker.js';
import type { NodeView } from '../../gateway/routes/nodes.js';

type ContainerRow = Omit<ContainerInfo, 'fn'> & { tenant: string | null; name: string | null };

/** The newest version, and what `/fn/<name>` serves when that is not simply it: `v3 (prod → v1 + v2 10 %)`. */
export function servingOf(f: FunctionRecord): string {
  const releases = f.releases;
  const alias = releases?.aliases[releases.defaultAlias];
  if (!alias || (alias.version === f.version && !alias.canary)) return `v${f.version}`;
  return `v${f.version} (${releases.defaultAlias} → v${alias.version}${alias.canary ? ` + v${alias.canary.version} ${alias.canary.percent} %` : ''})`;
}

export function registerManage(program: Command): void {
  program
    .command('ls')
    .description('list deployed functions')
    .option('--json', 'print JSON')
    .action(async (flags: { json?: boolean }) => {
      const api = new ApiClient(loadCliConfig());
      const { functions } = await api.request<{ functions: FunctionRecord[] }>('GET', '/functions');
      if (flags.json) return printJson(functions);
      if (functions.length === 0) return void console.log('no functions yet: deploy one with `faas deploy <file>`');
      console.log(
        table(
          ['name', 'version', 'memory', 'cpu', 'timeout', 'concurrency', 'scale', 'idle timeout', 'triggers', 'url'],
          functions.map((f) => [
            f.name,
            servingOf(f),
            `${f.memoryMb} MB`,
            f.cpus,
            formatMs(f.timeoutMs),
            f.concurrency,
            `${f.minScale}–${f.maxScale}`,
            formatMs(f.idleTimeoutMs),
            `http${f.queues.length + f.topics.length + f.schedules.length ? `, ${describeTriggers(f)}` : ''}`,
            `${api.url}${functionPath((f as FunctionSpec & { tenant?: string }).tenant ?? DEFAULT_TENANT, f.name)}`,
          ]),
        ),
      );
    });

  program
    .command('rm')
    .description('delete a function (its containers go once idle)')
    .argument('<name>', 'function name')
    .action(async (name: string) => {
      await new ApiClient(loadCliConfig()).request('DELETE', `/functions/${name}`);
      ok(`deleted ${name}`);
    });

  program
    .command('logs')
    .description('recent invocations of a function with what it printed; -f follows new ones as they come')
    .argument('<name>', 'function name')
    .option('-n, --limit <n>', 'how many (1–100)', '20')
    .option('-f, --follow', 'keep printing invocations as they come (Ctrl-C to stop)')
    .option('--version <n>', "only this version's invocations")
    .option('--status <status>', 'only these: ok, error (any failure or 5xx), or one status such as timeout')
    .option('--json', 'print JSON')
    .action(async (name: string, flags: { limit: string; follow?: boolean; version?: string; status?: string; json?: boolean }) => {
      if (!/^\d+$/.test(flags.limit)) throw new CliError(`--limit ${flags.limit} is not a whole number`);
      if (flags.version !== undefined && !/^[1-9]\d*$/.test(flags.version)) throw new CliError(`--version ${flags.version} is not a version number`);
      const filter = { ...(flags.version ? { version: Number(flags.version) } : {}), ...(flags.status ? { status: flags.status } : {}) };
      const api = new ApiClient(loadCliConfig());
      if (flags.follow) {
        const stop = new AbortController();
        process.once('SIGINT', () => stop.abort());
        return followLogs(api, name, filter, stop.signal, 250, () => console.error(pc.dim(`following ${name}'s invocations (Ctrl-C to stop)`)));
      }
      const { logs } = await api.request<{ logs: InvocationLogEntry[] }>('GET', `/functions/${name}/logs?limit=${flags.limit}`);
      const shown = logs.filter((entry) => matches(entry, filter));
      if (flags.json) return printJson(shown);
      if (shown.length === 0) return void console.log(`no invocations of ${name} yet`);
      for (const entry of [...shown].reverse()) printEntry(entry);
    });

  program
    .command('nodes')
    .description('invokers behind the gateway (admin token): state, last announcement, containers by state, functions placed')
    .option('--json', 'print JSON')
    .action(async (flags: { json?: boolean }) => {
      const { nodes } = await new ApiClient(loadCliConfig()).request<{ nodes: NodeView[] }>('GET', '/nodes');
      if (flags.json) return printJson(nodes);
      if (nodes.length === 0) return void console.log('no invoker is running: start one with `faas up --role invoker`');
      console.log(
        table(
          ['invoker', 'state', 'seen', 'busy', 'idle', 'paused', 'starting', 'prewarmed', 'functions', 'url'],
          nodes.map((n) => [
            printable(n.id),
            n.state === 'up' ? pc.green('up') : pc.red('down'),
            n.lastSeenMs === 0 ? '—' : `${(n.lastSeenMs / 1000).toFixed(1)} s ago`,
            ...(n.containers
              ? [n.containers.busy, n.containers.idle, n.containers.paused, n.containers.starting, n.containers.prewarmed]
              : ['?', '?', '?', '?', '?']),
            n.functions,
            printable(n.url),
          ]),
        ),
      );
    });

  program
    .command('ps')
    .description('live containers: function, state (starting, busy, idle, paused, prewarmed, removing), memory, calls, idle time')
    .option('--tenant <id>', "one tenant's (admin token; default: every tenant's for the admin)")
    .option('--json', 'print JSON')
    .action(async (flags: { tenant?: string; json?: boolean }) => {
      const api = new ApiClient(loadCliConfig());
      const query = flags.tenant ? `?tenant=${encodeURIComponent(flags.tenant)}` : '';
      const { containers } = await api.request<{ containers: ContainerRow[] }>('GET', `/containers/list${query}`);
      if (flags.json) return printJson(containers);
      if (containers.length === 0) return void console.log('no containers running: a call starts one');
      const now = Date.now();
      console.log(
        table(
          ['function', 'container', 'state', 'memory', 'active', 'calls', 'idle for', 'up', 'invoker'],
          containers.map((c) => [
            c.name === null ? pc.dim('(prewarmed)') : c.tenant === DEFAULT_TENANT ? `${c.name} v${c.version}` : `${c.tenant}/${c.name} v${c.version}`,
            c.id,
            c.state,
            `${c.memoryMb} MB`,
            c.active,
            c.served,
            c.active > 0 || c.state === 'starting' ? '—' : formatAge(now - c.lastUsedAt),
            formatAge(now - c.createdAt),
            c.invoker,
          ]),
        ),
      );
    });
}
