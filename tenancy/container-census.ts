// How many containers each tenant runs on the other invokers, so a tenant's maxContainers quota holds
// across invokers, not per invoker: each invoker writes its own per-tenant counts into one Redis hash
// every second and reads the others' back. Eventually consistent, as Knative's activator counts of
// other replicas: two invokers starting containers in the same second may overshoot the quota until
// the next count.
import type { Redis } from 'ioredis';

/** One invoker's published counts. */
export interface CensusEntry {
  /** Epoch ms written. */
  at: number;
  /** Live containers (starting, idle, paused, busy) per tenant; tenants with none left out. */
  counts: Record<string, number>;
}

/** Pure: containers per tenant on invokers other than `self`, counting entries fresher than staleMs at `now`. */
export function countElsewhere(entries: Readonly<Record<string, CensusEntry>>, self: string, now: number, staleMs: number): Map<string, number> {
  const out = new Map<string, number>();
  for (const [invoker, entry] of Object.entries(entries)) {
    if (invoker === self || now - entry.at >= staleMs) continue;
    for (const [tenant, n] of Object.entries(entry.counts)) out.set(tenant, (out.get(tenant) ?? 0) + n);
  }
  return out;
}

export interface ContainerCensusOptions {
  redis: Redis;
  prefix: string;
  invokerId: string;
  /** This invoker's live containers per tenant, now. */
  local: () => Map<string, number>;
  /** Default 1 000. */
  intervalMs?: number;
  /** Counts older than this are an invoker gone (crashed without withdrawing). Default 5 000. */
  staleMs?: number;
  clock?: () => number;
}

export class ContainerCensus {
  private elsewhereCounts = new Map<string, number>();
  private timer: NodeJS.Timeout | undefined;
  private readonly clock: () => number;

  constructor(private readonly options: ContainerCensusOptions) {
    this.clock = options.clock ?? Date.now;
  }

  private get key(): string {
    return `${this.options.prefix}census`;
  }

  async start(onError?: (err: Error) => void): Promise<void> {
    await this.tick();
    this.timer = setInterval(() => void this.tick().catch((err: Error) => onError?.(err)), this.options.intervalMs ?? 1_000);
    this.timer.unref();
  }

  /** Publishes this invoker's counts and reads the others'. */
  async tick(): Promise<void> {
    const entry: CensusEntry = { at: this.clock(), counts: Object.fromEntries(this.options.local()) };
    const results = await this.options.redis.multi().hset(this.key, this.options.invokerId, JSON.stringify(entry)).hgetall(this.key).exec();
    const raw = (results?.[1]?.[1] ?? {}) as Record<string, string>;
    const entries: Record<string, CensusEntry> = {};
    for (const [invoker, json] of Object.entries(raw)) entries[invoker] = JSON.parse(json) as CensusEntry;
    const now = this.clock();
    const staleMs = this.options.staleMs ?? 5_000;
    this.elsewhereCounts = countElsewhere(entries, this.options.invokerId, now, staleMs);
    // Invokers that crashed long ago: their entries go.
    const gone = Object.keys(entries).filter((invoker) => now - entries[invoker]!.at > 12 * staleMs);
    if (gone.length > 0) await this.options.redis.hdel(this.key, ...gone);
  }

  /** Live containers of the tenant on other invokers, as last counted. */
  elsewhere(tenant: string): number {
    return this.elsewhereCounts.get(tenant) ?? 0;
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    await this.options.redis.hdel(this.key, this.options.invokerId).catch(() => {});
  }
}
