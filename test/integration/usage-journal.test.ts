// The usage journal against a real Redis: records survive a crash of this process and an outage of Redis, once each.
import { appendFileSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { InvocationFinished } from '../../core/invoker.js';
import { toLogEntry } from '../../metering/meter.js';
import { RedisInvocationLogStore } from '../../metering/redis-invocation-log-store.js';
import { RedisUsageStore, USAGE_BATCH_FIELD, usageKey } from '../../metering/redis-usage-store.js';
import { toUsageRecord } from '../../metering/usage-math.js';
import { DEFAULT_PLAN } from '../../metering/billing.js';
import { rollup, rollupPartials } from '../../metering/rollup.js';
import { RedisRollupStore } from '../../metering/redis-rollups.js';
import { backfillRollups } from '../../metering/rollup-backfill.js';
import type { MeteredRecord } from '../../metering/usage-record.js';
import { UsageJournal, type JournalEntry } from '../../metering/usage-journal.js';
import { startRedis, type TestRedis } from '../support/services.js';

let redis: TestRedis;
let client: Redis;
const dirs: string[] = [];

beforeAll(async () => {
  redis = await startRedis();
  client = new Redis(redis.url, { maxRetriesPerRequest: null });
  client.on('error', () => {}); // the outage test kills Redis on purpose
});
afterAll(async () => {
  client?.disconnect();
  await redis?.stop();
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

const entry = (fn: string, over: Partial<InvocationFinished> = {}): JournalEntry => {
  const event: InvocationFinished = {
    invocationId: randomUUID(),
    fn,
    version: 1,
    trigger: 'http',
    startedAt: Date.now(),
    endedAt: Date.now() + 10,
    durationMs: 10,
    memoryMb: 1024,
    coldStart: false,
    queueWaitMs: 0,
    status: 'ok',
    httpStatus: 200,
    logs: `log of ${fn}`,
    ...over,
  };
  return { usage: toUsageRecord(event), log: toLogEntry(event) };
};

/**
 * Per-function rows of one function in [from, to), from the rollups the journal keeps (checked against
 * the shipped records themselves: both must count every record once).
 */
async function totalsOf(store: RedisUsageStore, from: number, to: number, fn: string) {
  const records: MeteredRecord[] = [];
  for await (const r of store.scan(from, to)) if (r.fn === fn) records.push(r);
  const fromRecords = rollup(records, { groupBy: ['function'], plan: DEFAULT_PLAN }).rows;
  const prefix = (store as unknown as { options: { prefix: string } }).options.prefix;
  const { partials } = await new RedisRollupStore({ redis: client, prefix }).query({ from, to, fn });
  const fromRollups = rollupPartials(partials, { groupBy: ['function'], plan: DEFAULT_PLAN }).rows;
  expect(fromRollups.map(({ invocations, errors, coldStarts, billedDurationMs }) => ({ invocations, errors, coldStarts, billedDurationMs }))).toEqual(
    fromRecords.map(({ invocations, errors, coldStarts, billedDurationMs }) => ({ invocations, errors, coldStarts, billedDurationMs })),
  );
  return fromRollups;
}

function setup() {
  const prefix = `j-${randomUUID().slice(0, 8)}:`;
  const dir = mkdtempSync(path.join(os.tmpdir(), 'faas-journal-'));
  dirs.push(dir);
  const journal = (shipDelayMs = 20) =>
    new UsageJournal({ redis: { url: redis.url, waitReplicas: 0, waitTimeoutMs: 0 }, prefix, dir, journalId: 'inv-1', shipDelayMs });
  const totals = async (fn: string) => (await totalsOf(new RedisUsageStore({ redis: client, prefix }), 0, Date.now() + 60_000, fn))[0];
  return { prefix, journal, totals, dir };
}

describe('UsageJournal', () => {
  it('ships records and log entries to Redis shortly after they are written', async () => {
    const { prefix, journal, totals } = setup();
    const j = journal();
    await j.open();
    for (let i = 0; i < 5; i++) j.write(entry('a', { status: i === 0 ? 'timeout' : 'ok', coldStart: i === 0 }));
    await new Promise((r) => setTimeout(r, 200));
    expect(await totals('a')).toMatchObject({ invocations: 5, errors: 1, coldStarts: 1, gbSeconds: 0.05, billedDurationMs: 50 });
    const logs = await new RedisInvocationLogStore({ redis: client, prefix }).recent('a', 10);
    expect(logs).toHaveLength(5);
    expect(logs[0]!.logs).toBe('log of a');
    await j.close();
  });

  it('ships what a crashed process left in its journal, exactly once, when it starts again', async () => {
    const { journal, totals } = setup();
    const crashed = journal(60_000); // never ships on its own before the "crash"
    await crashed.open();
    for (let i = 0; i < 7; i++) crashed.write(entry('b'));
    // The process dies: no flush, no close. A new run of the same invoker opens the same journal.
    const restarted = journal();
    await restarted.open();
    expect(await totals('b')).toMatchObject({ invocations: 7 });
    const again = journal();
    await again.open();
    expect(await totals('b')).toMatchObject({ invocations: 7 });
    await restarted.close();
    await again.close();
  });

  it('starts again after a kill -9 tore its last line: the torn line is dropped, every whole one shipped once', async () => {
    const { journal, totals, dir } = setup();
    const crashed = journal(60_000);
    await crashed.open();
    for (let i = 0; i < 5; i++) crashed.write(entry('torn'));
    // The kernel stopped the last write at a page boundary: half a line, no newline.
    const [segment] = readdirSync(dir);
    appendFileSync(path.join(dir, segment!), 'torn\t{"id":"half-a-reco');
    const restarted = journal();
    await restarted.open();
    for (let i = 0; i < 3; i++) restarted.write(entry('torn'));
    await restarted.flush();
    expect(await totals('torn')).toMatchObject({ invocations: 8 });
    await restarted.close();
  });

  it('keeps records while Redis is down and ships them when it is back', async () => {
    const { journal, totals } = setup();
    const j = journal(10);
    await j.open();
    j.write(entry('c'));
    await j.flush();
    await redis.kill();
    for (let i = 0; i < 3; i++) j.write(entry('c'));
    await new Promise((r) => setTimeout(r, 300)); // shipping fails meanwhile; the entries wait in the journal
    await redis.start();
    await j.flush().catch(() => new Promise((r) => setTimeout(r, 1_500)).then(() => j.flush()));
    expect(await totals('c')).toMatchObject({ invocations: 4 });
    await j.close();
  });

  it('ships usage once even when one command of the batch fails (a log key of the wrong type)', async () => {
    const { prefix, totals } = setup();
    await client.set(`${prefix}logs:e`, 'not a stream');
    const errors: Error[] = [];
    const j = new UsageJournal({
      redis: { url: redis.url, waitReplicas: 0, waitTimeoutMs: 0 },
      prefix,
      dir: dirs[dirs.length - 1]!,
      journalId: 'inv-e',
      onError: (e) => errors.push(e),
    });
    await j.open();
    for (let i = 0; i < 3; i++) j.write(entry('e'));
    await j.flush();
    await j.flush();
    expect(await totals('e')).toMatchObject({ invocations: 3 });
    expect(errors.some((e) => /WRONGTYPE/.test(e.message))).toBe(true);
    await j.close();
  });

  it('builds the rollups of batches shipped before rollups existed, once, skipping batches that have theirs', async () => {
    const { prefix, journal } = setup();
    // Two batches as an earlier version shipped them (no rollups), then one through the journal.
    for (const n of [3, 2]) {
      const batch = Array.from({ length: n }, () => entry('old').usage);
      await client.xadd(usageKey(prefix), '*', USAGE_BATCH_FIELD, JSON.stringify(batch));
    }
    const j = journal();
    await j.open();
    j.write(entry('old'));
    await j.flush();
    const store = new RedisUsageStore({ redis: client, prefix });
    const rolledUp = async () =>
      rollupPartials((await new RedisRollupStore({ redis: client, prefix }).query({ from: 0, to: Date.now() + 60_000, fn: 'old' })).partials, {
        groupBy: [],
        plan: DEFAULT_PLAN,
      }).total.invocations;
    // Only the journal's batch has rollups so far.
    expect(await rolledUp()).toBe(1);
    expect(await backfillRollups(client, prefix)).toBe(5);
    // totalsOf checks the rollups against the records themselves.
    expect((await totalsOf(store, 0, Date.now() + 60_000, 'old'))[0]).toMatchObject({ invocations: 6 });
    expect(await backfillRollups(client, prefix)).toBe(0);
    expect((await totalsOf(store, 0, Date.now() + 60_000, 'old'))[0]).toMatchObject({ invocations: 6 });
    await j.close();
  });

  it('counts a record shipped late in the period it ended in, not when it reached Redis', async () => {
    const { prefix, journal } = setup();
    const j = journal();
    await j.open();
    const hour = 3_600_000;
    const endedAt = Date.now() - 2 * hour;
    j.write(entry('late', { startedAt: endedAt - 10, endedAt }));
    await j.flush();
    const store = new RedisUsageStore({ redis: client, prefix });
    const then = await totalsOf(store, endedAt - hour, endedAt + hour, 'late');
    const now = await totalsOf(store, endedAt + hour, Date.now() + hour, 'late');
    expect(then[0]).toMatchObject({ invocations: 1 });
    expect(now).toEqual([]);
    await j.close();
  });

  it('keeps the last 100 log entries of a function', async () => {
    const { prefix, journal } = setup();
    const j = journal();
    await j.open();
    for (let i = 0; i < 120; i++) j.write(entry('d'));
    await j.flush();
    const recent = await new RedisInvocationLogStore({ redis: client, prefix }).recent('d', 1_000);
    expect(recent).toHaveLength(100);
    // Newest first.
    expect(Date.parse(recent[0]!.time)).toBeGreaterThanOrEqual(Date.parse(recent[99]!.time));
    await j.close();
  });
});

describe('UsageJournal segments', () => {
  it('ships every record exactly once while the writer moves to new segments, and deletes the shipped ones', async () => {
    const { journal, totals } = setup();
    const dir = dirs[dirs.length - 1]!;
    const j = new UsageJournal({
      redis: { url: redis.url, waitReplicas: 0, waitTimeoutMs: 0 },
      prefix: (journal() as unknown as { options: { prefix: string } }).options.prefix,
      dir,
      journalId: 'inv-1',
      shipDelayMs: 1,
      rotateBytes: 2_000,
    });
    await j.open();
    // Writes interleaved with shipping: the shipper reads segments the writer is leaving behind.
    for (let round = 0; round < 20; round++) {
      for (let i = 0; i < 10; i++) j.write(entry('seg'));
      await new Promise((r) => setTimeout(r, 2));
    }
    await j.flush();
    expect(await totals('seg')).toMatchObject({ invocations: 200 });
    // 200 lines of ~700 bytes at 2 kB a segment: many segments were written; only the current one is left.
    expect(readdirSync(dir).filter((f) => f.startsWith('inv-1.journal'))).toHaveLength(1);
    await j.close();
    // A restart ships nothing twice.
    const again = new UsageJournal({
      redis: { url: redis.url, waitReplicas: 0, waitTimeoutMs: 0 },
      prefix: (journal() as unknown as { options: { prefix: string } }).options.prefix,
      dir,
      journalId: 'inv-1',
    });
    await again.open();
    expect(await totals('seg')).toMatchObject({ invocations: 200 });
    await again.close();
  });
});
