// Tenants and their API tokens in Redis. Tokens are stored as SHA-256 digests only; a token is shown once,
// when it is created. The admin token (FAAS_TOKEN) is not stored here: it belongs to the default tenant.
import { createHash, randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';
import { ConflictError, TenantNotFoundError, TokenNotFoundError } from '../core/errors.js';
import { DEFAULT_TENANT } from '../core/function-spec.js';

export interface TenantQuotas {
  /** Containers of all the tenant's functions at once, on one invoker; absent = no limit. */
  maxContainers?: number;
  /** GB-seconds (handler + init) per billing period; past it, invocations answer 429. Absent = no limit. */
  maxGbSecondsPerPeriod?: number;
  /** Bytes waiting in Redis (async calls, queue messages, events, dead letters); absent = the platform's FAAS_MAX_QUEUED_BYTES. */
  maxQueuedBytes?: number;
}

export interface Tenant {
  id: string;
  createdAt: string;
  quotas: TenantQuotas;
}

export interface TokenInfo {
  /** Public id, for listing and revoking; the token itself is never stored. */
  id: string;
  tenant: string;
  name: string;
  createdAt: string;
}

/** Who a request comes from: a tenant's token, or the admin token (default tenant, sees every tenant). */
export interface Principal {
  tenant: string;
  admin: boolean;
  tokenId?: string;
}

export const digestToken = (token: string) => createHash('sha256').update(token).digest('hex');

export class TenantStore {
  constructor(private readonly options: { redis: Redis; prefix: string; clock?: () => number }) {}

  private key(name: string): string {
    return `${this.options.prefix}${name}`;
  }

  private now(): string {
    return new Date((this.options.clock ?? Date.now)()).toISOString();
  }

  /** The default tenant always exists and has no quotas unless set. */
  async get(id: string): Promise<Tenant | undefined> {
    const raw = await this.options.redis.hget(this.key('tenants'), id);
    if (raw) return JSON.parse(raw) as Tenant;
    return id === DEFAULT_TENANT ? { id, createdAt: new Date(0).toISOString(), quotas: {} } : undefined;
  }

  async list(): Promise<Tenant[]> {
    const all = await this.options.redis.hgetall(this.key('tenants'));
    const tenants = Object.values(all).map((raw) => JSON.parse(raw) as Tenant);
    if (!tenants.some((t) => t.id === DEFAULT_TENANT)) tenants.push((await this.get(DEFAULT_TENANT))!);
    return tenants.sort((a, b) => a.id.localeCompare(b.id));
  }

  async create(id: string, quotas: TenantQuotas): Promise<Tenant> {
    const tenant: Tenant = { id, createdAt: this.now(), quotas };
    const created = id !== DEFAULT_TENANT && (await this.options.redis.hsetnx(this.key('tenants'), id, JSON.stringify(tenant)));
    if (!created) throw new ConflictError(`tenant "${id}" already exists`);
    return tenant;
  }

  async setQuotas(id: string, quotas: TenantQuotas): Promise<Tenant> {
    const tenant = await this.get(id);
    if (!tenant) throw new TenantNotFoundError(id);
    const next = { ...tenant, quotas: { ...tenant.quotas, ...quotas } };
    for (const key of Object.keys(next.quotas) as (keyof TenantQuotas)[]) if (next.quotas[key] === null) delete next.quotas[key];
    await this.options.redis.hset(this.key('tenants'), id, JSON.stringify(next));
    return next;
  }

  /** Removes the tenant and revokes its tokens; its functions must be gone first (the caller checks). */
  async remove(id: string): Promise<void> {
    if (id === DEFAULT_TENANT) throw new ConflictError('the default tenant cannot be removed');
    if (!(await this.options.redis.hexists(this.key('tenants'), id))) throw new TenantNotFoundError(id);
    for (const token of await this.tokens(id)) await this.revoke(token.id);
    await this.options.redis.hdel(this.key('tenants'), id);
  }

  /** Creates a token for the tenant; the returned secret is the only copy. */
  async createToken(tenant: string, name: string): Promise<{ token: string; info: TokenInfo }> {
    if (!(await this.get(tenant))) throw new TenantNotFoundError(tenant);
    const id = randomBytes(6).toString('hex');
    const token = `faas_${id}_${randomBytes(24).toString('base64url')}`;
    const info: TokenInfo = { id, tenant, name, createdAt: this.now() };
    const digest = digestToken(token);
    await this.options.redis.multi().hset(this.key('tokens'), digest, JSON.stringify(info)).hset(this.key('token-ids'), id, digest).exec();
    return { token, info };
  }

  async tokens(tenant?: string): Promise<TokenInfo[]> {
    const all = Object.values(await this.options.redis.hgetall(this.key('tokens'))).map((raw) => JSON.parse(raw) as TokenInfo);
    return all.filter((t) => !tenant || t.tenant === tenant).sort((a, b) => a.createdAt.localeCompare(b.createdAt));
  }

  async tokenInfo(id: string): Promise<TokenInfo | undefined> {
    const digest = await this.options.redis.hget(this.key('token-ids'), id);
    const raw = digest ? await this.options.redis.hget(this.key('tokens'), digest) : null;
    return raw ? (JSON.parse(raw) as TokenInfo) : undefined;
  }

  async revoke(id: string): Promise<void> {
    const digest = await this.options.redis.hget(this.key('token-ids'), id);
    if (!digest) throw new TokenNotFoundError(id);
    await this.options.redis.multi().hdel(this.key('tokens'), digest).hdel(this.key('token-ids'), id).exec();
  }

  /** The principal of a tenant token, or undefined when it is unknown or revoked. */
  async authenticate(token: string): Promise<Principal | undefined> {
    const raw = await this.options.redis.hget(this.key('tokens'), digestToken(token));
    if (!raw) return undefined;
    const info = JSON.parse(raw) as TokenInfo;
    return { tenant: info.tenant, admin: false, tokenId: info.id };
  }
}

/** Tenants' quotas kept in memory, read again every second, for checks on hot paths (the pool's scale-ups). */
export class TenantQuotaCache {
  private quotas = new Map<string, TenantQuotas>();
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly store: TenantStore,
    private readonly refreshMs = 1_000,
  ) {}

  async start(onError?: (err: Error) => void): Promise<void> {
    await this.refresh();
    this.timer = setInterval(() => void this.refresh().catch((err: Error) => onError?.(err)), this.refreshMs);
    this.timer.unref();
  }

  async refresh(): Promise<void> {
    this.quotas = new Map((await this.store.list()).map((t) => [t.id, t.quotas]));
  }

  maxContainers(tenant: string): number | undefined {
    return this.quotas.get(tenant)?.maxContainers;
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
  }
}
