// Pure usage rollups: metered records grouped by tenant, function and/or time bucket, with the billed
// quantities, duration percentiles and gross cost of each group.
import { splitFunctionId } from '../core/function-spec.js';
import { grossCost, type BillableQuantities, type Cost, type PricePlan } from './billing.js';
import { bucketStart, type Interval } from './periods.js';
import { isContainerRecord, type MeteredRecord } from './usage-record.js';

export type GroupKey = 'tenant' | 'function';

export interface UsageSummary {
  invocations: number;
  errors: number;
  coldStarts: number;
  billedDurationMs: number;
  initBilledMs: number;
  gbSeconds: number;
  initGbSeconds: number;
  idleGbSeconds: number;
  cpuSeconds: number;
  /** Highest peak memory measured (MB), 0 when none was. */
  peakMemoryMb: number;
  /** Handler duration percentiles (nearest rank), ms; null with no invocations. */
  durationMs: { p50: number; p95: number; p99: number } | null;
  /** At list price, no free tier; each line rounded to cents. */
  cost: Cost;
}

export interface UsageRow extends UsageSummary {
  tenant?: string;
  /** The function's name in its tenant. */
  function?: string;
  /** Epoch ms start of the bucket, when grouped by time. */
  bucket?: number;
}

export interface RollupOptions {
  groupBy: readonly GroupKey[];
  interval?: Interval;
  plan: PricePlan;
}

export const tenantOf = (r: MeteredRecord): string => r.tenant ?? splitFunctionId(r.fn).tenant;

/** The value at percentile p (0..100) of sorted values, nearest rank. */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return 0;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1]!;
}

class Accumulator {
  invocations = 0;
  errors = 0;
  coldStarts = 0;
  billedDurationMs = 0;
  initBilledMs = 0;
  gbSeconds = 0;
  initGbSeconds = 0;
  idleGbSeconds = 0;
  cpuMs = 0;
  peakMemoryMb = 0;
  readonly durations: number[] = [];

  add(r: MeteredRecord): void {
    if (r.cpuMs !== undefined) this.cpuMs += r.cpuMs;
    if (r.peakMemoryMb !== undefined && r.peakMemoryMb > this.peakMemoryMb) this.peakMemoryMb = r.peakMemoryMb;
    if (isContainerRecord(r)) {
      this.idleGbSeconds += r.idleGbSeconds;
      return;
    }
    this.invocations += 1;
    if (r.status !== 'ok') this.errors += 1;
    if (r.coldStart) this.coldStarts += 1;
    this.billedDurationMs += r.billedDurationMs;
    this.initBilledMs += r.initBilledMs ?? 0;
    this.gbSeconds += r.gbSeconds;
    this.initGbSeconds += r.initGbSeconds ?? 0;
    this.durations.push(r.durationMs);
  }

  quantities(): BillableQuantities {
    return {
      requests: this.invocations,
      gbSeconds: this.gbSeconds,
      initGbSeconds: this.initGbSeconds,
      idleGbSeconds: this.idleGbSeconds,
      cpuSeconds: this.cpuMs / 1000,
    };
  }

  summary(plan: PricePlan): UsageSummary {
    const sorted = this.durations.sort((a, b) => a - b);
    return {
      invocations: this.invocations,
      errors: this.errors,
      coldStarts: this.coldStarts,
      billedDurationMs: this.billedDurationMs,
      initBilledMs: this.initBilledMs,
      gbSeconds: this.gbSeconds,
      initGbSeconds: this.initGbSeconds,
      idleGbSeconds: this.idleGbSeconds,
      cpuSeconds: this.cpuMs / 1000,
      peakMemoryMb: this.peakMemoryMb,
      durationMs: sorted.length ? { p50: percentile(sorted, 50), p95: percentile(sorted, 95), p99: percentile(sorted, 99) } : null,
      cost: grossCost(this.quantities(), plan),
    };
  }
}

/** The billable quantities of some records (one tenant's period, for its invoice). */
export function quantitiesOf(records: Iterable<MeteredRecord>): BillableQuantities {
  const acc = new Accumulator();
  for (const r of records) acc.add(r);
  return acc.quantities();
}

export interface Rollup {
  rows: UsageRow[];
  total: UsageSummary;
}

/**
 * Groups records; rows sorted by bucket, then tenant, then function. The total is computed from all
 * records at once (its cost is the cost of the summed quantities, each line rounded once).
 */
export function rollup(records: Iterable<MeteredRecord>, options: RollupOptions): Rollup {
  const byTenant = options.groupBy.includes('tenant');
  const byFunction = options.groupBy.includes('function');
  const groups = new Map<string, { key: Omit<UsageRow, keyof UsageSummary>; acc: Accumulator }>();
  const total = new Accumulator();
  for (const r of records) {
    total.add(r);
    const tenant = tenantOf(r);
    const key: Omit<UsageRow, keyof UsageSummary> = {};
    if (options.interval) key.bucket = bucketStart(r.endedAt, options.interval, options.plan.timeZone);
    if (byTenant) key.tenant = tenant;
    if (byFunction) {
      if (!byTenant) key.tenant = tenant;
      key.function = splitFunctionId(r.fn).name;
    }
    const id = `${key.bucket ?? ''}|${key.tenant ?? ''}|${key.function ?? ''}`;
    let group = groups.get(id);
    if (!group) groups.set(id, (group = { key, acc: new Accumulator() }));
    group.acc.add(r);
  }
  const rows = [...groups.values()]
    .map(({ key, acc }) => ({ ...key, ...acc.summary(options.plan) }))
    .sort(
      (a, b) =>
        (a.bucket ?? 0) - (b.bucket ?? 0) ||
        (a.tenant ?? '').localeCompare(b.tenant ?? '') ||
        (a.function ?? '').localeCompare(b.function ?? ''),
    );
  return { rows, total: total.summary(options.plan) };
}
