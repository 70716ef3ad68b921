// Pure: usage pre-aggregated per function per minute or hour ("partials"), the unit that usage rollups in
// Redis store and that every usage figure, invoice and chart is summed from. Durations are kept as a
// log-scale histogram (16 buckets per doubling: percentiles within about 2 %), so partials merge exactly.
import { splitFunctionId } from '../core/function-spec.js';
import { isContainerRecord, type MeteredRecord } from './usage-record.js';

/** Units of pre-aggregation; days are UTC days. */
export type Granularity = 'minute' | 'hour' | 'day';
export const UNIT_MS: Record<Granularity, number> = { minute: 60_000, hour: 3_600_000, day: 86_400_000 };

export interface UsagePartial {
  tenant: string;
  /** The function's name in its tenant. */
  fn: string;
  /** Epoch ms start of the minute or hour. */
  at: number;
  invocations: number;
  errors: number;
  coldStarts: number;
  billedDurationMs: number;
  initBilledMs: number;
  gbSeconds: number;
  initGbSeconds: number;
  idleGbSeconds: number;
  cpuMs: number;
  /** Highest peak memory measured, MB (0: none). */
  peakMemoryMb: number;
  /** Duration histogram: bucket index → count. */
  durations: Record<number, number>;
}

const PER_DOUBLING = 16;
/** Durations under this (ms) share the lowest bucket. */
const FLOOR_MS = 0.001;

export function durationBucket(ms: number): number {
  return Math.floor(Math.log2(Math.max(ms, FLOOR_MS)) * PER_DOUBLING);
}

/** The geometric middle of a bucket, in ms. */
export function bucketValue(bucket: number): number {
  return 2 ** ((bucket + 0.5) / PER_DOUBLING);
}

/** The value at percentile p (0..100) of a histogram, nearest rank; 0 when empty. */
export function histogramPercentile(histogram: Record<number, number>, p: number): number {
  const buckets = Object.keys(histogram)
    .map(Number)
    .sort((a, b) => a - b);
  const total = buckets.reduce((sum, b) => sum + histogram[b]!, 0);
  if (total === 0) return 0;
  const rank = Math.min(total, Math.max(1, Math.ceil((p / 100) * total)));
  let seen = 0;
  for (const b of buckets) {
    seen += histogram[b]!;
    if (seen >= rank) return bucketValue(b);
  }
  return bucketValue(buckets[buckets.length - 1]!);
}

export const emptyPartial = (tenant: string, fn: string, at: number): UsagePartial => ({
  tenant,
  fn,
  at,
  invocations: 0,
  errors: 0,
  coldStarts: 0,
  billedDurationMs: 0,
  initBilledMs: 0,
  gbSeconds: 0,
  initGbSeconds: 0,
  idleGbSeconds: 0,
  cpuMs: 0,
  peakMemoryMb: 0,
  durations: {},
});

/** Adds one metered record to a partial. */
export function addRecord(p: UsagePartial, r: MeteredRecord): void {
  if (r.cpuMs !== undefined) p.cpuMs += r.cpuMs;
  if (r.peakMemoryMb !== undefined && r.peakMemoryMb > p.peakMemoryMb) p.peakMemoryMb = r.peakMemoryMb;
  if (isContainerRecord(r)) {
    p.idleGbSeconds += r.idleGbSeconds;
    return;
  }
  p.invocations += 1;
  if (r.status !== 'ok') p.errors += 1;
  if (r.coldStart) p.coldStarts += 1;
  p.billedDurationMs += r.billedDurationMs;
  p.initBilledMs += r.initBilledMs ?? 0;
  p.gbSeconds += r.gbSeconds;
  p.initGbSeconds += r.initGbSeconds ?? 0;
  const b = durationBucket(r.durationMs);
  p.durations[b] = (p.durations[b] ?? 0) + 1;
}

/** Adds one partial into another (same or coarser unit). */
export function mergePartial(into: UsagePartial, p: UsagePartial): void {
  into.invocations += p.invocations;
  into.errors += p.errors;
  into.coldStarts += p.coldStarts;
  into.billedDurationMs += p.billedDurationMs;
  into.initBilledMs += p.initBilledMs;
  into.gbSeconds += p.gbSeconds;
  into.initGbSeconds += p.initGbSeconds;
  into.idleGbSeconds += p.idleGbSeconds;
  into.cpuMs += p.cpuMs;
  if (p.peakMemoryMb > into.peakMemoryMb) into.peakMemoryMb = p.peakMemoryMb;
  for (const [b, n] of Object.entries(p.durations)) into.durations[Number(b)] = (into.durations[Number(b)] ?? 0) + n;
}

/** Records grouped per (unit, tenant, function), by the time each record ended. */
export function partialsOf(records: Iterable<MeteredRecord>, granularity: Granularity): UsagePartial[] {
  const unit = UNIT_MS[granularity];
  const out = new Map<string, UsagePartial>();
  for (const r of records) {
    const { tenant, name } = splitFunctionId(r.fn);
    const at = Math.floor(r.endedAt / unit) * unit;
    const key = `${at}|${r.tenant ?? tenant}|${name}`;
    let p = out.get(key);
    if (!p) out.set(key, (p = emptyPartial(r.tenant ?? tenant, name, at)));
    addRecord(p, r);
  }
  return [...out.values()];
}

// ---- the Redis hash form: one hash per unit and tenant, fields `<fn>|<metric>` ----

/** How a field combines: summed as an integer, summed as a float, or kept at its maximum. */
export type FieldOp = 'i' | 'f' | 'max';

const SCALARS: Array<[keyof UsagePartial, string, FieldOp]> = [
  ['invocations', 'n', 'i'],
  ['errors', 'err', 'i'],
  ['coldStarts', 'cold', 'i'],
  ['billedDurationMs', 'bms', 'i'],
  ['initBilledMs', 'ibms', 'i'],
  ['gbSeconds', 'gbs', 'f'],
  ['initGbSeconds', 'igbs', 'f'],
  ['idleGbSeconds', 'idle', 'f'],
  ['cpuMs', 'cpu', 'f'],
  ['peakMemoryMb', 'peak', 'max'],
];

/** The field updates one partial makes to its unit's hash (zeros left out). */
export function toFieldOps(p: UsagePartial): Array<[FieldOp, string, number]> {
  const ops: Array<[FieldOp, string, number]> = [];
  for (const [key, metric, op] of SCALARS) {
    const value = p[key] as number;
    if (value !== 0) ops.push([op, `${p.fn}|${metric}`, value]);
  }
  for (const [b, n] of Object.entries(p.durations)) ops.push(['i', `${p.fn}|h${b}`, n]);
  return ops;
}

/** Reads one unit's hash back into partials, one per function. */
const METRIC_KEYS = new Map(SCALARS.map(([key, metric]) => [metric, key]));

export function fromHash(tenant: string, at: number, hash: Record<string, string>): UsagePartial[] {
  const byFn = new Map<string, UsagePartial>();
  const metricOf = METRIC_KEYS;
  for (const [field, raw] of Object.entries(hash)) {
    const bar = field.lastIndexOf('|');
    if (bar === -1) continue;
    const fn = field.slice(0, bar);
    const metric = field.slice(bar + 1);
    let p = byFn.get(fn);
    if (!p) byFn.set(fn, (p = emptyPartial(tenant, fn, at)));
    const value = Number(raw);
    if (metric.startsWith('h')) p.durations[Number(metric.slice(1))] = value;
    else {
      const key = metricOf.get(metric);
      if (key) (p as unknown as Record<string, number>)[key] = value;
    }
  }
  return [...byFn.values()];
}
