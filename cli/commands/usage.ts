// faas usage: invocations, errors, cold starts, GB-seconds and estimated cost per function.
import type { Command } from 'commander';
import { ApiClient } from '../api-client.js';
import { loadCliConfig } from '../cli-config.js';
import { formatUsd, printJson, table } from '../output.js';
import type { FunctionUsageTotals } from '../../invoker/metering/usage-record.js';

interface UsageReply {
  from: string;
  to: string;
  functions: FunctionUsageTotals[];
  total: Omit<FunctionUsageTotals, 'fn'>;
}

export function registerUsage(program: Command): void {
  program
    .command('usage')
    .description('metered usage and estimated cost per function')
    .option('--from <time>', 'ISO 8601 date or epoch ms (default: 30 days ago)')
    .option('--to <time>', 'ISO 8601 date or epoch ms (default: now)')
    .option('--function <name>', 'only this function')
    .option('--json', 'print JSON')
    .action(async (flags: { from?: string; to?: string; function?: string; json?: boolean }) => {
      const query = new URLSearchParams();
      if (flags.from) query.set('from', flags.from);
      if (flags.to) query.set('to', flags.to);
      if (flags.function) query.set('function', flags.function);
      const usage = await new ApiClient(loadCliConfig()).request<UsageReply>('GET', `/usage?${query}`);
      if (flags.json) return printJson(usage);
      console.log(`usage from ${usage.from} to ${usage.to}`);
      const row = (name: string, t: Omit<FunctionUsageTotals, 'fn'>) => [
        name,
        t.invocations,
        t.errors,
        t.coldStarts,
        t.gbSeconds.toFixed(4),
        formatUsd(t.cost.total),
      ];
      console.log(
        table(
          ['function', 'invocations', 'errors', 'cold starts', 'GB-s', 'cost'],
          [...usage.functions.map((t) => row(t.fn, t)), row('total', usage.total)],
        ),
      );
    });
}
