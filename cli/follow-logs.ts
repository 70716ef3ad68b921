// Printing invocation log entries, and following a function's log as it grows (`faas logs -f`, `faas dev`).
import pc from 'picocolors';
import type { ApiClient } from './api-client.js';
import { printable } from './output.js';
import type { InvocationLogEntry } from '../metering/usage-record.js';

export interface LogFilter {
  version?: number;
  /** 'ok', 'error' (anything else), or one status (timeout, function_error, ...). */
  status?: string;
}

export function matches(entry: InvocationLogEntry, filter: LogFilter): boolean {
  if (filter.version !== undefined && entry.version !== filter.version) return false;
  if (filter.status === undefined) return true;
  if (filter.status === 'error') return entry.status !== 'ok' || entry.httpStatus >= 500;
  return entry.status === filter.status;
}

/** One invocation: time, version, status, duration, cold start, id; then its error and what it printed. */
export function printEntry(entry: InvocationLogEntry, write: (line: string) => void = (line) => console.log(line)): void {
  const status = entry.status === 'ok' ? pc.green(String(entry.httpStatus)) : pc.red(`${entry.httpStatus} ${entry.status}`);
  write(
    `${pc.dim(entry.time)} v${entry.version} ${entry.trigger} ${status} ${entry.durationMs.toFixed(1)} ms${entry.coldStart ? pc.yellow(' cold') : ''} ${pc.dim(entry.invocationId)}`,
  );
  if (entry.errorMessage) write(`  ${pc.red(printable(entry.errorMessage))}`);
  for (const line of entry.logs.split('\n').filter(Boolean)) write(`  ${printable(line)}`);
}

/**
 * Polls the function's log from its end (or `cursor`) and prints what arrives until `signal` aborts. Entries
 * reach the log when the usage journal ships them (within about a second of the call).
 */
export async function followLogs(api: ApiClient, name: string, filter: LogFilter, signal: AbortSignal, everyMs = 250, onStart?: () => void): Promise<void> {
  let { cursor } = await api.request<{ cursor: string }>('GET', `/functions/${name}/logs?after=end`);
  // From here on every invocation is shown: said only now, so nothing called after it is missed.
  onStart?.();
  while (!signal.aborted) {
    const next = await api.request<{ logs: InvocationLogEntry[]; cursor: string }>('GET', `/functions/${name}/logs?after=${cursor}`).catch((err: Error) => {
      // A platform restarting: keep following once it answers again.
      if (signal.aborted) return undefined;
      console.error(pc.dim(`(${err.message}; retrying)`));
      return undefined;
    });
    if (next) {
      cursor = next.cursor;
      for (const entry of next.logs) if (matches(entry, filter)) printEntry(entry);
    }
    await new Promise((resolve) => setTimeout(resolve, everyMs));
  }
}
