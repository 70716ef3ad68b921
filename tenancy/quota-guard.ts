// Per-tenant GB-seconds quotas: follows the usage stream to keep each tenant's GB-seconds of the current
// billing period, and refuses new invocations of a tenant past its quota with 429. Checking is a map
// lookup (no I/O on the hot path); the figures trail the truth by the usage journal's shipping delay and
// the refresh interval, so a tenant may overshoot by what it runs in that time.
import { QuotaExceededError } from '../core/errors.js';
import { splitFunctionId } from '../core/function-spec.js';
import { periodOf, type Period } from '../metering/periods.js';
import { tenantOf } from '../metering/rollup.js';
import type { RedisUsageStore } from '../metering/redis-usage-store.js';
import { isContainerRecord, type MeteredRecord } from '../metering/usage-record.js';
import type { TenantStore } from './tenant-store.js';

/** Pure: GB-seconds (handler + init) per tenant for one period. */
export class PeriodLedger {
  private readonly used = new Map<string, number>();
  constructor(readonly period: Period) {}

  add(records: Iterable<MeteredRecord>): void {
    for (const r of records) {
      if (isContainerRecord(r) || r.endedAt < this.period.from || r.endedAt >= this.period.to) continue;
      const tenant = tenantOf(r);
      this.used.set(tenant, (this.used.get(tenant) ?? 0) + r.gbSeconds + (r.initGbSeconds ?? 0));
    }
  }

  usedBy(tenant: string): number {
    return this.used.get(tenant) ?? 0;
  }
}

export interface QuotaGuardOptions {
  usage: RedisUsageStore;
  tenants: TenantStore;
  timeZone: string;
  /** How often the stream and the quotas are read again. Default 1000 ms. */
  refreshMs?: number;
  clock?: () => number;
  onError?: (err: Error) => void;
}

/** Records can reach the stream this long after they end (journal batching, clock skew). */
const LATE_MS = 60_000;

export class QuotaGuard {
  private ledger: PeriodLedger | undefined;
  private cursor = '0';
  private limits = new Map<string, number>();
  private timer: NodeJS.Timeout | undefined;
  private readonly clock: () => number;

  constructor(private readonly options: QuotaGuardOptions) {
    this.clock = options.clock ?? Date.now;
  }

  async start(): Promise<void> {
    await this.refresh();
    this.timer = setInterval(() => void this.refresh().catch((err: Error) => this.options.onError?.(err)), this.options.refreshMs ?? 1_000);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
  }

  /** Reads the quotas, starts a new ledger when the period changed, and adds the records shipped since last time. */
  async refresh(): Promise<void> {
    const limits = new Map<string, number>();
    for (const t of await this.options.tenants.list()) if (t.quotas.maxGbSecondsPerPeriod) limits.set(t.id, t.quotas.maxGbSecondsPerPeriod);
    this.limits = limits;
    // No GB-seconds quota anywhere: nothing to follow (a first quota starts the ledger from the period's start).
    if (limits.size === 0) {
      this.ledger = undefined;
      return;
    }
    const period = periodOf(this.clock(), this.options.timeZone);
    if (this.ledger?.period.id !== period.id) {
      this.ledger = new PeriodLedger(period);
      this.cursor = String(Math.max(0, period.from - LATE_MS));
    }
    for (;;) {
      const { records, last } = await this.options.usage.tail(this.cursor);
      this.ledger.add(records);
      if (last === this.cursor) return;
      this.cursor = last;
    }
  }

  /** GB-seconds a tenant used this period, as last read. */
  usedBy(tenant: string): number {
    return this.ledger?.usedBy(tenant) ?? 0;
  }

  /** Throws QuotaExceededError when the function's tenant has used its GB-seconds for the period. */
  admit(fn: string): void {
    if (this.limits.size === 0 || !this.ledger) return;
    const { tenant } = splitFunctionId(fn);
    const limit = this.limits.get(tenant);
    if (limit === undefined) return;
    const used = this.ledger.usedBy(tenant);
    if (used >= limit) {
      throw new QuotaExceededError(
        `tenant "${tenant}" used ${used.toFixed(3)} of its ${limit} GB-seconds for ${this.ledger.period.id}; ask an admin to raise it (faas tenant set ${tenant} --max-gb-seconds N) or wait for the next period`,
      );
    }
  }
}
