// Turns every finished invocation into a usage record and a log entry, off the invocation's hot path.
import type { InvocationEvents } from '../invoker.js';
import { toUsageRecord } from './usage-math.js';
import type { InvocationLogStore, UsageStore } from './usage-record.js';

export function attachMeter(events: InvocationEvents, stores: { usage: UsageStore; logs: InvocationLogStore }): () => void {
  return events.onInvocationFinished((event) => {
    stores.usage.record(toUsageRecord(event));
    stores.logs.append({
      invocationId: event.invocationId,
      fn: event.fn,
      version: event.version,
      time: new Date(event.startedAt).toISOString(),
      status: event.status,
      httpStatus: event.httpStatus,
      durationMs: Math.round(event.durationMs * 1000) / 1000,
      coldStart: event.coldStart,
      logs: event.logs,
      ...(event.errorMessage ? { errorMessage: event.errorMessage } : {}),
    });
  });
}
