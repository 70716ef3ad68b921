// The write side of metering: each finished invocation is appended to a local journal file at once, on the
// caller's thread; a worker thread ships it to Redis in batches together with the shipped position, so no
// record is lost or counted twice when this process, or Redis, dies, and the HTTP event loop does none of
// the reading back, rollups or Redis round trips.
import { closeSync, fstatSync, mkdirSync, openSync, readSync, writeSync } from 'node:fs';
import type { Worker } from 'node:worker_threads';
import { startWorkerThread } from '../core/worker-thread.js';
import type { InvocationLogEntry, MeteredRecord } from './usage-record.js';
import { listSegments, segmentPath } from './journal-segments.js';
import type { FromShipper, ShipperThreadData, ToShipper } from './journal-shipper-thread.js';
import type { RedisTarget } from '../platform/redis-connection.js';

/**
 * The shipper thread's young generation: by default as large as the main thread's, which a thread that
 * allocates all the time fills before each scavenge, for live data of one batch of records. Measured, the
 * platform's RSS after 10 s of 32-connection no-op calls: 269–279 MB → 248–252 MB (idle: ~4 MB less).
 */
const SHIPPER_LIMITS = { maxYoungGenerationSizeMb: 4 };

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
  redis: RedisTarget;
  prefix: string;
  /** Directory of the journal's segment files. */
  dir: string;
  /** Names this journal in Redis (its shipped position); stable across restarts of the same invoker. */
  journalId: string;
  /** Wait after the first unshipped entry before shipping, to batch. Default 20. */
  shipDelayMs?: number;
  /** The wait instead while the last batch held at least busyBatch entries. Default 200. */
  busyShipDelayMs?: number;
  /** Default 32 (1,600 calls a second at the short wait). */
  busyBatch?: number;
  /** The writer starts a new segment once the current one is this large. Default 4 MiB. */
  rotateBytes?: number;
  /** Called when shipping fails; it is retried, the entries stay in the journal. */
  onError?: (err: Error) => void;
}

/**
 * Pure: how long the next batch gathers. Each shipment has a fixed cost (the shipping thread's read of the
 * journal, a Redis transaction and its fsync: measured 2026-12-07, ~280 µs of a CPU per record in batches of
 * ~12, ~80 µs in batches of ~60), so while calls come fast the batch grows to the longer wait — at 3,000 calls
 * a second that took a fifth of a core from the 2-core host (throughput +25 %). Light traffic keeps the short
 * wait, so usage reaches Redis within tens of ms. Nothing is less durable: every entry is in the journal
 * file before its call is answered.
 */
export function shipDelayOf(lastBatch: number, options: Pick<UsageJournalOptions, 'shipDelayMs' | 'busyShipDelayMs' | 'busyBatch'>): number {
  return lastBatch >= (options.busyBatch ?? 32) ? (options.busyShipDelayMs ?? 200) : (options.shipDelayMs ?? 20);
}

export class UsageJournal implements MeterSink {
  private fd = -1;
  /** Entries appended since the last shipment was asked for, and how many that one had. */
  private pending = 0;
  private lastBatch = 0;
  private seq = 0;
  private size = 0;
  private timer: NodeJS.Timeout | undefined;
  private thread: Worker | undefined;
  private flushes = new Map<number, { resolve: () => void; reject: (err: Error) => void }>();
  private nextFlush = 0;
  private closed = false;

  constructor(private readonly options: UsageJournalOptions) {}

  /** Opens the journal, starts its shipping thread, and ships whatever an earlier run left unshipped. */
  async open(): Promise<void> {
    const { dir, journalId } = this.options;
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    this.seq = listSegments(dir, journalId).pop() ?? 0;
    // A kill -9 in the middle of a write can leave its line torn (the kernel stops a write at a page boundary
    // once a fatal signal is pending): appending to it would glue the next line onto the fragment. A new
    // segment instead; the shipper drops the fragment, the torn write's call never having been answered.
    if (endsTorn(segmentPath(dir, journalId, this.seq))) this.seq += 1;
    this.openSegment();
    const data: ShipperThreadData = { redis: this.options.redis, prefix: this.options.prefix, dir, journalId };
    const thread = startWorkerThread(import.meta.url, 'journal-shipper-thread', data, SHIPPER_LIMITS);
    this.thread = thread;
    thread.on('message', (message: FromShipper) => {
      if (message.type === 'error') return this.options.onError?.(new Error(message.message));
      const waiter = this.flushes.get(message.id);
      this.flushes.delete(message.id);
      if (message.error) waiter?.reject(new Error(`usage journal could not be shipped to Redis: ${message.error}`));
      else waiter?.resolve();
    });
    const gone = (err: Error) => {
      this.thread = undefined;
      for (const waiter of this.flushes.values()) waiter.reject(err);
      this.flushes.clear();
    };
    thread.on('error', (err) => {
      this.options.onError?.(err);
      gone(err);
    });
    thread.on('exit', () => gone(new Error('usage journal shipping thread stopped')));
    await this.flush();
  }

  private openSegment(): void {
    this.fd = openSync(segmentPath(this.options.dir, this.options.journalId, this.seq), 'a');
    this.size = fstatSync(this.fd).size;
  }

  /**
   * Appends one entry to the file at once (a write to the page cache: from then on it survives a crash of
   * this process). At once, not at the end of the event-loop turn: the invoker writes the record before it
   * hands the answer back, so no caller ever holds an answer whose usage record a crash could lose.
   * A line is `fn TAB usage-json TAB log-json` (log empty for container records; JSON never holds a raw tab
   * or newline), so shipping needs no parsing.
   */
  write(entry: JournalEntry): void {
    if (this.fd === -1) throw new Error('usage journal is not open');
    const line = `${entry.usage.fn}\t${JSON.stringify(entry.usage)}\t${entry.log ? JSON.stringify(entry.log) : ''}\n`;
    this.size += writeSync(this.fd, line);
    this.pending += 1;
    if (this.size >= (this.options.rotateBytes ?? 4 * 1024 * 1024)) {
      // The next segment's existence tells the shipper this one is complete; it deletes it once shipped.
      closeSync(this.fd);
      this.seq += 1;
      this.openSegment();
    }
    this.schedule();
  }

  private schedule(): void {
    if (this.timer || this.closed) return;
    this.timer = setTimeout(
      () => {
        this.timer = undefined;
        this.lastBatch = this.pending;
        this.pending = 0;
        this.post({ type: 'ship' });
      },
      shipDelayOf(this.lastBatch, this.options),
    );
  }

  private post(message: ToShipper): void {
    this.thread?.postMessage(message);
  }

  /** Resolves once everything appended so far is in Redis; rejects when it could not be shipped now. */
  flush(): Promise<void> {
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
    const thread = this.thread;
    if (!thread) return Promise.reject(new Error('usage journal is not open'));
    const id = (this.nextFlush += 1);
    return new Promise<void>((resolve, reject) => {
      this.flushes.set(id, { resolve, reject });
      thread.postMessage({ type: 'flush', id } satisfies ToShipper);
    });
  }

  async close(): Promise<void> {
    if (this.closed) return;
    await this.flush().catch((err: Error) => this.options.onError?.(err));
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    const thread = this.thread;
    if (thread) {
      const exited = new Promise((resolve) => thread.once('exit', resolve));
      this.post({ type: 'close' });
      // A thread stuck on Redis is stopped: what it did not ship stays in the journal for the next start.
      const stuck = setTimeout(() => void thread.terminate(), 3_000);
      await exited;
      clearTimeout(stuck);
    }
    if (this.fd !== -1) closeSync(this.fd);
    this.fd = -1;
  }
}

/** Whether a segment holds a last line without its newline. */
function endsTorn(file: string): boolean {
  let fd: number;
  try {
    fd = openSync(file, 'r');
  } catch {
    return false;
  }
  try {
    const size = fstatSync(fd).size;
    if (size === 0) return false;
    const last = Buffer.alloc(1);
    readSync(fd, last, 0, 1, size - 1);
    return last[0] !== 0x0a;
  } finally {
    closeSync(fd);
  }
}
