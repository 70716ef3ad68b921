// Pure metering arithmetic: billed duration and GB-seconds of one invocation, and its usage record.
import { splitFunctionId } from '../core/function-spec.js';
import type { InvocationFinished, RetiredContainer } from '../core/invoker.js';
import type { ContainerUsageRecord, UsageRecord } from './usage-record.js';

/** Duration rounded up to the next whole millisecond, at least 1 ms (Lambda bills in 1 ms steps). */
export function billedDurationMs(durationMs: number): number {
  return Math.max(1, Math.ceil(durationMs - 1e-9));
}

/** Configured memory × billed time: memoryMb / 1024 GB × billedMs / 1000 s. */
export function gbSeconds(memoryMb: number, billedMs: number): number {
  return (memoryMb / 1024) * (billedMs / 1000);
}

/**
 * The usage record of one finished invocation. A cold start's init time is billed beside the handler's
 * duration (as Lambda does since 2025), at the same GB-second price, and shown separately.
 */
export function toUsageRecord(event: InvocationFinished): UsageRecord {
  const billed = billedDurationMs(event.durationMs);
  const initBilled = event.coldStart && event.initMs !== undefined ? billedDurationMs(event.initMs) : undefined;
  return {
    id: event.invocationId,
    tenant: splitFunctionId(event.fn).tenant,
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
    ...(initBilled !== undefined ? { initMs: event.initMs, initBilledMs: initBilled, initGbSeconds: gbSeconds(event.memoryMb, initBilled) } : {}),
    ...(event.cpuMs !== undefined ? { cpuMs: event.cpuMs } : {}),
    ...(event.initCpuMs !== undefined ? { initCpuMs: event.initCpuMs } : {}),
    ...(event.peakMemoryMb !== undefined ? { peakMemoryMb: event.peakMemoryMb } : {}),
    queueWaitMs: event.queueWaitMs,
    status: event.status,
  };
}

/**
 * The usage record of a container's life: idle time is billed (as provisioned time) only when the
 * function asked to be kept warm (minScale > 0); the platform's own keep-alive before scaling to zero is not.
 */
export function toContainerRecord(c: RetiredContainer): ContainerUsageRecord {
  const keptWarmIdleMs = c.keptWarm ? c.idleMs : 0;
  return {
    kind: 'container',
    id: c.containerId,
    tenant: splitFunctionId(c.fn).tenant,
    fn: c.fn,
    memoryMb: c.memoryMb,
    startedAt: c.readyAt,
    endedAt: c.removedAt,
    idleMs: c.idleMs,
    keptWarmIdleMs,
    idleGbSeconds: gbSeconds(c.memoryMb, keptWarmIdleMs),
    ...(c.cpuMs !== undefined ? { cpuMs: Math.round(c.cpuMs * 1000) / 1000 } : {}),
    ...(c.peakMemoryMb !== undefined ? { peakMemoryMb: Math.round(c.peakMemoryMb * 100) / 100 } : {}),
  };
}
