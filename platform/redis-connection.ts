// How every process and thread of the platform reaches Redis: one URL (redis://, rediss:// for TLS, with
// user and password for an ACL user and a database number), or Redis Sentinel — the sentinels' addresses
// and the master's name, the URL still giving credentials, TLS and database. Defined once: the main
// thread, the async workers' thread and the usage journal's shipping thread all connect through here.
import { Redis, type RedisOptions } from 'ioredis';

/** Where Redis is; structured-cloneable, so threads receive it as it is. */
export interface RedisTarget {
  url: string;
  /** With Redis Sentinel: where the sentinels listen; the master is asked of them, and followed on failover. */
  sentinels?: Array<{ host: string; port: number }>;
  /** The master's name in the sentinels' configuration. */
  masterName?: string;
  sentinelPassword?: string;
  /**
   * Replicas that must hold an accepted async job (and a shipped usage batch) before it counts as accepted
   * (Redis WAIT): with a replica, a master lost right after a write loses nothing acknowledged. 0: no wait.
   */
  waitReplicas: number;
  /** Longest WAIT, ms; past it the write is taken as is (and logged). */
  waitTimeoutMs: number;
}

/** The ioredis options of the target (without a URL: sentinels, or the URL's parts). */
export function redisOptions(target: RedisTarget, extra: RedisOptions = {}): RedisOptions {
  const url = new URL(target.url);
  const common: RedisOptions = {
    ...(url.username ? { username: decodeURIComponent(url.username) } : {}),
    ...(url.password ? { password: decodeURIComponent(url.password) } : {}),
    ...(url.pathname.length > 1 ? { db: Number(url.pathname.slice(1)) } : {}),
    ...(url.protocol === 'rediss:' ? { tls: { servername: url.hostname } } : {}),
  };
  if (target.sentinels?.length) {
    return {
      ...common,
      sentinels: target.sentinels,
      name: target.masterName ?? 'mymaster',
      ...(target.sentinelPassword ? { sentinelPassword: target.sentinelPassword } : {}),
      ...extra,
    };
  }
  return { ...common, host: url.hostname || '127.0.0.1', port: Number(url.port || 6379), ...extra };
}

export function connectRedis(target: RedisTarget, extra: RedisOptions = {}): Redis {
  return new Redis(redisOptions(target, extra));
}

/**
 * After a write that must survive losing the master: waits until the writes this connection made so far are on
 * `waitReplicas` replicas (Redis WAIT). It waits only for replicas the master has (read with ROLE at most once a
 * second): right after a failover the new master has none, and every write would otherwise stall for the
 * whole timeout. WAIT holds the connection while it waits, so writers share it: one WAIT at a time, and a
 * writer arriving while one is out waits for the next, which covers every write made before it is sent.
 * Never throws: the write is done; `onShort` hears when it reached fewer replicas than wanted (none
 * connected, lagging, or the check itself failed).
 */
export class ReplicaWait {
  private replicas: number | undefined;
  private checkedAt = Number.NEGATIVE_INFINITY;
  /** Writers waiting for the next WAIT; each WAIT answers all who were waiting when it was sent. */
  private waiting: Array<{ resolve: (acked: number) => void; reject: (err: Error) => void }> = [];
  private busy = false;

  constructor(
    private readonly redis: Redis,
    private readonly target: Pick<RedisTarget, 'waitReplicas' | 'waitTimeoutMs'>,
    private readonly onShort: (acked: number, wanted: number, err?: Error) => void = () => {},
    private readonly clock: () => number = Date.now,
  ) {}

  async afterWrite(): Promise<void> {
    const wanted = this.target.waitReplicas;
    if (wanted <= 0) return;
    let acked: number;
    try {
      acked = await new Promise<number>((resolve, reject) => {
        this.waiting.push({ resolve, reject });
        if (!this.busy) void this.drain();
      });
    } catch (err) {
      this.onShort(0, wanted, err as Error);
      return;
    }
    if (acked < wanted) this.onShort(acked, wanted);
  }

  private async drain(): Promise<void> {
    this.busy = true;
    while (this.waiting.length > 0) {
      let batch: typeof this.waiting = [];
      try {
        await this.readReplicas();
        // Every write of these writers is done: the WAIT sent now covers them all.
        batch = this.waiting.splice(0);
        const waitFor = Math.min(this.target.waitReplicas, this.replicas ?? this.target.waitReplicas);
        const acked = waitFor > 0 ? ((await this.redis.call('WAIT', waitFor, this.target.waitTimeoutMs)) as number) : 0;
        for (const w of batch) w.resolve(acked);
      } catch (err) {
        for (const w of batch) w.reject(err as Error);
      }
    }
    this.busy = false;
  }

  /** The master's replicas, read at most once a second; undefined when ROLE is denied (an ACL user). */
  private async readReplicas(): Promise<void> {
    if (this.clock() - this.checkedAt < 1_000) return;
    this.checkedAt = this.clock();
    const role = (await this.redis.call('ROLE').catch(() => undefined)) as [string, number, unknown[]?] | undefined;
    this.replicas = role ? (role[0] === 'master' ? (role[2]?.length ?? 0) : 0) : undefined;
  }
}

/** Parses REDIS_SENTINELS: `host:port` entries, comma-separated. */
export function parseSentinels(value: string): Array<{ host: string; port: number }> {
  return value
    .split(',')
    .map((entry) => entry.trim())
    .filter(Boolean)
    .map((entry) => {
      const at = entry.lastIndexOf(':');
      const host = at === -1 ? entry : entry.slice(0, at).replace(/^\[|\]$/g, '');
      const port = at === -1 ? 26_379 : Number(entry.slice(at + 1));
      if (!host || !Number.isInteger(port) || port < 1 || port > 65_535) throw new Error(`"${entry}" is not host:port`);
      return { host, port };
    });
}
