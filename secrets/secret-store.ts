// A tenant's secrets in Redis, sealed (secret-cipher.ts): one hash per tenant, name → sealed value and dates.
// Values leave only through reveal(), which the invoker calls to start a container of a function naming them.
import type { Redis } from 'ioredis';
import { FaasError } from '../core/errors.js';
import { mkdir } from 'node:fs/promises';
import { SecretCipher, type Sealed } from './secret-cipher.js';
import { loadSecretKeys } from './secrets-key.js';

export { SECRET_NAME_PATTERN } from '../core/function-settings.js';
/** Largest value, bytes (as an environment variable's largest value the settings allow). */
export const MAX_SECRET_BYTES = 32 * 1024;
/** Secrets one tenant may keep. */
export const MAX_SECRETS_PER_TENANT = 200;

export class SecretNotFoundError extends FaasError {
  readonly code = 'SECRET_NOT_FOUND';
  readonly status = 404;
}

export interface SecretInfo {
  name: string;
  createdAt: string;
  updatedAt: string;
}

type Stored = Sealed & { createdAt: string; updatedAt: string };

export class SecretStore {
  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
    private readonly cipher: SecretCipher,
    private readonly clock: () => number = Date.now,
  ) {}

  private key(tenant: string): string {
    return `${this.prefix}secrets:${tenant}`;
  }

  private get tenantsKey(): string {
    return `${this.prefix}secret-tenants`;
  }

  /** Seals and stores a value; resolves whether the name was new. */
  async set(tenant: string, name: string, value: string): Promise<{ created: boolean; count: number }> {
    const now = new Date(this.clock()).toISOString();
    const previous = await this.redis.hget(this.key(tenant), name);
    const createdAt = previous ? (JSON.parse(previous) as Stored).createdAt : now;
    const stored: Stored = { ...this.cipher.seal(tenant, name, Buffer.from(value, 'utf8')), createdAt, updatedAt: now };
    const [[, added], [, count]] = (await this.redis
      .multi()
      .hset(this.key(tenant), name, JSON.stringify(stored))
      .hlen(this.key(tenant))
      .sadd(this.tenantsKey, tenant)
      .exec())! as [[unknown, number], [unknown, number]];
    return { created: added === 1, count };
  }

  async count(tenant: string): Promise<number> {
    return this.redis.hlen(this.key(tenant));
  }

  async exists(tenant: string, name: string): Promise<boolean> {
    return (await this.redis.hexists(this.key(tenant), name)) === 1;
  }

  /** Names and dates only. */
  async list(tenant: string): Promise<SecretInfo[]> {
    const all = await this.redis.hgetall(this.key(tenant));
    return Object.entries(all)
      .map(([name, value]) => {
        const { createdAt, updatedAt } = JSON.parse(value) as Stored;
        return { name, createdAt, updatedAt };
      })
      .sort((a, b) => (a.name < b.name ? -1 : 1));
  }

  async remove(tenant: string, name: string): Promise<boolean> {
    return (await this.redis.hdel(this.key(tenant), name)) === 1;
  }

  /** The names of `names` the tenant has no secret of. */
  async missing(tenant: string, names: readonly string[]): Promise<string[]> {
    if (names.length === 0) return [];
    const values = await this.redis.hmget(this.key(tenant), ...names);
    return names.filter((_, i) => values[i] === null);
  }

  /** The values, opened; throws SecretNotFoundError naming any that is gone. */
  async reveal(tenant: string, names: readonly string[]): Promise<Record<string, string>> {
    if (names.length === 0) return {};
    const values = await this.redis.hmget(this.key(tenant), ...names);
    const revealed: Record<string, string> = {};
    for (const [i, name] of names.entries()) {
      const value = values[i];
      if (value === null || value === undefined) throw new SecretNotFoundError(`secret ${name} is not set (faas secret set ${name})`);
      revealed[name] = this.cipher.open(tenant, name, JSON.parse(value) as Stored).toString('utf8');
    }
    return revealed;
  }

  /** The ids of the keys stored values are sealed with. */
  static async keysInUse(redis: Redis, prefix: string): Promise<string[]> {
    const ids = new Set<string>();
    for (const tenant of await redis.smembers(`${prefix}secret-tenants`)) {
      for (const value of Object.values(await redis.hgetall(`${prefix}secrets:${tenant}`))) ids.add((JSON.parse(value) as Stored).kid);
    }
    return [...ids];
  }

  /** The store with its key ring (secrets-key.ts): refuses to open when a stored secret's key is missing. */
  static async open(redis: Redis, prefix: string, options: { envValue: string | undefined; dataDir: string }): Promise<SecretStore> {
    await mkdir(options.dataDir, { recursive: true });
    const keys = await loadSecretKeys({ ...options, inUse: await SecretStore.keysInUse(redis, prefix) });
    return new SecretStore(redis, prefix, new SecretCipher(keys));
  }

  /** Re-seals every value not sealed with the current key (a key rotation); resolves how many. */
  async reseal(): Promise<number> {
    let count = 0;
    for (const tenant of await this.redis.smembers(this.tenantsKey)) {
      for (const [name, value] of Object.entries(await this.redis.hgetall(this.key(tenant)))) {
        const stored = JSON.parse(value) as Stored;
        if (stored.kid === this.cipher.currentKeyId) continue;
        const plain = this.cipher.open(tenant, name, stored);
        const next: Stored = { ...this.cipher.seal(tenant, name, plain), createdAt: stored.createdAt, updatedAt: stored.updatedAt };
        // Only if unchanged since read: a value set meanwhile is sealed with the current key already.
        const swapped = await this.redis.eval(
          "if redis.call('HGET', KEYS[1], ARGV[1]) == ARGV[2] then redis.call('HSET', KEYS[1], ARGV[1], ARGV[3]) return 1 end return 0",
          1,
          this.key(tenant),
          name,
          value,
          JSON.stringify(next),
        );
        if (swapped === 1) count += 1;
      }
    }
    return count;
  }
}
