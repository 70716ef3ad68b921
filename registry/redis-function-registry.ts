// FunctionRegistry in Redis: specs and code by hash, a local cache kept current by pub/sub between processes.
import { createHash, randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import { ConflictError } from '../core/errors.js';
import { defaultFunctionConfig, type FunctionRecord, type FunctionSpec } from '../core/function-spec.js';
import { DEFAULT_VERSIONS_KEPT, firstReleases } from '../core/releases.js';
import type { DeployInput, DeployResult, FunctionChange, FunctionRegistry, ReleasesChange } from './function-registry.js';
import { nextRecord, versionSpecOf } from './next-record.js';

export interface RedisFunctionRegistryOptions {
  redis: Redis;
  /** Key prefix, e.g. 'faas:'. */
  prefix: string;
  clock?: () => number;
  /** Versions kept per function, besides those an alias routes to (FAAS_VERSIONS_KEPT). */
  versionsKept?: number;
}

/**
 * Writes a record if it is still at the revision the writer read (0: none), with its version specs to add and
 * versions to drop, and announces it. Returns 1, or 0 when another write came first (the writer reads again).
 * KEYS: record, names set, versions hash, channel. ARGV: expected revision, record JSON, announcement, the
 * number of versions to add, then each version and its spec, then the versions to drop.
 */
const WRITE_SCRIPT = `
local current = redis.call('GET', KEYS[1])
local revision = 0
if current then
  local decoded = cjson.decode(current)
  revision = decoded.revision or decoded.version
end
if tostring(revision) ~= ARGV[1] then return 0 end
redis.call('SET', KEYS[1], ARGV[2])
redis.call('SADD', KEYS[2], cjson.decode(ARGV[2]).name)
local adds = tonumber(ARGV[4])
for i = 0, adds - 1 do
  redis.call('HSET', KEYS[3], ARGV[5 + i * 2], ARGV[6 + i * 2])
end
for i = 5 + adds * 2, #ARGV do
  redis.call('HDEL', KEYS[3], ARGV[i])
end
redis.call('PUBLISH', KEYS[4], ARGV[3])
return 1
`;

/** Writes that lose a race this many times in a row give up (409): someone is changing the function in a loop. */
const WRITE_ATTEMPTS = 20;

interface WireChange {
  origin: string;
  kind: 'deployed' | 'deleted';
  spec?: FunctionRecord;
  previous?: FunctionRecord;
  name?: string;
}

/**
 * Specs stored before a setting existed get its default; an empty env may come back from Lua as []. Filled
 * in place, on a record just parsed (every caller's): JSON.parse gives records of one shape one shared
 * hidden class, where spreading them into new objects gave each cached record a hidden class of its own
 * (~1 KB of descriptors per function in a heap snapshot of 2,000 functions).
 */
const normalizeSpec = <T extends FunctionSpec>(spec: T): T => {
  const defaults = defaultFunctionConfig() as unknown as Record<string, unknown>;
  const target = spec as unknown as Record<string, unknown>;
  for (const key in defaults) if (!(key in target)) target[key] = defaults[key];
  if (Array.isArray(spec.env) || !spec.env) spec.env = {};
  if (!Array.isArray(spec.queues)) spec.queues = [];
  if (!Array.isArray(spec.topics)) spec.topics = [];
  if (!Array.isArray(spec.schedules)) spec.schedules = [];
  return spec;
};

/** Records stored before versions were kept: their one version, `latest` on it (in place, as normalizeSpec). */
const normalize = (stored: FunctionRecord): FunctionRecord => {
  const spec = normalizeSpec(stored);
  spec.releases ??= firstReleases(spec.version, spec.updatedAt);
  spec.revision ??= spec.version;
  spec.contentSha256 ??= '';
  return spec;
};

export class RedisFunctionRegistry implements FunctionRegistry {
  private readonly cache = new Map<string, FunctionRecord>();
  /** Older versions' specs read so far, by function: immutable, dropped when the record no longer keeps them. */
  private readonly versionCache = new Map<string, Map<number, FunctionSpec>>();
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
      // A function deleted and made again starts its revisions afresh: its createdAt tells it apart.
      if (cached && cached.revision >= spec.revision && cached.createdAt === spec.createdAt) return;
      this.remember(spec);
      this.notify({ kind: 'deployed', spec, ...(change.previous ? { previous: normalize(change.previous) } : {}) });
    } else if (change.kind === 'deleted' && change.name && change.previous) {
      this.touch(change.name);
      this.forget(change.name);
      this.notify({ kind: 'deleted', name: change.name, previous: normalize(change.previous) });
    }
  }

  /** The record cached, and older versions' specs it no longer keeps dropped. */
  private remember(record: FunctionRecord): void {
    this.cache.set(record.name, record);
    const versions = this.versionCache.get(record.name);
    if (!versions) return;
    for (const version of versions.keys()) if (!record.releases.versions.includes(version)) versions.delete(version);
  }

  private forget(name: string): void {
    this.cache.delete(name);
    this.versionCache.delete(name);
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
    const loaded = new Map<string, FunctionRecord>();
    for (const value of values) {
      if (!value) continue;
      const spec = normalize(JSON.parse(value) as FunctionRecord);
      loaded.set(spec.name, spec);
    }
    for (const [name, spec] of loaded) {
      if (this.changedSince(name, since)) continue;
      const cached = this.cache.get(name);
      if (cached && cached.revision === spec.revision && cached.createdAt === spec.createdAt) continue;
      this.remember(spec);
      this.notify({ kind: 'deployed', spec, ...(cached ? { previous: cached } : {}) });
    }
    for (const [name, cached] of [...this.cache]) {
      if (loaded.has(name) || this.changedSince(name, since)) continue;
      this.forget(name);
      this.notify({ kind: 'deleted', name, previous: cached });
    }
  }

  async deploy(input: DeployInput): Promise<DeployResult> {
    const codeSha256 = createHash('sha256').update(input.code).digest('hex');
    await this.options.redis.set(this.key('code', codeSha256), input.code, 'NX');
    const draft = { name: input.name, config: input.config, codeSha256, codeBytes: input.code.length };
    let created = false;
    const spec = await this.write(input.name, (previous) => {
      const now = new Date(this.clock()).toISOString();
      const next = nextRecord(previous, draft, { promote: input.promote !== false, keep: this.options.versionsKept ?? DEFAULT_VERSIONS_KEPT, now });
      created = next.created;
      const adds: FunctionSpec[] = next.created ? [versionSpecOf(next.record)] : [];
      // A record stored before versions were kept: its one version is kept too.
      if (next.created && previous && previous.contentSha256 === '') adds.push(versionSpecOf(previous));
      return { record: next.record, adds, drops: next.pruned };
    });
    return { spec: spec!, created };
  }

  async updateReleases(name: string, change: ReleasesChange): Promise<FunctionRecord | undefined> {
    return this.write(name, (previous) => {
      if (!previous) return undefined;
      const releases = change(previous);
      const drops = previous.releases.versions.filter((v) => !releases.versions.includes(v));
      const adds = previous.contentSha256 === '' ? [versionSpecOf(previous)] : [];
      return { record: { ...previous, releases, revision: previous.revision + 1 }, adds, drops };
    });
  }

  async restart(name: string): Promise<FunctionRecord | undefined> {
    return this.write(name, (previous) => {
      if (!previous) return undefined;
      const restartedAt = new Date(this.clock()).toISOString();
      return { record: { ...previous, restartedAt, revision: previous.revision + 1 }, adds: [], drops: [] };
    });
  }

  /**
   * Reads the record, asks `plan` what to write (undefined: nothing, e.g. no such function; a throw: a 4xx,
   * nothing written), and writes it if no other write came between; else reads again.
   */
  private async write(
    name: string,
    plan: (previous: FunctionRecord | undefined) => { record: FunctionRecord; adds: FunctionSpec[]; drops: number[] } | undefined,
  ): Promise<FunctionRecord | undefined> {
    const redis = this.options.redis;
    for (let attempt = 0; attempt < WRITE_ATTEMPTS; attempt++) {
      const stored = await redis.get(this.key('fn', name));
      const previous = stored ? normalize(JSON.parse(stored) as FunctionRecord) : undefined;
      const next = plan(previous);
      if (!next) return undefined;
      const json = JSON.stringify(next.record);
      const wire: WireChange = { origin: this.origin, kind: 'deployed', spec: next.record, ...(previous ? { previous } : {}) };
      const written = await redis.eval(
        WRITE_SCRIPT,
        4,
        this.key('fn', name),
        this.key('fns'),
        this.key('fnv', name),
        this.channel,
        String(previous?.revision ?? 0),
        json,
        JSON.stringify(wire),
        String(next.adds.length),
        ...next.adds.flatMap((spec) => [String(spec.version), JSON.stringify(spec)]),
        ...next.drops.map(String),
      );
      if (written !== 1) continue;
      // Kept (and handed to listeners) as read back from what was written: the shape every record read has.
      const record = normalize(JSON.parse(json) as FunctionRecord);
      this.touch(name);
      const cached = this.cache.get(name);
      if (!cached || cached.revision < record.revision) this.remember(record);
      this.notify({ kind: 'deployed', spec: record, ...(previous ? { previous } : {}) });
      return record;
    }
    throw new ConflictError(`function ${name} is being changed by others at the same time; try again`);
  }

  peek(name: string): FunctionRecord | undefined {
    return this.cache.get(name);
  }

  /**
   * A kept version's spec: the record itself for the newest, else from the version cache or Redis. A version
   * the cached record does not keep is looked up only when newer (deployed elsewhere, not yet announced).
   */
  async getVersion(name: string, version: number): Promise<FunctionSpec | undefined> {
    const record = await this.get(name);
    if (!record) return undefined;
    if (record.version === version) return record;
    const kept = record.releases.versions.includes(version);
    if (!kept && version < record.version) return undefined;
    const cached = this.versionCache.get(name)?.get(version);
    if (cached) return cached;
    const stored = await this.options.redis.hget(this.key('fnv', name), String(version));
    if (!stored) return undefined;
    const spec = normalizeSpec(JSON.parse(stored) as FunctionSpec);
    if (kept && this.cache.get(name)?.releases.versions.includes(version)) {
      let versions = this.versionCache.get(name);
      if (!versions) this.versionCache.set(name, (versions = new Map()));
      versions.set(version, spec);
    }
    return spec;
  }

  async versions(name: string): Promise<FunctionSpec[]> {
    const record = await this.get(name);
    if (!record) return [];
    const stored = await this.options.redis.hgetall(this.key('fnv', name));
    const specs = Object.values(stored).map((value) => normalizeSpec(JSON.parse(value) as FunctionSpec));
    if (!specs.some((s) => s.version === record.version)) specs.push(versionSpecOf(record));
    return specs.filter((s) => record.releases.versions.includes(s.version)).sort((a, b) => a.version - b.version);
  }

  /**
   * From the cache, else from Redis: a function deployed elsewhere whose announcement has not arrived yet.
   * Found that way, it is cached and listeners hear of it (its announcement, when it comes, then adds
   * nothing) — unless a change to it arrived meanwhile, which wins.
   */
  async get(name: string): Promise<FunctionRecord | undefined> {
    const cached = this.cache.get(name);
    if (cached) return cached;
    return this.reading(async (since) => {
      const value = await this.options.redis.get(this.key('fn', name));
      if (this.changedSince(name, since)) return this.cache.get(name);
      if (!value) return undefined;
      const spec = normalize(JSON.parse(value) as FunctionRecord);
      this.touch(name);
      this.remember(spec);
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
  async list(): Promise<FunctionRecord[]> {
    return [...this.cache.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  }

  async remove(name: string): Promise<boolean> {
    const previousJson = await this.options.redis.get(this.key('fn', name));
    if (!previousJson) {
      this.touch(name);
      this.forget(name);
      return false;
    }
    const previous = normalize(JSON.parse(previousJson) as FunctionRecord);
    const wire: WireChange = { origin: this.origin, kind: 'deleted', name, previous };
    await this.options.redis
      .multi()
      .del(this.key('fn', name), this.key('fnv', name))
      .srem(this.key('fns'), name)
      .publish(this.channel, JSON.stringify(wire))
      .exec();
    this.touch(name);
    this.forget(name);
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
