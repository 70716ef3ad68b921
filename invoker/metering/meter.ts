// Turns every finished invocation into a usage record and a log entry, after the response is on its way.
import type { InvocationEvents, InvocationFinished } from '../invoker.js';
import { toUsageRecord } from './usage-math.js';
import type { InvocationLogStore, UsageStore } from './usage-record.js';

export function attachMeter(events: InvocationEvents, stores: { usage: UsageStore; logs: InvocationLogStore }): () => void {
  let batch: InvocationFinished[] = [];
  const write = () => {
    const events = batch;
    batch = [];
    for (const event of events) {
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
    }
  };
  // The event fires just before the caller's response is written; setImmediate lets that write go first
  // and sends every record of this loop turn to Redis together (still before any later I/O is handled).
  const detach = events.onInvocationFinished((event) => {
    if (batch.push(event) === 1) setImmediate(write);
  });
  return () => {
    detach();
    write();
  };
}
