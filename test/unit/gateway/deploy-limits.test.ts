// Deploys that can never be honoured (past the host's memory or CPUs, too much warm memory, past the
// tenant's maxContainers) answer 400 LIMIT_EXCEEDED naming the limit and the value; nothing is deployed.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { buildApp } from '../../../gateway/app.js';
import { gatewayConfigOf, loadConfig } from '../../../platform/config.js';
import { limitProblem, type DeployLimits } from '../../../gateway/routes/functions.js';
import { defaultFunctionConfig, type FunctionConfig } from '../../../core/function-spec.js';
import type { Principal, Tenant, TenantStore } from '../../../tenancy/tenant-store.js';
import { AUTH, CODE, errorOf, FakeInvoker, FakeLogs, FakeRegistry, FakeUsage, TOKEN } from './fakes.js';

const LIMITS: DeployLimits = { poolMemoryMb: 24_576, maxCpusPerFunction: 2, tenant: 'acme' };
const cfg = (over: Partial<FunctionConfig> = {}): FunctionConfig => ({ ...defaultFunctionConfig(), ...over });

describe('limitProblem', () => {
  it.each([
    ['the defaults', cfg(), {}, LIMITS, undefined],
    ['memory of the whole pool', cfg({ memoryMb: 10_240 }), {}, { ...LIMITS, poolMemoryMb: 10_240 }, undefined],
    [
      'memory past the pool',
      cfg({ memoryMb: 10_240 }),
      {},
      { ...LIMITS, poolMemoryMb: 8_192 },
      "memoryMb 10240 exceeds this platform's pool memory of 8,192 MB; a container of it could never start",
    ],
    ['cpus of the host', cfg({ cpus: 2 }), {}, LIMITS, undefined],
    ['cpus past the host', cfg({ cpus: 64 }), {}, LIMITS, "cpus 64 exceeds this platform's limit of 2 CPUs per function"],
    ['fractional cpus past the limit', cfg({ cpus: 2.5 }), {}, LIMITS, "cpus 2.5 exceeds this platform's limit of 2 CPUs per function"],
    ['minScale at the quota', cfg({ minScale: 2 }), {}, { ...LIMITS, maxContainers: 2 }, undefined],
    ['minScale past the quota', cfg({ minScale: 6 }), {}, { ...LIMITS, maxContainers: 2 }, "minScale 6 exceeds tenant acme's maxContainers quota (2)"],
    ['minScale with no quota', cfg({ minScale: 6 }), {}, LIMITS, undefined],
    [
      'an explicit maxScale past the quota',
      cfg({ maxScale: 5 }),
      { maxScale: 5 },
      { ...LIMITS, maxContainers: 2 },
      "maxScale 5 exceeds tenant acme's maxContainers quota (2)",
    ],
    ['the default maxScale past the quota (the pool holds the quota)', cfg(), {}, { ...LIMITS, maxContainers: 1 }, undefined],
    ['warm memory at half the pool', cfg({ minScale: 12, memoryMb: 1_024 }), {}, LIMITS, undefined],
    [
      'warm memory past half the pool',
      cfg({ minScale: 100, memoryMb: 10_240, maxScale: 100 }),
      {},
      LIMITS,
      'minScale 100 × memory 10240 MB needs 1,024,000 MB; the platform keeps at most 12,288 MB warm per function',
    ],
    [
      'one warm container past half the pool',
      cfg({ minScale: 1, memoryMb: 8_192 }),
      {},
      { ...LIMITS, poolMemoryMb: 12_000 },
      'minScale 1 × memory 8192 MB needs 8,192 MB; the platform keeps at most 6,000 MB warm per function',
    ],
    ['a large memory with no minScale', cfg({ memoryMb: 8_192 }), {}, { ...LIMITS, poolMemoryMb: 12_000 }, undefined],
  ] as const)('%s', (_label, config, body, limits, expected) => {
    expect(limitProblem(config, body, limits)).toBe(expected);
  });
});

// A gateway with one tenant, acme (maxContainers 2), whose token is ACME_TOKEN; pool 24 576 MB, 2 CPUs.
const ACME_TOKEN = 'acme-token';
const tenants: Record<string, Tenant> = {
  acme: { id: 'acme', createdAt: new Date(0).toISOString(), quotas: { maxContainers: 2 } },
  globex: { id: 'globex', createdAt: new Date(0).toISOString(), quotas: {} },
};
const fakeTenants = {
  async authenticate(token: string): Promise<Principal | undefined> {
    return token === ACME_TOKEN ? { tenant: 'acme', admin: false, tokenId: 't1' } : token === 'globex-token' ? { tenant: 'globex', admin: false } : undefined;
  },
  async get(id: string): Promise<Tenant | undefined> {
    return tenants[id] ?? (id === 'default' ? { id, createdAt: new Date(0).toISOString(), quotas: {} } : undefined);
  },
} as unknown as TenantStore;

let app: Awaited<ReturnType<typeof buildApp>>;
let registry: FakeRegistry;

const put = (name: string, body: object, token = TOKEN) =>
  app.inject({ method: 'PUT', url: `/api/v1/functions/${name}`, headers: { authorization: `Bearer ${token}` }, payload: { code: CODE, ...body } });

describe('deploy limits over HTTP', () => {
  beforeEach(async () => {
    const config = gatewayConfigOf(loadConfig({ FAAS_TOKEN: TOKEN, FAAS_POOL_MEMORY_MB: '24576', FAAS_MAX_CPUS_PER_FUNCTION: '2' }, '/tmp'));
    registry = new FakeRegistry();
    const invoker = new FakeInvoker(registry);
    app = await buildApp({ config, token: TOKEN, registry, invoker, events: invoker, rollups: new FakeUsage(), logs: new FakeLogs(), tenants: fakeTenants });
  });
  afterEach(async () => {
    await app.close();
  });

  it.each([
    ['cpus past the host', TOKEN, { cpus: 64 }, "cpus 64 exceeds this platform's limit of 2 CPUs per function"],
    ['the largest memory, within the pool', TOKEN, { memoryMb: 10_240 }, undefined],
    [
      'minScale × memory past half the pool',
      TOKEN,
      { minScale: 100, memoryMb: 10_240, maxScale: 100 },
      'minScale 100 × memory 10240 MB needs 1,024,000 MB; the platform keeps at most 12,288 MB warm per function',
    ],
    ["minScale past the tenant's quota", ACME_TOKEN, { minScale: 6 }, "minScale 6 exceeds tenant acme's maxContainers quota (2)"],
    ["maxScale past the tenant's quota", ACME_TOKEN, { maxScale: 3 }, "maxScale 3 exceeds tenant acme's maxContainers quota (2)"],
    ['minScale within the quota', ACME_TOKEN, { minScale: 2, maxScale: 2 }, undefined],
    ['the default maxScale of a tenant with a quota', ACME_TOKEN, {}, undefined],
    ['minScale 6 in a tenant without a quota', 'globex-token', { minScale: 6 }, undefined],
  ])('%s', async (_label, token, body, message) => {
    const res = await put('fn', body, token);
    if (message === undefined) {
      expect(res.statusCode, res.body).toBe(201);
      return;
    }
    expect(errorOf(res, 400, 'LIMIT_EXCEEDED')).toBe(message);
    expect(registry.specs.size).toBe(0);
  });

  it('answers 400 for memory past the pool', async () => {
    const config = gatewayConfigOf(loadConfig({ FAAS_TOKEN: TOKEN, FAAS_POOL_MEMORY_MB: '4096' }, '/tmp'));
    const small = new FakeRegistry();
    const invoker = new FakeInvoker(small);
    const smallApp = await buildApp({ config, token: TOKEN, registry: small, invoker, events: invoker, rollups: new FakeUsage(), logs: new FakeLogs() });
    try {
      const res = await smallApp.inject({ method: 'PUT', url: '/api/v1/functions/big', headers: AUTH, payload: { code: CODE, memoryMb: 8_192 } });
      expect(errorOf(res, 400, 'LIMIT_EXCEEDED')).toBe("memoryMb 8192 exceeds this platform's pool memory of 4,096 MB; a container of it could never start");
      expect(small.specs.size).toBe(0);
    } finally {
      await smallApp.close();
    }
  });

  it('checks an update against the previous settings: raising memory under an earlier minScale', async () => {
    expect((await put('warm', { minScale: 10, memoryMb: 1_024, maxScale: 10 })).statusCode).toBe(201);
    const res = await put('warm', { memoryMb: 2_048 });
    expect(errorOf(res, 400, 'LIMIT_EXCEEDED')).toMatch(/minScale 10 × memory 2048 MB needs 20,480 MB/);
    expect(registry.specs.get('warm')?.version).toBe(1);
  });

  it('still answers minScale above maxScale as BAD_REQUEST', async () => {
    expect(errorOf(await put('ok', { minScale: 5, maxScale: 2 }), 400, 'BAD_REQUEST')).toMatch(/minScale \(5\).*maxScale \(2\)/);
  });
});
