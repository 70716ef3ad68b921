// FunctionRegistry in Redis: specs and code by hash, a local cache kept current by pub/sub between processes.
import { createHash, randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import { defaultFunctionConfig, type FunctionSpec } from '../core/function-spec.js';
import type { DeployInput, FunctionChange, FunctionRegistry } from './function-registry.js';

export interface RedisFunctionRegistryOptions {
  redis: Redis;
  /** Key prefix, e.g. 'faas:'. */
  prefix: string;
  clock?: () => number;
}

/** Atomically: read the previous spec, write the next version, add the name, publish. Returns the new spec JSON. */
const DEPLOY_SCRIPT = `
local previous = redis.call('GET', KEYS[1])
local spec = cjson.decode(ARGV[1])
if previous then
  local prev = cjson.decode(previous)
  spec.version = prev.version + 1
  spec.createdAt = prev.createdAt
else
  spec.version = 1
end
local encoded = cjson.encode(spec)
redis.call('SET', KEYS[1], encoded)
redis.call('SADD', KEYS[2], spec.name)
redis.call('PUBLISH', KEYS[3], cjson.encode({ origin = ARGV[2], kind = 'deployed', spec = spec, previous = previous and cjson.decode(previous) or nil }))
if previous then return {encoded, previous} end
return {encoded}
`;

interface WireChange {
  origin: string;
  kind: 'deployed' | 'deleted';
  spec?: FunctionSpec;
  previous?: FunctionSpec;
  name?: string;
}

/** cjson encodes an empty object as an empty array; specs always have an env object. */
/** Specs stored before a setting existed get its default; an empty env may come back from Lua as []. */
const normalize = (spec: FunctionSpec): FunctionSpec => ({
  ...defaultFunctionConfig(),
  ...spec,
  env: Array.isArray(spec.env) ? {} : spec.env,
  queues: Array.isArray(spec.queues) ? spec.queues : [],
  topics: Array.isArray(spec.topics) ? spec.topics : [],
  schedules: Array.isArray(spec.schedules) ? spec.schedules : [],
});

export class RedisFunctionRegistry implements FunctionRegistry {
  private readonly cache = new Map<string, FunctionSpec>();
  /**
   * Changes seen, numbered, and the number of each function's last one — kept only while a read (reload or
   * get) is under way, which needs them to tell what changed during it; cleared when none is, so the map
   * never grows with the functions ever deployed.
   */
  private changeSeq = 0;
  private readonly changedAt = new Map<string, number>();
  private readsUnderWay = 0;
  private readonly listeners = new Set<(change: FunctionChange) => void>();
  private readonly origin = randomUUID();
  private subscriber: Redis | undefined;
  private readonly clock: () => number;

  private constructor(private readonly options: RedisFunctionRegistryOptions) {
    this.clock = options.clock ?? Date.now;
  }

  /** Loads every spec into the cache and subscribes to changes made by other processes. */
  static async open(options: RedisFunctionRegistryOptions): Promise<RedisFunctionRegistry> {
    const registry = new RedisFunctionRegistry(options);
    await registry.subscribe();
    await registry.reload();
    return registry;
  }

  private key(...parts: string[]): string {
    return `${this.options.prefix}${parts.join(':')}`;
  }

  private get channel(): string {
    return this.key('functions');
  }

  private async subscribe(): Promise<void> {
    const subscriber = this.options.redis.duplicate({ lazyConnect: true });
    // Outages are logged by the main connection's owner; this one reconnects and resubscribes by itself.
    subscriber.on('error', () => {});
    this.subscriber = subscriber;
    subscriber.on('message', (_channel: string, message: string) => this.onMessage(message));
    // After a reconnect, changes may have been missed: read everything again.
    subscriber.on('ready', () => void this.reload().catch(() => {}));
    await subscriber.connect();
    await subscriber.subscribe(this.channel);
  }

  private onMessage(message: string): void {
    const change = JSON.parse(message) as WireChange;
    if (change.origin === this.origin) return;
    if (change.kind === 'deployed' && change.spec) {
      const spec = normalize(change.spec);
      this.touch(spec.name);
      const cached = this.cache.get(spec.name);
      if (cached && cached.version >= spec.version) return;
      this.cache.set(spec.name, spec);
      this.notify({ kind: 'deployed', spec, ...(change.previous ? { previous: normalize(change.previous) } : {}) });
    } else if (change.kind === 'deleted' && change.name && change.previous) {
      this.touch(change.name);
      this.cache.delete(change.name);
      this.notify({ kind: 'deleted', name: change.name, previous: normalize(change.previous) });
    }
  }

  private notify(change: FunctionChange): void {
    for (const listener of this.listeners) listener(change);
  }

  /** A change to `name` seen now (a deploy or delete here, or one announced). */
  private touch(name: string): void {
    this.changeSeq += 1;
    if (this.readsUnderWay > 0) this.changedAt.set(name, this.changeSeq);
  }

  /** Runs a read that must not undo changes seen while it was under way (see changedSince). */
  private async reading<T>(read: (since: number) => Promise<T>): Promise<T> {
    this.readsUnderWay += 1;
    try {
      return await read(this.changeSeq);
    } finally {
      this.readsUnderWay -= 1;
      if (this.readsUnderWay === 0) this.changedAt.clear();
    }
  }

  private changedSince(name: string, seq: number): boolean {
    return (this.changedAt.get(name) ?? 0) > seq;
  }

  /**
   * Reads every spec again (at open, and after the subscriber reconnects: announcements may have been
   * missed) and tells listeners what differs from the cache. A function changed while the read was under
   * way keeps what that change said: the read may predate it.
   */
  private reload(): Promise<void> {
    return this.reading((since) => this.reloadSince(since));
  }

  private async reloadSince(since: number): Promise<void> {
    const names = await this.options.redis.smembers(this.key('fns'));
    const values = names.length ? await this.options.redis.mget(names.map((n) => this.key('fn', n))) : [];
    const loaded = new Map<string, FunctionSpec>();
    for (const value of values) {
      if (!value) continue;
      const spec = normalize(JSON.parse(value) as FunctionSpec);
      loaded.set(spec.name, spec);
    }
    for (const [name, spec] of loaded) {
      if (this.changedSince(name, since)) continue;
      const cached = this.cache.get(name);
      if (cached && cached.version === spec.version) continue;
      this.cache.set(name, spec);
      this.notify({ kind: 'deployed', spec, ...(cached ? { previous: cached } : {}) });
    }
    for (const [name, cached] of [...this.cache]) {
      if (loaded.has(name) || this.changedSince(name, since)) continue;
      this.cache.delete(name);
      this.notify({ kind: 'deleted', name, previous: cached });
    }
  }

  async deploy(input: DeployInput): Promise<FunctionSpec> {
    const codeSha256 = createHash('sha256').update(input.code).digest('hex');
    await this.options.redis.set(this.key('code', codeSha256), input.code, 'NX');
    const now = new Date(this.clock()).toISOString();
    const draft = {
      ...input.config,
      name: input.name,
      version: 0,
      codeSha256,
      codeBytes: input.code.length,
      createdAt: now,
      updatedAt: now,
    };
    const result = (await this.options.redis.eval(
      DEPLOY_SCRIPT,
      3,
      this.key('fn', input.name),
      this.key('fns'),
      this.channel,
      JSON.stringify(draft),
      this.origin,
    )) as string[];
    const spec = normalize(JSON.parse(result[0]!) as FunctionSpec);
    const previous = result[1] ? normalize(JSON.parse(result[1]) as FunctionSpec) : undefined;
    const cached = this.cache.get(spec.name);
    this.touch(spec.name);
    if (!cached || cached.version < spec.version) this.cache.set(spec.name, spec);
    this.notify({ kind: 'deployed', spec, ...(previous ? { previous } : {}) });
    return spec;
  }

  /**
   * From the cache, else from Redis: a function deployed elsewhere whose announcement has not arrived yet.
   * Found that way, it is cached and listeners hear of it (its announcement, when it comes, then adds
   * nothing) — unless a change to it arrived meanwhile, which wins.
   */
  async get(name: string): Promise<FunctionSpec | undefined> {
    const cached = this.cache.get(name);
    if (cached) return cached;
    return this.reading(async (since) => {
      const value = await this.options.redis.get(this.key('fn', name));
      if (this.changedSince(name, since)) return this.cache.get(name);
      if (!value) return undefined;
      const spec = normalize(JSON.parse(value) as FunctionSpec);
      this.touch(name);
      this.cache.set(name, spec);
      this.notify({ kind: 'deployed', spec });
      return spec;
    });
  }

  has(name: string): boolean {
    return this.cache.has(name);
  }

  /**
   * Every deployed spec, from the cache: it is whole from open() on, kept current by this process's own
   * changes and other processes' announcements, and read again after the subscriber reconnects. (It used to
   * read every spec from Redis on each call: with 10,000 functions, each deploy — which lists them for the
   * tenant's limits — took ~70 ms and growing.) Another process's deploy shows here once announced.
   */
  async list(): Promise<FunctionSpec[]> {
    return [...this.cache.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  }

  async remove(name: string): Promise<boolean> {
    const previousJson = await this.options.redis.get(this.key('fn', name));
    if (!previousJson) {
      this.touch(name);
      this.cache.delete(name);
      return false;
    }
    const previous = normalize(JSON.parse(previousJson) as FunctionSpec);
    const wire: WireChange = { origin: this.origin, kind: 'deleted', name, previous };
    await this.options.redis.multi().del(this.key('fn', name)).srem(this.key('fns'), name).publish(this.channel, JSON.stringify(wire)).exec();
    this.touch(name);
    this.cache.delete(name);
    this.notify({ kind: 'deleted', name, previous });
    return true;
  }

  async getCode(codeSha256: string): Promise<Buffer | undefined> {
    return (await this.options.redis.getBuffer(this.key('code', codeSha256))) ?? undefined;
  }

  onChange(listener: (change: FunctionChange) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  async close(): Promise<void> {
    this.listeners.clear();
    this.subscriber?.disconnect();
  }
}
