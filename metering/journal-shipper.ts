// Ships the usage journal's complete lines to Redis in batches: the records, their rollups, the log entries
// and the shipped position in one MULTI, so each record is counted exactly once whichever process or Redis
// dies. It only reads the journal's segments and deletes those shipped that the writer has left behind; the
// writer alone appends. Runs in the journal's worker thread (journal-shipper-thread.ts).
import { closeSync, fstatSync, openSync, readSync, statSync, unlinkSync } from 'node:fs';
import type { Redis } from 'ioredis';
import { formatPosition, listSegments, parsePosition, resumeAt, segmentPath, type ShippedPosition } from './journal-segments.js';
import type { MeteredRecord } from './usage-record.js';
import { LOG_BATCH_FIELD, LOG_ENTRIES_KEPT, logKey } from './redis-invocation-log-store.js';
import { USAGE_BATCH_FIELD, usageKey } from './redis-usage-store.js';
import { appendRollups, defineRollupCommand, ROLLED_UP } from './redis-rollups.js';

export interface JournalShipperOptions {
  redis: Redis;
  prefix: string;
  dir: string;
  journalId: string;
  /** A failed command of a shipped batch (the batch counts; the command is not retried). */
  onError?: (err: Error) => void;
  /**
   * Waits until what was shipped is on Redis's replicas (WAIT), before segments are deleted and the next
   * batch goes: a master lost right after a batch then loses none of it. Absent: no replica to wait for.
   */
  replicated?: () => Promise<void>;
}

const READ_CHUNK = 1024 * 1024;

export const positionKey = (prefix: string, journalId: string) => `${prefix}journal:${journalId}`;

export class JournalShipper {
  private position: ShippedPosition | undefined;
  private fd = -1;
  private fdSeq = -1;

  constructor(private readonly options: JournalShipperOptions) {}

  /** Ships every complete line written so far; throws (shipping nothing more) when Redis fails. */
  async shipAll(): Promise<void> {
    const { dir, journalId } = this.options;
    this.position ??= parsePosition(await this.options.redis.get(positionKey(this.options.prefix, journalId)));
    for (;;) {
      const segments = listSegments(dir, journalId);
      const pos = resumeAt(this.position, segments, (seq) => statSync(segmentPath(dir, journalId, seq)).size);
      this.position = pos;
      // Segments before the position were shipped by an earlier run that stopped before deleting them.
      for (const seq of segments) if (seq < pos.seq) this.remove(seq);
      if (!segments.includes(pos.seq)) return;
      if (await this.shipBatch(pos)) continue;
      const next = segments.find((seq) => seq > pos.seq);
      if (next === undefined) return;
      // The writer has moved on, so this segment is complete (a torn last line of a crash is dropped).
      // Position first, then delete: a crash between leaves a shipped segment the next run deletes.
      const moved = { seq: next, offset: 0 };
      await this.options.redis.set(positionKey(this.options.prefix, journalId), formatPosition(moved));
      await this.options.replicated?.();
      this.position = moved;
      this.remove(pos.seq);
    }
  }

  close(): void {
    if (this.fd !== -1) closeSync(this.fd);
    this.fd = -1;
  }

  private remove(seq: number): void {
    if (seq === this.fdSeq) this.close();
    try {
      unlinkSync(segmentPath(this.options.dir, this.options.journalId, seq));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    }
  }

  private segmentFd(seq: number): number {
    if (this.fdSeq !== seq) {
      this.close();
      this.fd = openSync(segmentPath(this.options.dir, this.options.journalId, seq), 'r');
      this.fdSeq = seq;
    }
    return this.fd;
  }

  /** Ships the complete lines after `pos` (up to READ_CHUNK); false when there were none. */
  private async shipBatch(pos: ShippedPosition): Promise<boolean> {
    const fd = this.segmentFd(pos.seq);
    const size = fstatSync(fd).size;
    if (size <= pos.offset) return false;
    const buffer = Buffer.allocUnsafe(Math.min(READ_CHUNK, size - pos.offset));
    const read = readSync(fd, buffer, 0, buffer.length, pos.offset);
    const end = buffer.subarray(0, read).lastIndexOf(0x0a);
    if (end === -1) return false;
    const lines = buffer.subarray(0, end).toString('utf8').split('\n');
    const next = { seq: pos.seq, offset: pos.offset + end + 1 };
    // One stream entry per batch for usage, one per function for logs, and the batch's rollups: a few
    // Redis commands per batch however many invocations it holds. A line is `fn TAB usage TAB log`.
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
    const { redis, prefix } = this.options;
    defineRollupCommand(redis);
    const multi = redis.multi();
    // ROLLED_UP marks a batch whose rollups are in this transaction (a backfill skips it).
    if (usage.length > 0) multi.xadd(usageKey(prefix), '*', USAGE_BATCH_FIELD, `[${usage.join(',')}]`, ROLLED_UP, '1');
    // The rollups the usage API reads, in the same transaction: counted exactly once with the records.
    appendRollups(
      multi,
      prefix,
      usage.map((u) => JSON.parse(u) as MeteredRecord),
    );
    for (const [fn, logs] of logsByFn) {
      // Each stream entry holds 1 to LOG_ENTRIES_KEPT log entries (older ones of a batch would never be
      // read), and about LOG_ENTRIES_KEPT stream entries are kept: at least that many log entries.
      const kept = logs.length > LOG_ENTRIES_KEPT ? logs.slice(-LOG_ENTRIES_KEPT) : logs;
      multi.xadd(logKey(prefix, fn), 'MAXLEN', '~', LOG_ENTRIES_KEPT, '*', LOG_BATCH_FIELD, `[${kept.join(',')}]`);
    }
    // The position moves in the same transaction as the records: shipped exactly once.
    multi.set(positionKey(prefix, this.options.journalId), formatPosition(next));
    const results = await multi.exec();
    if (!results) throw new Error('usage journal transaction aborted');
    const [positionError] = results[results.length - 1]!;
    if (positionError) throw positionError;
    // Redis applies every command of a transaction even when one fails (say, a key of the wrong type):
    // the batch is shipped once the position is; a failed command is reported, never retried into duplicates.
    const failed = results.find(([err]) => err);
    if (failed?.[0]) this.options.onError?.(failed[0]);
    await this.options.replicated?.();
    this.position = next;
    return true;
  }
}
