// A tenant's invoice for one billing period, as JSON and as CSV; pure.
import { formatCents, invoiceTotals, type InvoiceLine, type PricePlan } from './billing.js';
import { isoInZone, type Period } from './periods.js';
import type { UsagePartial } from './partials.js';
import { rollupPartials, type UsageRow } from './rollup.js';

export interface Invoice {
  tenant: string;
  period: string;
  timeZone: string;
  /** Local start and end of the period, ISO 8601 with offset. */
  from: string;
  to: string;
  currency: string;
  /** Usage not yet over: the period is still running at `issuedAt`. */
  final: boolean;
  issuedAt: string;
  lines: InvoiceLine[];
  grossCents: number;
  freeTierCents: number;
  totalCents: number;
  /** The total as a decimal string, e.g. "12.34". */
  total: string;
  /** Usage per function at list price (the free tier applies to the tenant, not to a function). */
  functions: UsageRow[];
}

/** Usage of the tenant in the period: partials that start in it; other tenants' are ignored. */
export function buildInvoice(tenant: string, period: Period, partials: Iterable<UsagePartial>, plan: PricePlan, now: number): Invoice {
  const own = [...partials].filter((p) => p.tenant === tenant && p.at >= period.from && p.at < period.to);
  const { rows, total } = rollupPartials(own, { groupBy: ['function'], plan });
  const totals = invoiceTotals(
    {
      requests: total.invocations,
      gbSeconds: total.gbSeconds,
      initGbSeconds: total.initGbSeconds,
      idleGbSeconds: total.idleGbSeconds,
      cpuSeconds: total.cpuSeconds,
    },
    plan,
  );
  return {
    tenant,
    period: period.id,
    timeZone: period.timeZone,
    from: isoInZone(period.from, period.timeZone),
    to: isoInZone(period.to, period.timeZone),
    currency: plan.currency,
    final: now >= period.to,
    issuedAt: new Date(now).toISOString(),
    ...totals,
    total: formatCents(totals.totalCents),
    functions: rows,
  };
}

const csvField = (value: string | number): string => {
  const text = String(value);
  return /[",\n\r]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
};

/** One row per line item, then the free tier and the total; amounts in currency units with 2 decimals. */
export function invoiceCsv(invoice: Invoice): string {
  const head = ['tenant', 'period', 'item', 'description', 'unit', 'quantity', 'free', 'billable', 'unit_price', 'amount', 'currency'];
  const rows: (string | number)[][] = invoice.lines.map((l) => [
    invoice.tenant,
    invoice.period,
    l.item,
    l.description,
    l.unit,
    round(l.quantity),
    round(l.free),
    round(l.billable),
    l.unitPrice,
    formatCents(l.amountCents),
    invoice.currency,
  ]);
  rows.push([invoice.tenant, invoice.period, 'total', 'Total due', '', '', '', '', '', invoice.total, invoice.currency]);
  return `${[head, ...rows].map((row) => row.map(csvField).join(',')).join('\r\n')}\r\n`;
}

/** Quantities to 6 decimals for display (GB-seconds are fractional). */
const round = (n: number) => Math.round(n * 1e6) / 1e6;
