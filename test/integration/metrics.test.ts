// /metrics passes `promtool check metrics` (Debian's prometheus package) and carries per-tenant usage.
import { execFileSync, spawnSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestPlatform, waitUntil, type TestPlatform } from '../support/platform.js';

let platform: TestPlatform;

function promtool(): string {
  try {
    return execFileSync('sh', ['-c', 'command -v promtool'], { encoding: 'utf8' }).trim();
  } catch {
    throw new Error('promtool is not installed; this test lints /metrics with it. Install it with `apt-get install -y prometheus` (.ci/run does this).');
  }
}

beforeAll(async () => {
  promtool();
  platform = await startTestPlatform();
}, 120_000);

afterAll(async () => {
  await platform?.stop();
});

const sample = (text: string, name: string, labels: string) => Number(new RegExp(`^${name}\\{${labels}\\} (\\S+)$`, 'm').exec(text)?.[1] ?? NaN);

describe('/metrics', () => {
  it('passes promtool check metrics and counts invocations and GB-seconds per tenant', async () => {
    expect((await platform.api('POST', '/api/v1/tenants', { id: 'acme' })).status).toBe(201);
    const token = (await platform.api('POST', '/api/v1/tenants/acme/tokens', {})).body.token;
    expect((await platform.apiAs(token, 'PUT', '/api/v1/functions/f', { code: `export default () => 'ok';`, memoryMb: 512 })).status).toBe(201);
    expect((await platform.deploy('g', `export default () => { throw new Error('no'); };`)).status).toBe(201);
    for (let i = 0; i < 3; i++) expect((await fetch(`${platform.url}/fn/acme/f`)).status).toBe(200);
    expect((await fetch(`${platform.url}/fn/g`)).status).toBe(500);

    const text = await waitUntil('per-tenant counters', async () => {
      const body = await (await fetch(`${platform.url}/metrics`, { headers: { authorization: `Bearer ${platform.token}` } })).text();
      return sample(body, 'faas_tenant_invocations_total', 'tenant="acme",status="ok"') === 3 ? body : undefined;
    });
    expect(sample(text, 'faas_tenant_invocations_total', 'tenant="default",status="function_error"')).toBe(1);
    // 512 MB × at least 1 ms per call, and the init time of the one cold start.
    expect(sample(text, 'faas_tenant_gigabyte_seconds_total', 'tenant="acme",part="duration"')).toBeGreaterThanOrEqual(3 * 0.5 * 0.001);
    expect(sample(text, 'faas_tenant_gigabyte_seconds_total', 'tenant="acme",part="init"')).toBeGreaterThan(0);

    // Both forms: the admin's exposition with per-tenant series and the public one without them.
    const publicText = await (await fetch(`${platform.url}/metrics`)).text();
    expect(publicText).not.toContain('faas_tenant_invocations_total{');
    for (const input of [text, publicText]) {
      const check = spawnSync(promtool(), ['check', 'metrics'], { input, encoding: 'utf8' });
      expect(`${check.stdout}${check.stderr}`.trim()).toBe('');
      expect(check.status).toBe(0);
    }
  });
});
