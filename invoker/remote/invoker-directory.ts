// Which invoker processes are alive: each announces its URL in Redis every few seconds; gateways read the list.
import type { Redis } from 'ioredis';

export interface InvokerEntry {
  id: string;
  url: string;
  /** Epoch ms of the last announcement. */
  seenAt: number;
}

export interface InvokerDirectoryOptions {
  redis: Redis;
  prefix: string;
  /** How often an invoker announces itself, and gateways re-read. Default 2 000. */
  intervalMs?: number;
  /** An invoker not seen for this long is left out. Default 10 000. */
  staleMs?: number;
  clock?: () => number;
}

/** Pure: the live entries of a directory read at `now`. */
export function liveInvokers(entries: readonly InvokerEntry[], now: number, staleMs: number): InvokerEntry[] {
  return entries.filter((e) => now - e.seenAt < staleMs).sort((a, b) => a.id.localeCompare(b.id));
}

export class InvokerDirectory {
  private timer: NodeJS.Timeout | undefined;
  private live: InvokerEntry[] = [];
  private readonly clock: () => number;

  constructor(private readonly options: InvokerDirectoryOptions) {
    this.clock = options.clock ?? Date.now;
  }

  private get key(): string {
    return `${this.options.prefix}invokers`;
  }

  /** For an invoker process: announce `url` now and every interval until close(). */
  async announce(id: string, url: string): Promise<void> {
    const beat = () => this.options.redis.hset(this.key, id, JSON.stringify({ id, url, seenAt: this.clock() }));
    await beat();
    this.timer = setInterval(() => void beat().catch(() => {}), this.options.intervalMs ?? 2_000);
    this.timer.unref();
    this.withdraw = async () => {
      await this.options.redis.hdel(this.key, id);
    };
  }

  /** For a gateway: read the directory now and every interval. */
  async watch(): Promise<void> {
    await this.refresh();
    this.timer = setInterval(() => void this.refresh().catch(() => {}), this.options.intervalMs ?? 2_000);
    this.timer.unref();
  }

  async refresh(): Promise<InvokerEntry[]> {
    const raw = await this.options.redis.hvals(this.key);
    this.live = liveInvokers(
      raw.map((r) => JSON.parse(r) as InvokerEntry),
      this.clock(),
      this.options.staleMs ?? 10_000,
    );
    return this.live;
  }

  /** The live invokers as last read (sorted by id). */
  current(): readonly InvokerEntry[] {
    return this.live;
  }

  private withdraw: () => Promise<void> = async () => {};

  async close(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    await this.withdraw().catch(() => {});
  }
}
