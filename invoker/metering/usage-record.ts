// The usage record (one per invocation) and the per-function totals the usage API returns.
import type { InvocationStatus, TriggerKind } from '../invoker.js';

export interface UsageRecord {
  /** Invocation id. */
  id: string;
  fn: string;
  version: number;
  trigger: TriggerKind;
  /** Epoch ms. */
  startedAt: number;
  endedAt: number;
  durationMs: number;
  /** Duration rounded up to the next whole millisecond (as Lambda bills). */
  billedDurationMs: number;
  memoryMb: number;
  /** memoryMb / 1024 × billedDurationMs / 1000. */
  gbSeconds: number;
  coldStart: boolean;
  /** Container create → runtime ready; present when coldStart. */
  initMs?: number;
  queueWaitMs: number;
  status: InvocationStatus;
}

export interface UsageQuery {
  /** Epoch ms, inclusive. */
  from: number;
  /** Epoch ms, exclusive. */
  to: number;
  fn?: string;
}

export interface FunctionUsageTotals {
  fn: string;
  invocations: number;
  errors: number;
  coldStarts: number;
  gbSeconds: number;
  billedDurationMs: number;
  /** Estimated cost in USD from the configured prices. */
  cost: { compute: number; requests: number; total: number };
}

export interface Prices {
  /** USD per GB-second. Default 0.0000166667 (AWS Lambda x86). */
  perGbSecond: number;
  /** USD per million requests. Default 0.20 (AWS Lambda). */
  perMillionRequests: number;
}

/** Reads usage records back (they are written by the usage journal). */
export interface UsageStore {
  totals(query: UsageQuery, prices: Prices): Promise<FunctionUsageTotals[]>;
}

/** One line of `faas logs <fn>`: a recent invocation with what it printed. */
export interface InvocationLogEntry {
  invocationId: string;
  fn: string;
  version: number;
  /** What started it: http, async, queue, event or cron. */
  trigger: TriggerKind;
  /** ISO 8601 start time. */
  time: string;
  status: InvocationStatus;
  httpStatus: number;
  durationMs: number;
  coldStart: boolean;
  logs: string;
  errorMessage?: string;
}

/** The last N invocations of each function with their console output (written by the usage journal). */
export interface InvocationLogStore {
  /** Newest first. */
  recent(fn: string, limit: number): Promise<InvocationLogEntry[]>;
  /** Drops a deleted function's logs. */
  clear(fn: string): Promise<void>;
}
