// Turns every finished invocation into a usage record and a log entry for the journal.
import type { InvocationEvents, InvocationFinished } from '../core/invoker.js';
import { toUsageRecord } from './usage-math.js';
import type { MeterSink } from './usage-journal.js';
import type { InvocationLogEntry } from './usage-record.js';

export function toLogEntry(event: InvocationFinished): InvocationLogEntry {
  return {
    invocationId: event.invocationId,
    fn: event.fn,
    version: event.version,
    trigger: event.trigger,
    time: new Date(event.startedAt).toISOString(),
    status: event.status,
    httpStatus: event.httpStatus,
    durationMs: Math.round(event.durationMs * 1000) / 1000,
    coldStart: event.coldStart,
    logs: event.logs,
    ...(event.errorMessage ? { errorMessage: event.errorMessage } : {}),
  };
}

export function attachMeter(events: InvocationEvents, sink: MeterSink): () => void {
  return events.onInvocationFinished((event) => sink.write({ usage: toUsageRecord(event), log: toLogEntry(event) }));
}
