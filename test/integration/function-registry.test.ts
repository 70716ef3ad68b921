// The Redis registry against the registry contract, on a real Redis; and how it keeps up with other processes.
import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defaultFunctionConfig } from '../../core/function-spec.js';
import { RedisFunctionRegistry } from '../../registry/redis-function-registry.js';
import { describeFunctionRegistryContract } from '../support/function-registry.contract.js';
import { startRedis } from '../support/services.js';
import { waitUntil } from '../support/platform.js';

describeFunctionRegistryContract('redis', async () => {
  const server = await startRedis();
  const redis = new Redis(server.url, { maxRetriesPerRequest: null });
  const registry = await RedisFunctionRegistry.open({ redis, prefix: `reg-${randomUUID().slice(0, 8)}:` });
  return {
    registry,
    async close() {
      redis.disconnect();
      await server.stop();
    },
  };
});

describe('the Redis registry between processes', () => {
  let server: Awaited<ReturnType<typeof startRedis>>;
  const connections: Redis[] = [];
  const open = async (prefix: string) => {
    const redis = new Redis(server.url, { maxRetriesPerRequest: null });
    connections.push(redis);
    return RedisFunctionRegistry.open({ redis, prefix });
  };
  const deploy = (registry: RedisFunctionRegistry, name: string) =>
    registry.deploy({ name, code: Buffer.from('export default () => 1'), config: defaultFunctionConfig() });

  beforeAll(async () => {
    server = await startRedis();
  });
  afterAll(async () => {
    for (const c of connections) c.disconnect();
    await server.stop();
  });

  it('tells its listeners of a function it finds by get() before the deploy was announced', async () => {
    const prefix = `reg-${randomUUID().slice(0, 8)}:`;
    const here = await open(prefix);
    const elsewhere = await open(prefix);
    const heard: string[] = [];
    here.onChange((change) => heard.push(`${change.kind} ${change.kind === 'deployed' ? change.spec.name : change.name}`));
    // The announcement does not reach this process (its subscriber is not listening): only get() finds it.
    await (here as unknown as { subscriber: Redis }).subscriber.unsubscribe();
    await deploy(elsewhere, 'quiet');
    expect(await here.list()).toEqual([]);
    expect((await here.get('quiet'))?.name).toBe('quiet');
    expect(heard).toEqual(['deployed quiet']);
    expect((await here.list()).map((s) => s.name)).toEqual(['quiet']);
  });

  it('after its subscriber reconnects, announces what changed meanwhile (deploys and deletes) and serves it from list()', async () => {
    const prefix = `reg-${randomUUID().slice(0, 8)}:`;
    const here = await open(prefix);
    const elsewhere = await open(prefix);
    await deploy(elsewhere, 'stays');
    await deploy(elsewhere, 'goes');
    await waitUntil('both known here', async () => ((await here.list()).length === 2 ? true : undefined), 10_000);
    const heard: string[] = [];
    here.onChange((change) => heard.push(`${change.kind} ${change.kind === 'deployed' ? change.spec.name : change.name}`));
    // Changes this process cannot hear: its subscriber is cut off while they happen.
    const subscriber = (here as unknown as { subscriber: Redis }).subscriber;
    await subscriber.unsubscribe();
    await elsewhere.remove('goes');
    await deploy(elsewhere, 'new');
    expect((await here.list()).map((s) => s.name)).toEqual(['goes', 'stays']);
    // The reconnect reads everything again.
    subscriber.disconnect(true);
    await waitUntil('the changes announced', async () => (heard.length >= 2 ? true : undefined), 10_000);
    expect(heard.sort()).toEqual(['deleted goes', 'deployed new']);
    expect((await here.list()).map((s) => s.name)).toEqual(['new', 'stays']);
  });

  it('reads a record stored before versions were kept as its one version, and keeps that version at the next deploy', async () => {
    const prefix = `reg-${randomUUID().slice(0, 8)}:`;
    const raw = new Redis(server.url);
    connections.push(raw);
    const old = {
      ...defaultFunctionConfig(),
      name: 'legacy',
      version: 4,
      codeSha256: 'abc',
      codeBytes: 1,
      createdAt: '2026-11-01T00:00:00Z',
      updatedAt: '2026-11-02T00:00:00Z',
    };
    await raw.set(`${prefix}fn:legacy`, JSON.stringify(old));
    await raw.sadd(`${prefix}fns`, 'legacy');
    const registry = await open(prefix);
    expect(await registry.get('legacy')).toMatchObject({
      version: 4,
      releases: { defaultAlias: 'latest', aliases: { latest: { version: 4 } }, versions: [4] },
    });
    const { spec } = await deploy(registry, 'legacy');
    expect(spec).toMatchObject({ version: 5, releases: { versions: [4, 5] } });
    expect(await registry.getVersion('legacy', 4)).toMatchObject({ version: 4, codeSha256: 'abc' });
    // Another process sees the same.
    const other = await open(prefix);
    expect((await other.versions('legacy')).map((v) => v.version)).toEqual([4, 5]);
  });

  it('keeps at most versionsKept versions, never one an alias routes to', async () => {
    const prefix = `reg-${randomUUID().slice(0, 8)}:`;
    const redis = new Redis(server.url, { maxRetriesPerRequest: null });
    connections.push(redis);
    const registry = await RedisFunctionRegistry.open({ redis, prefix, versionsKept: 2 });
    const put = (n: number) => registry.deploy({ name: 'many', code: Buffer.from(`export default ${n}`), config: defaultFunctionConfig() });
    await put(1);
    await registry.updateReleases('many', (r) => ({ ...r.releases, aliases: { ...r.releases.aliases, prod: { version: 1, updatedAt: 'now' } } }));
    for (let n = 2; n <= 5; n++) await put(n);
    expect((await registry.get('many'))?.releases.versions).toEqual([1, 4, 5]);
    expect(Object.keys(await redis.hgetall(`${prefix}fnv:many`)).sort()).toEqual(['1', '4', '5']);
  });
});
