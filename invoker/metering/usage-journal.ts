// The write side of metering: each finished invocation is appended to a local journal file at once, then
// shipped to Redis in batches together with the journal offset, so no record is lost or counted twice when
// this process, or Redis, dies.
import { closeSync, fstatSync, ftruncateSync, mkdirSync, openSync, readSync, writeSync } from 'node:fs';
import path from 'node:path';
import type { Redis } from 'ioredis';
import type { InvocationLogEntry, MeteredRecord } from './usage-record.js';
import { LOG_BATCH_FIELD, LOG_ENTRIES_KEPT, logKey } from './redis-invocation-log-store.js';
import { USAGE_BATCH_FIELD, usageKey } from './redis-usage-store.js';
import { appendRollups, defineRollupCommand, ROLLED_UP } from './redis-rollups.js';

export interface JournalEntry {
  usage: MeteredRecord;
  /** The invocation's log entry; container records have none. */
  log?: InvocationLogEntry;
}

/** Where finished invocations go; the meter writes, the journal makes them durable. */
export interface MeterSink {
  write(entry: JournalEntry): void;
}

export interface UsageJournalOptions {
  redis: Redis;
  prefix: string;
  /** Directory of the journal file. */
  dir: string;
  /** Names this journal in Redis (its shipped offset); stable across restarts of the same invoker. */
  journalId: string;
  /** Wait after the first unshipped entry before shipping, to batch. Default 20. */
  shipDelayMs?: number;
  /** A shipped journal larger than this is truncated. Default 4 MiB. */
  rotateBytes?: number;
  /** Called when shipping fails; it is retried, the entries stay in the journal. */
  onError?: (err: Error) => void;
}

const READ_CHUNK = 1024 * 1024;
const RETRY_MS = 1_000;

export class UsageJournal implements MeterSink {
  private fd = -1;
  private offset = 0;
  private timer: NodeJS.Timeout | undefined;
  private shipping: Promise<void> | undefined;
  private closed = false;

  constructor(private readonly options: UsageJournalOptions) {}

  private get offsetKey(): string {
    return `${this.options.prefix}journal:${this.options.journalId}`;
  }

  /** Opens the journal and ships whatever an earlier run left unshipped. */
  async open(): Promise<void> {
    mkdirSync(this.options.dir, { recursive: true });
    this.fd = openSync(path.join(this.options.dir, `${this.options.journalId.replace(/[^A-Za-z0-9_.-]/g, '_')}.journal`), 'a+');
    const saved = Number((await this.options.redis.get(this.offsetKey)) ?? 0);
    // A journal shorter than the saved offset was truncated after a full ship: start from its beginning.
    this.offset = saved <= fstatSync(this.fd).size ? saved : 0;
    await this.flush();
  }

  /**
   * Appends one entry to the file at once (a write to the page cache: from then on it survives a crash of
   * this process). At once, not at the end of the event-loop turn: the invoker writes the record before it
   * hands the answer back, so no caller ever holds an answer whose usage record a crash could lose.
   * A line is `fn TAB usage-json TAB log-json` (log empty for container records; JSON never holds a raw tab or newline), so shipping
   * needs no parsing.
   */
  write(entry: JournalEntry): void {
    if (this.fd === -1) throw new Error('usage journal is not open');
    const line = `${entry.usage.fn}\t${JSON.stringify(entry.usage)}\t${entry.log ? JSON.stringify(entry.log) : ''}\n`;
    writeSync(this.fd, line);
    this.schedule(this.options.shipDelayMs ?? 20);
  }

  private schedule(delayMs: number): void {
    if (this.timer || this.closed) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.ship();
    }, delayMs);
  }

  /** Ships once; concurrent calls share the one in progress. */
  private ship(): Promise<void> {
    this.shipping ??= this.shipOnce()
      .catch((err: Error) => {
        this.options.onError?.(err);
        this.schedule(RETRY_MS);
      })
      .finally(() => {
        this.shipping = undefined;
      });
    return this.shipping;
  }

  private async shipOnce(): Promise<void> {
    const size = fstatSync(this.fd).size;
    if (size <= this.offset) return;
    const buffer = Buffer.allocUnsafe(Math.min(READ_CHUNK, size - this.offset));
    const read = readSync(this.fd, buffer, 0, buffer.length, this.offset);
    const end = buffer.subarray(0, read).lastIndexOf(0x0a);
    if (end === -1) return;
    const lines = buffer.subarray(0, end).toString('utf8').split('\n');
    const next = this.offset + end + 1;
    // One stream entry per batch for usage, one per function for logs, and the batch's rollups: a few
    // Redis commands per batch however many invocations it holds.
    const usage: string[] = [];
    const logsByFn = new Map<string, string[]>();
    for (const line of lines) {
      const first = line.indexOf('\t');
      const second = line.indexOf('\t', first + 1);
      if (first === -1 || second === -1) continue;
      usage.push(line.slice(first + 1, second));
      if (second === line.length - 1) continue;
      const fn = line.slice(0, first);
      const logs = logsByFn.get(fn);
      if (logs) logs.push(line.slice(second + 1));
      else logsByFn.set(fn, [line.slice(second + 1)]);
    }
    defineRollupCommand(this.options.redis);
    const multi = this.options.redis.multi();
    // ROLLED_UP marks a batch whose rollups are in this transaction (a backfill skips it).
    if (usage.length > 0) multi.xadd(usageKey(this.options.prefix), '*', USAGE_BATCH_FIELD, `[${usage.join(',')}]`, ROLLED_UP, '1');
    // The rollups the usage API reads, in the same transaction: counted exactly once with the records.
    appendRollups(multi, this.options.prefix, usage.map((u) => JSON.parse(u) as MeteredRecord));
    for (const [fn, logs] of logsByFn) {
      // Each stream entry holds 1 to LOG_ENTRIES_KEPT log entries (older ones of a batch would never be
      // read), and about LOG_ENTRIES_KEPT stream entries are kept: at least that many log entries.
      const kept = logs.length > LOG_ENTRIES_KEPT ? logs.slice(-LOG_ENTRIES_KEPT) : logs;
      multi.xadd(logKey(this.options.prefix, fn), 'MAXLEN', '~', LOG_ENTRIES_KEPT, '*', LOG_BATCH_FIELD, `[${kept.join(',')}]`);
    }
    // The offset moves in the same transaction as the records: shipped exactly once.
    multi.set(this.offsetKey, String(next));
    const results = await multi.exec();
    if (!results) throw new Error('usage journal transaction aborted');
    const [offsetError] = results[results.length - 1]!;
    if (offsetError) throw offsetError;
    // Redis applies every command of a transaction even when one fails (say, a key of the wrong type):
    // the batch is shipped once the offset is; a failed command is reported, never retried into duplicates.
    const failed = results.find(([err]) => err);
    if (failed?.[0]) this.options.onError?.(failed[0]);
    this.offset = next;
    if (next < fstatSync(this.fd).size) return this.shipOnce();
    if (next >= (this.options.rotateBytes ?? 4 * 1024 * 1024)) {
      ftruncateSync(this.fd, 0);
      // Before the await: lines written meanwhile start at 0, and a failed SET must not leave the offset
      // past them (a saved offset beyond the file's end reads as 0 at the next start).
      this.offset = 0;
      await this.options.redis.set(this.offsetKey, '0');
    }
  }

  /** Resolves once everything appended so far is in Redis. */
  async flush(): Promise<void> {
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
    await this.shipping;
    await this.ship();
    if (fstatSync(this.fd).size > this.offset) throw new Error('usage journal could not be shipped to Redis');
  }

  async close(): Promise<void> {
    await this.flush().catch((err: Error) => this.options.onError?.(err));
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    closeSync(this.fd);
    this.fd = -1;
  }
}
