// Pure usage rollups: usage (records, or minute/hour partials) grouped by tenant, function and/or time
// bucket, with the billed quantities, duration percentiles and gross cost of each group.
import { splitFunctionId } from '../core/function-spec.js';
import { grossCost, type BillableQuantities, type Cost, type PricePlan } from './billing.js';
import { emptyPartial, histogramPercentile, mergePartial, partialsOf, type UsagePartial } from './partials.js';
import { bucketStart, type Interval } from './periods.js';
import type { MeteredRecord } from './usage-record.js';

export type GroupKey = 'tenant' | 'function' | 'version';

export interface UsageSummary {
  invocations: number;
  errors: number;
  coldStarts: number;
  billedDurationMs: number;
  initBilledMs: number;
  gbSeconds: number;
  initGbSeconds: number;
  idleGbSeconds: number;
  /** Handler CPU time; init's is initCpuSeconds (both billed as CPU). */
  cpuSeconds: number;
  initCpuSeconds: number;
  /** Highest peak memory measured (MB), 0 when none was. */
  peakMemoryMb: number;
  /** Handler duration percentiles (nearest rank over a log histogram: within about 2 %), ms; null with no invocations. */
  durationMs: { p50: number; p95: number; p99: number } | null;
  /** At list price, no free tier; each line rounded to cents. */
  cost: Cost;
}

export interface UsageRow extends UsageSummary {
  tenant?: string;
  /** The function's name in its tenant. */
  function?: string;
  /** The version, when grouped by it (absent for containers' idle time, which no version owns). */
  version?: number;
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
  private readonly sum: UsagePartial = emptyPartial('', '', 0);

  add(p: UsagePartial): void {
    mergePartial(this.sum, p);
  }

  quantities(): BillableQuantities {
    const s = this.sum;
    return {
      requests: s.invocations,
      gbSeconds: s.gbSeconds,
      initGbSeconds: s.initGbSeconds,
      idleGbSeconds: s.idleGbSeconds,
      cpuSeconds: (s.cpuMs + s.initCpuMs) / 1000,
    };
  }

  summary(plan: PricePlan): UsageSummary {
    const s = this.sum;
    const round = (ms: number) => Math.round(ms * 1000) / 1000;
    return {
      invocations: s.invocations,
      errors: s.errors,
      coldStarts: s.coldStarts,
      billedDurationMs: s.billedDurationMs,
      initBilledMs: s.initBilledMs,
      gbSeconds: s.gbSeconds,
      initGbSeconds: s.initGbSeconds,
      idleGbSeconds: s.idleGbSeconds,
      cpuSeconds: s.cpuMs / 1000,
      initCpuSeconds: s.initCpuMs / 1000,
      peakMemoryMb: s.peakMemoryMb,
      durationMs: s.invocations
        ? {
            p50: round(histogramPercentile(s.durations, 50)),
            p95: round(histogramPercentile(s.durations, 95)),
            p99: round(histogramPercentile(s.durations, 99)),
          }
        : null,
      cost: grossCost(this.quantities(), plan),
    };
  }
}

/** The billable quantities of some records (one tenant's period, for its invoice). */
export function quantitiesOf(records: Iterable<MeteredRecord>): BillableQuantities {
  const acc = new Accumulator();
  for (const p of partialsOf(records, 'minute')) acc.add(p);
  return acc.quantities();
}

export interface Rollup {
  rows: UsageRow[];
  total: UsageSummary;
}

/** Groups records; see rollupPartials. */
export function rollup(records: Iterable<MeteredRecord>, options: RollupOptions): Rollup {
  return rollupPartials(partialsOf(records, 'minute'), options);
}

/**
 * Groups pre-aggregated usage (minute or hour partials); rows sorted by bucket, then tenant, then
 * function. The total is computed from all partials at once (its cost is the cost of the summed
 * quantities, each line rounded once). A partial falls in the bucket holding its start.
 */
export function rollupPartials(partials: Iterable<UsagePartial>, options: RollupOptions): Rollup {
  const byTenant = options.groupBy.includes('tenant');
  const byVersion = options.groupBy.includes('version');
  const byFunction = byVersion || options.groupBy.includes('function');
  const groups = new Map<string, { key: Omit<UsageRow, keyof UsageSummary>; acc: Accumulator }>();
  const total = new Accumulator();
  for (const p of partials) {
    total.add(p);
    const key: Omit<UsageRow, keyof UsageSummary> = {};
    if (options.interval) key.bucket = bucketStart(p.at, options.interval, options.plan.timeZone);
    if (byTenant || byFunction) key.tenant = p.tenant;
    if (byFunction) key.function = p.fn;
    if (byVersion && p.version !== undefined) key.version = p.version;
    const id = `${key.bucket ?? ''}|${key.tenant ?? ''}|${key.function ?? ''}|${key.version ?? ''}`;
    let group = groups.get(id);
    if (!group) groups.set(id, (group = { key, acc: new Accumulator() }));
    group.acc.add(p);
  }
  const rows = [...groups.values()]
    .map(({ key, acc }) => ({ ...key, ...acc.summary(options.plan) }))
    .sort(
      (a, b) =>
        (a.bucket ?? 0) - (b.bucket ?? 0) ||
        (a.tenant ?? '').localeCompare(b.tenant ?? '') ||
        (a.function ?? '').localeCompare(b.function ?? '') ||
        (a.version ?? 0) - (b.version ?? 0),
    );
  return { rows, total: total.summary(options.plan) };
}
