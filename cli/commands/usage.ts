// faas usage: usage and cost grouped by function, tenant and time; --invoice prints a period's invoice.
import type { Command } from 'commander';
import { ApiClient } from '../api-client.js';
import { loadCliConfig } from '../cli-config.js';
import { CliError } from '../errors.js';
import { printJson, table } from '../output.js';
import { formatCents, type InvoiceLine } from '../../metering/billing.js';
import type { Invoice } from '../../metering/invoice.js';
import type { UsageRow, UsageSummary } from '../../metering/rollup.js';

interface UsageReply {
  from: string;
  to: string;
  currency: string;
  rows: Array<UsageRow & { bucketStart?: string }>;
  total: UsageSummary;
}

type UsageFlags = {
  from?: string;
  to?: string;
  function?: string;
  tenant?: string;
  groupBy?: string;
  interval?: string;
  invoice?: string;
  csv?: boolean;
  json?: boolean;
};

const money = (cents: number, currency: string) => `${formatCents(cents)} ${currency}`;
const quantity = (line: InvoiceLine) => (line.unit === 'requests' ? String(line.quantity) : line.quantity.toFixed(4));

function printInvoice(invoice: Invoice): void {
  console.log(
    `invoice of tenant ${invoice.tenant} for ${invoice.period} (${invoice.from} to ${invoice.to}, ${invoice.final ? 'final' : 'period still running'})`,
  );
  console.log(
    table(
      ['item', 'unit', 'quantity', 'free', 'unit price', 'amount'],
      [
        ...invoice.lines.map((l) => [
          l.description,
          l.unit,
          quantity(l),
          l.unit === 'requests' ? String(l.free) : l.free.toFixed(4),
          String(l.unitPrice),
          money(l.amountCents, invoice.currency),
        ]),
        ['free tier', '', '', '', '', `-${money(invoice.freeTierCents, invoice.currency)}`],
        ['total', '', '', '', '', money(invoice.totalCents, invoice.currency)],
      ],
    ),
  );
}

export function registerUsage(program: Command): void {
  program
    .command('usage')
    .description('metered usage and cost by function, tenant or time; --invoice YYYY-MM prints an invoice')
    .option('--from <time>', 'ISO 8601 date or epoch ms (default: 30 days ago)')
    .option('--to <time>', 'ISO 8601 date or epoch ms (default: now)')
    .option('--function <name>', 'only this function')
    .option('--tenant <id>', 'only this tenant (admin token); the invoice of this tenant')
    .option(
      '--group-by <keys>',
      'function (default), version (each function by version: a canary beside its stable one), tenant, tenant,function, tenant,function,version or none',
    )
    .option('--interval <unit>', 'also group by hour, day or month (in the billing time zone)')
    .option('--invoice <period>', 'the invoice of a billing period: YYYY-MM, or current')
    .option('--csv', 'with --invoice: print CSV')
    .option('--json', 'print JSON')
    .action(async (flags: UsageFlags) => {
      const client = new ApiClient(loadCliConfig());
      if (flags.csv && !flags.invoice) throw new CliError('--csv goes with --invoice', 'e.g. faas usage --invoice 2026-11 --csv');
      if (flags.invoice) {
        const query = new URLSearchParams();
        if (flags.tenant) query.set('tenant', flags.tenant);
        const route = `/invoices/${encodeURIComponent(flags.invoice)}`;
        if (flags.csv) {
          query.set('format', 'csv');
          process.stdout.write(await client.text(`${route}?${query}`));
          return;
        }
        const { invoice } = await client.request<{ invoice: Invoice }>('GET', `${route}?${query}`);
        return flags.json ? printJson({ invoice }) : printInvoice(invoice);
      }
      const query = new URLSearchParams();
      for (const key of ['from', 'to', 'function', 'tenant', 'groupBy', 'interval'] as const) if (flags[key]) query.set(key, flags[key]!);
      const usage = await client.request<UsageReply>('GET', `/usage?${query}`);
      if (flags.json) return printJson(usage);
      console.log(`usage from ${usage.from} to ${usage.to} (cost at list price, before the free tier)`);
      const label = (r: UsageRow & { bucketStart?: string }) =>
        [r.bucketStart, r.tenant, r.function && r.version !== undefined ? `${r.function}@${r.version}` : r.function].filter(Boolean).join(' ') || 'all';
      const row = (name: string, t: UsageSummary) => [
        name,
        t.invocations,
        t.errors,
        t.invocations ? `${((100 * t.errors) / t.invocations).toFixed(1)} %` : '-',
        t.coldStarts,
        t.durationMs ? `${t.durationMs.p50.toFixed(1)} / ${t.durationMs.p99.toFixed(1)}` : '-',
        (t.gbSeconds + t.initGbSeconds).toFixed(4),
        t.cpuSeconds.toFixed(3),
        money(t.cost.totalCents, usage.currency),
      ];
      console.log(
        table(
          ['group', 'invocations', 'errors', 'error %', 'cold starts', 'p50 / p99 ms', 'GB-s', 'CPU-s', 'cost'],
          [...usage.rows.map((r) => row(label(r), r)), row('total', usage.total)],
        ),
      );
    });
}
