// Pure billing arithmetic: the price plan, money in whole cents, the cost of usage quantities, and invoices
// with a per-period free tier. The usage API, the CLI, invoices and the dashboard all price through here,
// so they agree to the cent.

/** Prices and free tier, set in the platform's configuration. */
export interface PricePlan {
  /** ISO 4217 code, for display. Default USD. */
  currency: string;
  /** Per GB-second of configured memory × billed duration (init time of cold starts included). */
  perGbSecond: number;
  /** Per million requests. */
  perMillionRequests: number;
  /** Per CPU-second measured in the container's cgroup. */
  perCpuSecond: number;
  /** Per GB-second a container sat warm and idle because the function asked for minScale (provisioned). */
  perIdleGbSecond: number;
  /** Free each billing period, per tenant. */
  freeTier: { requests: number; gbSeconds: number; cpuSeconds: number };
  /** IANA time zone whose calendar months are the billing periods and whose days and hours group usage. */
  timeZone: string;
}

/** AWS Lambda's x86 prices (us-east-1), its provisioned-concurrency price for kept-warm idle time, its free tier. */
export const DEFAULT_PLAN: Readonly<PricePlan> = Object.freeze({
  currency: 'USD',
  perGbSecond: 0.0000166667,
  perMillionRequests: 0.2,
  perCpuSecond: 0,
  perIdleGbSecond: 0.0000041667,
  freeTier: Object.freeze({ requests: 1_000_000, gbSeconds: 400_000, cpuSeconds: 0 }),
  timeZone: 'UTC',
});

/** What is billed, summed over any set of usage records. */
export interface BillableQuantities {
  requests: number;
  /** Configured memory × billed duration of the handler. */
  gbSeconds: number;
  /** Configured memory × billed init time of cold starts. */
  initGbSeconds: number;
  /** Configured memory × time kept warm and idle for minScale. */
  idleGbSeconds: number;
  /** CPU time measured in cgroups. */
  cpuSeconds: number;
}

export const ZERO_QUANTITIES: Readonly<BillableQuantities> = Object.freeze({
  requests: 0,
  gbSeconds: 0,
  initGbSeconds: 0,
  idleGbSeconds: 0,
  cpuSeconds: 0,
});

/**
 * Money to whole cents, half away from zero. The product is first rounded to 9 decimals of a cent so
 * binary noise (0.285 × 100 = 28.499999999999996) cannot flip a half cent.
 */
export function toCents(amount: number): number {
  const cents = Math.round(Math.abs(amount) * 100 * 1e9) / 1e9;
  return Math.sign(amount) * Math.floor(cents + 0.5) || 0;
}

/** Cents as a decimal string with two places: 1234 → "12.34". */
export function formatCents(cents: number): string {
  const sign = cents < 0 ? '-' : '';
  const abs = Math.abs(cents);
  return `${sign}${Math.floor(abs / 100)}.${String(abs % 100).padStart(2, '0')}`;
}

export type LineItem = 'requests' | 'compute' | 'init' | 'idle' | 'cpu';

export interface InvoiceLine {
  item: LineItem;
  description: string;
  unit: 'requests' | 'GB-s' | 'CPU-s';
  quantity: number;
  /** Part of the quantity covered by the free tier. */
  free: number;
  billable: number;
  /** Price per unit (per request for requests). */
  unitPrice: number;
  amountCents: number;
}

/** Gross cost (no free tier) of some usage, each line rounded to cents; the total is the sum of the lines. */
export interface Cost {
  requestsCents: number;
  computeCents: number;
  initCents: number;
  idleCents: number;
  cpuCents: number;
  totalCents: number;
}

/** Free tier left, consumed line by line: GB-seconds cover handler time first, then init time. */
interface Allowance {
  requests: number;
  gbSeconds: number;
  cpuSeconds: number;
}

function lines(q: BillableQuantities, plan: PricePlan, allowance: Allowance): InvoiceLine[] {
  const perRequest = plan.perMillionRequests / 1_000_000;
  const freeRequests = Math.min(q.requests, allowance.requests);
  const freeCompute = Math.min(q.gbSeconds, allowance.gbSeconds);
  const freeInit = Math.min(q.initGbSeconds, allowance.gbSeconds - freeCompute);
  const freeCpu = Math.min(q.cpuSeconds, allowance.cpuSeconds);
  const line = (item: LineItem, description: string, unit: InvoiceLine['unit'], quantity: number, free: number, unitPrice: number): InvoiceLine => {
    const billable = quantity - free;
    return { item, description, unit, quantity, free, billable, unitPrice, amountCents: toCents(billable * unitPrice) };
  };
  return [
    line('requests', 'Requests', 'requests', q.requests, freeRequests, perRequest),
    line('compute', 'Compute: memory × billed duration', 'GB-s', q.gbSeconds, freeCompute, plan.perGbSecond),
    line('init', 'Init: memory × cold-start init time', 'GB-s', q.initGbSeconds, freeInit, plan.perGbSecond),
    line('idle', 'Kept warm (minScale): memory × idle time', 'GB-s', q.idleGbSeconds, 0, plan.perIdleGbSecond),
    line('cpu', 'CPU time measured in the container (handlers and init)', 'CPU-s', q.cpuSeconds, freeCpu, plan.perCpuSecond),
  ];
}

function costFromLines(items: InvoiceLine[]): Cost {
  const cents = (item: LineItem) => items.find((l) => l.item === item)!.amountCents;
  const cost = {
    requestsCents: cents('requests'),
    computeCents: cents('compute'),
    initCents: cents('init'),
    idleCents: cents('idle'),
    cpuCents: cents('cpu'),
  };
  return { ...cost, totalCents: cost.requestsCents + cost.computeCents + cost.initCents + cost.idleCents + cost.cpuCents };
}

/** Gross cost at list price, without free tier: what a function, an hour or a day of usage costs. */
export function grossCost(q: BillableQuantities, plan: PricePlan): Cost {
  return costFromLines(lines(q, plan, { requests: 0, gbSeconds: 0, cpuSeconds: 0 }));
}

export interface InvoiceTotals {
  lines: InvoiceLine[];
  /** At list price, before the free tier. */
  grossCents: number;
  /** What the free tier took off. */
  freeTierCents: number;
  totalCents: number;
}

/** One tenant's invoice lines for one period's quantities: the free tier applies once per period. */
export function invoiceTotals(q: BillableQuantities, plan: PricePlan): InvoiceTotals {
  const items = lines(q, plan, plan.freeTier);
  const totalCents = costFromLines(items).totalCents;
  const grossCents = grossCost(q, plan).totalCents;
  return { lines: items, grossCents, freeTierCents: grossCents - totalCents, totalCents };
}

export function addQuantities(a: BillableQuantities, b: BillableQuantities): BillableQuantities {
  return {
    requests: a.requests + b.requests,
    gbSeconds: a.gbSeconds + b.gbSeconds,
    initGbSeconds: a.initGbSeconds + b.initGbSeconds,
    idleGbSeconds: a.idleGbSeconds + b.idleGbSeconds,
    cpuSeconds: a.cpuSeconds + b.cpuSeconds,
  };
}

/** A plan's problems, for configuration errors: negative prices or an unknown time zone. */
export function planProblem(plan: PricePlan): string | undefined {
  for (const key of ['perGbSecond', 'perMillionRequests', 'perCpuSecond', 'perIdleGbSecond'] as const) {
    if (!Number.isFinite(plan[key]) || plan[key] < 0) return `${key} must be a number >= 0`;
  }
  for (const key of ['requests', 'gbSeconds', 'cpuSeconds'] as const) {
    if (!Number.isFinite(plan.freeTier[key]) || plan.freeTier[key] < 0) return `freeTier.${key} must be a number >= 0`;
  }
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: plan.timeZone });
  } catch {
    return `timeZone "${plan.timeZone}" is not an IANA time zone (e.g. UTC, Europe/Berlin)`;
  }
  return undefined;
}
