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
  /** The version the invocations ran (a canary's usage apart from its stable version's); none for containers' idle time and older usage. */
  version?: number;
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
  /** Init's CPU time (cold starts), billed with cpuMs, shown apart as initGbSeconds is. */
  initCpuMs: number;
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

export const emptyPartial = (tenant: string, fn: string, at: number, version?: number): UsagePartial => ({
  tenant,
  fn,
  ...(version === undefined ? {} : { version }),
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
  initCpuMs: 0,
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
  p.initCpuMs += r.initCpuMs ?? 0;
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
  into.initCpuMs += p.initCpuMs;
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
    const version = isContainerRecord(r) ? undefined : r.version;
    const key = `${at}|${r.tenant ?? tenant}|${name}|${version ?? ''}`;
    let p = out.get(key);
    if (!p) out.set(key, (p = emptyPartial(r.tenant ?? tenant, name, at, version)));
    addRecord(p, r);
  }
  return [...out.values()];
}

/** Finer partials merged into coarser units (minutes into hours or days). */
export function coarsen(partials: Iterable<UsagePartial>, granularity: Granularity): UsagePartial[] {
  const unit = UNIT_MS[granularity];
  const out = new Map<string, UsagePartial>();
  for (const p of partials) {
    const at = Math.floor(p.at / unit) * unit;
    const key = `${at}|${p.tenant}|${p.fn}|${p.version ?? ''}`;
    let into = out.get(key);
    if (!into) out.set(key, (into = emptyPartial(p.tenant, p.fn, at, p.version)));
    mergePartial(into, p);
  }
  return [...out.values()];
}

// ---- the Redis hash form: one hash per unit and tenant, one field per function holding its partial as
// compact JSON (zeros left out), merged by a script: one write per function per unit, whatever it holds ----

const SCALARS: Array<[keyof UsagePartial, string]> = [
  ['invocations', 'n'],
  ['errors', 'err'],
  ['coldStarts', 'cold'],
  ['billedDurationMs', 'bms'],
  ['initBilledMs', 'ibms'],
  ['gbSeconds', 'gbs'],
  ['initGbSeconds', 'igbs'],
  ['idleGbSeconds', 'idle'],
  ['cpuMs', 'cpu'],
  ['initCpuMs', 'icpu'],
  ['peakMemoryMb', 'peak'],
];

/** A partial's hash field: the function's name, `name@version` for a version's invocations. */
export const fieldOf = (p: Pick<UsagePartial, 'fn' | 'version'>): string => (p.version === undefined ? p.fn : `${p.fn}@${p.version}`);

/** A partial as its hash field's value. `peak` merges as a maximum, `h` bucket by bucket, the rest by sum. */
export function toFieldValue(p: UsagePartial): string {
  const out: Record<string, unknown> = {};
  for (const [key, short] of SCALARS) {
    const value = p[key] as number;
    if (value !== 0) out[short] = value;
  }
  if (Object.keys(p.durations).length > 0) out.h = p.durations;
  return JSON.stringify(out);
}

/** Reads one unit's hash back into partials, one per function. */
export function fromHash(tenant: string, at: number, hash: Record<string, string>): UsagePartial[] {
  const partials: UsagePartial[] = [];
  for (const [field, raw] of Object.entries(hash)) {
    const value = JSON.parse(raw) as Record<string, unknown>;
    const at_ = field.lastIndexOf('@');
    const p = at_ === -1 ? emptyPartial(tenant, field, at) : emptyPartial(tenant, field.slice(0, at_), at, Number(field.slice(at_ + 1)));
    for (const [key, short] of SCALARS) if (typeof value[short] === 'number') (p as unknown as Record<string, number>)[key] = value[short] as number;
    const h = value.h;
    // An empty Lua table comes back from cjson as [].
    if (h && typeof h === 'object' && !Array.isArray(h)) for (const [b, n] of Object.entries(h)) p.durations[Number(b)] = Number(n);
    partials.push(p);
  }
  return partials;
}
