// Metered records (one per invocation, one per container lifetime), the store that reads them back, and invocation logs.
import type { InvocationStatus, TriggerKind } from '../core/invoker.js';

export interface UsageRecord {
  /** Invocation id. */
  id: string;
  /** Absent in records written before tenants existed: the default tenant. */
  tenant?: string;
  /** Function id (`name` in the default tenant, `tenant.name` in others). */
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
  /** Init time rounded up to the next whole ms, billed at the GB-second price (as Lambda since 2025). */
  initBilledMs?: number;
  /** memoryMb / 1024 × initBilledMs / 1000. */
  initGbSeconds?: number;
  /** CPU time the container's cgroup used during this invocation (containers that run one request at a time). */
  cpuMs?: number;
  /** CPU time of the init this cold start waited for (module load; a fresh container's runtime start), billed as CPU. */
  initCpuMs?: number;
  /** Highest memory the container's cgroup had used by the end of this invocation (one request at a time). */
  peakMemoryMb?: number;
  queueWaitMs: number;
  status: InvocationStatus;
}

/**
 * One record per container when it is removed: its lifetime, the time it sat warm and idle, and, for
 * containers that ran several requests at once, the CPU time and peak memory of its whole life.
 */
export interface ContainerUsageRecord {
  kind: 'container';
  /** Container id. */
  id: string;
  tenant: string;
  fn: string;
  memoryMb: number;
  startedAt: number;
  endedAt: number;
  /** Ready and serving no request. */
  idleMs: number;
  /** Idle while the function's minScale kept it (billed as provisioned time); the rest is the platform's keep-warm. */
  keptWarmIdleMs: number;
  /** memoryMb / 1024 × keptWarmIdleMs / 1000. */
  idleGbSeconds: number;
  /** Present when the container served several requests at once (per-invocation records lack CPU then). */
  cpuMs?: number;
  peakMemoryMb?: number;
}

export type MeteredRecord = UsageRecord | ContainerUsageRecord;

export const isContainerRecord = (r: MeteredRecord): r is ContainerUsageRecord => (r as ContainerUsageRecord).kind === 'container';

/** Reads metered records back (they are written by the usage journal). */
export interface UsageStore {
  /** Records that ended in [from, to), epoch ms; in no particular order. */
  scan(from: number, to: number): AsyncIterable<MeteredRecord>;
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
  /** Entries written after a cursor, oldest first, and the next cursor (following a function's log). */
  after(fn: string, cursor: string, limit?: number): Promise<{ entries: InvocationLogEntry[]; cursor: string }>;
  /** The cursor of the log's end now. */
  end(fn: string): Promise<string>;
  /** Drops a deleted function's logs. */
  clear(fn: string): Promise<void>;
}
