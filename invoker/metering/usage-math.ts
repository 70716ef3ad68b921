// Pure metering arithmetic: billed duration, GB-seconds, cost, and per-function totals.
import type { InvocationFinished } from '../invoker.js';
import type { FunctionUsageTotals, Prices, UsageRecord } from './usage-record.js';

/** AWS Lambda's x86 prices (us-east-1): per GB-second and per million requests. */
export const DEFAULT_PRICES: Prices = Object.freeze({ perGbSecond: 0.0000166667, perMillionRequests: 0.2 });

/** Duration rounded up to the next whole millisecond, at least 1 ms (Lambda bills in 1 ms steps). */
export function billedDurationMs(durationMs: number): number {
  return Math.max(1, Math.ceil(durationMs - 1e-9));
}

/** Configured memory × billed time: memoryMb / 1024 GB × billedMs / 1000 s. */
export function gbSeconds(memoryMb: number, billedMs: number): number {
  return (memoryMb / 1024) * (billedMs / 1000);
}

/** The usage record of one finished invocation; the cold start's init time is recorded beside, not billed. */
export function toUsageRecord(event: InvocationFinished): UsageRecord {
  const billed = billedDurationMs(event.durationMs);
  return {
    id: event.invocationId,
    fn: event.fn,
    version: event.version,
    trigger: event.trigger,
    startedAt: event.startedAt,
    endedAt: event.endedAt,
    durationMs: Math.round(event.durationMs * 1000) / 1000,
    billedDurationMs: billed,
    memoryMb: event.memoryMb,
    gbSeconds: gbSeconds(event.memoryMb, billed),
    coldStart: event.coldStart,
    ...(event.coldStart && event.initMs !== undefined ? { initMs: event.initMs } : {}),
    queueWaitMs: event.queueWaitMs,
    status: event.status,
  };
}

/** Estimated cost in USD, unrounded (round only for display). */
export function costOf(usage: { invocations: number; gbSeconds: number }, prices: Prices): FunctionUsageTotals['cost'] {
  const compute = usage.gbSeconds * prices.perGbSecond;
  const requests = (usage.invocations / 1_000_000) * prices.perMillionRequests;
  return { compute, requests, total: compute + requests };
}

/** Totals per function (sorted by name); errors are invocations whose status is not 'ok'. */
export function aggregate(records: Iterable<UsageRecord>, prices: Prices): FunctionUsageTotals[] {
  const byFn = new Map<string, Omit<FunctionUsageTotals, 'cost'>>();
  for (const r of records) {
    let t = byFn.get(r.fn);
    if (!t) {
      t = { fn: r.fn, invocations: 0, errors: 0, coldStarts: 0, gbSeconds: 0, billedDurationMs: 0 };
      byFn.set(r.fn, t);
    }
    t.invocations += 1;
    if (r.status !== 'ok') t.errors += 1;
    if (r.coldStart) t.coldStarts += 1;
    t.gbSeconds += r.gbSeconds;
    t.billedDurationMs += r.billedDurationMs;
  }
  return [...byFn.values()]
    .sort((a, b) => a.fn.localeCompare(b.fn))
    .map((t) => ({ ...t, cost: costOf(t, prices) }));
}

/** Sum of per-function totals, for the usage API's `total`. */
export function sumTotals(totals: readonly FunctionUsageTotals[], prices: Prices): Omit<FunctionUsageTotals, 'fn'> {
  const sum = { invocations: 0, errors: 0, coldStarts: 0, gbSeconds: 0, billedDurationMs: 0 };
  for (const t of totals) {
    sum.invocations += t.invocations;
    sum.errors += t.errors;
    sum.coldStarts += t.coldStarts;
    sum.gbSeconds += t.gbSeconds;
    sum.billedDurationMs += t.billedDurationMs;
  }
  return { ...sum, cost: costOf(sum, prices) };
}
