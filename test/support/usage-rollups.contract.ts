// The UsageRollups contract: what the usage API, invoices and the dashboard read must count every record
// once, whichever store answers (Redis in production, in memory in the gateway's unit tests).
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { InvocationFinished } from '../../core/invoker.js';
import { DEFAULT_PLAN } from '../../metering/billing.js';
import type { UsageRollups } from '../../metering/redis-rollups.js';
import { rollupPartials } from '../../metering/rollup.js';
import { toUsageRecord } from '../../metering/usage-math.js';
import type { MeteredRecord } from '../../metering/usage-record.js';

export interface RollupsHarness {
  rollups: UsageRollups;
  /** Makes records count, as the journal's shipping does. */
  add(records: MeteredRecord[]): Promise<void>;
  close(): Promise<void>;
}

const HOUR = 3_600_000;

function record(fn: string, endedAt: number, over: Partial<InvocationFinished> = {}): MeteredRecord {
  return toUsageRecord({
    invocationId: randomUUID(),
    fn,
    version: 1,
    trigger: 'http',
    startedAt: endedAt - 120,
    endedAt,
    durationMs: 120,
    memoryMb: 256,
    coldStart: false,
    queueWaitMs: 0,
    status: 'ok',
    httpStatus: 200,
    logs: '',
    ...over,
  });
}

export function describeUsageRollupsContract(name: string, make: () => Promise<RollupsHarness>): void {
  describe(`UsageRollups contract: ${name}`, () => {
    let h: RollupsHarness;
    // Whole minutes two hours ago: minute rollups answer, and no record sits on a range's edge.
    const base = Math.floor((Date.now() - 2 * HOUR) / 60_000) * 60_000;
    beforeAll(async () => {
      h = await make();
      await h.add([
        record('alpha', base + 10_000),
        record('alpha', base + 70_000, { status: 'timeout', httpStatus: 504 }),
        record('alpha', base + 130_000, { coldStart: true, initMs: 300 }),
        record('acme.beta', base + 20_000),
        record('acme.beta', base + 5 * 60_000 + 5_000),
      ]);
    });
    afterAll(async () => h.close());

    const totals = async (q: Parameters<UsageRollups['query']>[0]) => {
      const { partials } = await h.rollups.query(q);
      const { total } = rollupPartials(partials, { groupBy: [], plan: DEFAULT_PLAN });
      return { invocations: total.invocations, errors: total.errors, coldStarts: total.coldStarts, billedDurationMs: total.billedDurationMs };
    };

    it('counts every record in the range once, errors and cold starts included', async () => {
      expect(await totals({ from: base, to: base + 10 * 60_000 })).toEqual({ invocations: 5, errors: 1, coldStarts: 1, billedDurationMs: 600 });
    });

    it("answers one tenant's or one function's records only", async () => {
      expect(await totals({ from: base, to: base + 10 * 60_000, tenants: ['acme'] })).toMatchObject({ invocations: 2 });
      expect(await totals({ from: base, to: base + 10 * 60_000, fn: 'alpha' })).toMatchObject({ invocations: 3, errors: 1 });
      expect(await totals({ from: base, to: base + 10 * 60_000, tenants: ['nobody'] })).toMatchObject({ invocations: 0 });
    });

    it('leaves out records outside the range, by the minute they ended in', async () => {
      expect(await totals({ from: base + 60_000, to: base + 3 * 60_000 })).toMatchObject({ invocations: 2 });
      expect(await totals({ from: base + 6 * 60_000, to: base + 60 * 60_000 })).toMatchObject({ invocations: 0 });
    });
  });
}
