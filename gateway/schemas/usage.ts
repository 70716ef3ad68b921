// JSON schemas of the usage and invoice answers (metering/rollup.ts, metering/invoice.ts, metering/billing.ts).

/** Gross cost at list price, each line in whole cents (Cost). */
export const cost = {
  type: 'object',
  properties: {
    requestsCents: { type: 'integer' },
    computeCents: { type: 'integer' },
    initCents: { type: 'integer' },
    idleCents: { type: 'integer' },
    cpuCents: { type: 'integer' },
    totalCents: { type: 'integer' },
  },
} as const;

const summaryProperties = {
  invocations: { type: 'integer' },
  errors: { type: 'integer' },
  coldStarts: { type: 'integer' },
  billedDurationMs: { type: 'number' },
  initBilledMs: { type: 'number' },
  gbSeconds: { type: 'number' },
  initGbSeconds: { type: 'number' },
  idleGbSeconds: { type: 'number' },
  cpuSeconds: { type: 'number' },
  initCpuSeconds: { type: 'number' },
  peakMemoryMb: { type: 'number' },
  durationMs: { type: ['object', 'null'], properties: { p50: { type: 'number' }, p95: { type: 'number' }, p99: { type: 'number' } } },
  cost,
} as const;

/** Usage summed over a group or over everything (UsageSummary). */
export const usageSummary = { type: 'object', properties: summaryProperties } as const;

/** One group's usage: its tenant, function and time bucket (epoch ms, and ISO 8601 in the plan's zone) when grouped so (UsageRow). */
export const usageRow = {
  type: 'object',
  properties: {
    bucket: { type: 'number' },
    tenant: { type: 'string' },
    function: { type: 'string' },
    version: { type: 'integer' },
    ...summaryProperties,
    bucketStart: { type: 'string' },
  },
} as const;

/** The price plan every figure is computed with (PricePlan). */
export const pricePlan = {
  type: 'object',
  properties: {
    currency: { type: 'string' },
    perGbSecond: { type: 'number' },
    perMillionRequests: { type: 'number' },
    perCpuSecond: { type: 'number' },
    perIdleGbSecond: { type: 'number' },
    freeTier: { type: 'object', properties: { requests: { type: 'number' }, gbSeconds: { type: 'number' }, cpuSeconds: { type: 'number' } } },
    timeZone: { type: 'string' },
  },
} as const;

/** GET /usage: the range covered, its grouping and bucket starts, the rows, their total and the plan. */
export const usageReply = {
  type: 'object',
  properties: {
    from: { type: 'string' },
    to: { type: 'string' },
    granularity: { type: 'string' },
    timeZone: { type: 'string' },
    currency: { type: 'string' },
    tenant: { type: 'string' },
    groupBy: { type: 'array', items: { type: 'string' } },
    interval: { type: 'string' },
    buckets: { type: 'array', items: { type: 'number' } },
    rows: { type: 'array', items: usageRow },
    total: usageSummary,
    plan: pricePlan,
    queued: { type: 'object', properties: { bytes: { type: 'integer' }, limitBytes: { type: 'integer' } } },
  },
} as const;

/** One invoice line: quantity, the free part, the billable rest, unit price and amount (InvoiceLine). */
export const invoiceLine = {
  type: 'object',
  properties: {
    item: { type: 'string' },
    description: { type: 'string' },
    unit: { type: 'string' },
    quantity: { type: 'number' },
    free: { type: 'number' },
    billable: { type: 'number' },
    unitPrice: { type: 'number' },
    amountCents: { type: 'integer' },
  },
} as const;

/** A tenant's invoice for one period (Invoice). */
export const invoice = {
  type: 'object',
  properties: {
    tenant: { type: 'string' },
    period: { type: 'string' },
    timeZone: { type: 'string' },
    from: { type: 'string' },
    to: { type: 'string' },
    currency: { type: 'string' },
    final: { type: 'boolean' },
    issuedAt: { type: 'string' },
    lines: { type: 'array', items: invoiceLine },
    grossCents: { type: 'integer' },
    freeTierCents: { type: 'integer' },
    totalCents: { type: 'integer' },
    total: { type: 'string' },
    functions: { type: 'array', items: usageRow },
  },
} as const;

/** GET /invoices/:period as JSON (the CSV form is text and is not serialized through this). */
export const invoiceReply = { type: 'object', properties: { invoice } } as const;
