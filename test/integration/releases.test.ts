// Versions, aliases, canaries and rollback end to end (real Redis, real containers), driven through the faas
// CLI as a user types it: a 90/10 split seen in the version header, a routing key that keeps one caller on one
// version, a rollback in one command served by the old version's warm containers, and another tenant locked out.
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildCli, cliEnv, runCli } from '../support/cli.js';
import { startTestPlatform, uniqueName, waitUntil, type TestPlatform } from '../support/platform.js';

let platform: TestPlatform;
let cli: string;
const dir = mkdtempSync(path.join(os.tmpdir(), 'faas-releases-'));

beforeAll(async () => {
  cli = await buildCli('releases');
  platform = await startTestPlatform();
});
afterAll(async () => {
  await platform?.stop();
});

const faas = (...args: string[]) => runCli(cli, cliEnv(platform.url, platform.token), args);

/** A function file answering its own label. */
function source(label: string): string {
  const file = path.join(dir, `${label}-${Math.random().toString(36).slice(2)}.ts`);
  writeFileSync(file, `export default async () => new Response(${JSON.stringify(label)});\n`);
  return file;
}

async function call(name: string, init: RequestInit = {}, qualifier = ''): Promise<{ status: number; body: string; version: string; cold: string }> {
  const res = await fetch(`${platform.url}/fn/${name}${qualifier}`, init);
  return { status: res.status, body: await res.text(), version: res.headers.get('x-faas-version') ?? '', cold: res.headers.get('x-faas-cold-start') ?? '' };
}

describe('releases', { timeout: 300_000 }, () => {
  it('splits an alias 90/10, keeps a routing key on one version, and rolls back in one command onto warm containers', async () => {
    const name = uniqueName('canary');
    const v1 = source('one');
    expect((await faas('deploy', v1, '--name', name)).code).toBe(0);
    expect(await call(name)).toMatchObject({ status: 200, body: 'one', version: '1' });
    // The same code and settings again: no new version.
    const again = await faas('deploy', v1, '--name', name);
    expect(again.stdout).toContain('no new version');
    // Version 2 uploaded without taking traffic.
    const v2 = await faas('deploy', source('two'), '--name', name, '--no-promote');
    expect(v2.code, v2.stderr).toBe(0);
    expect(await call(name)).toMatchObject({ body: 'one', version: '1' });
    expect(await call(name, {}, '@2')).toMatchObject({ body: 'two', version: '2' });

    expect((await faas('alias', 'set', name, 'prod', '1', '--canary', '2=10%')).code).toBe(0);
    expect((await faas('alias', 'default', name, 'prod')).code).toBe(0);

    // 1,000 calls through the default alias, 8 at a time.
    const versions: string[] = [];
    let failed = 0;
    await Promise.all(
      Array.from({ length: 8 }, async () => {
        while (versions.length + failed < 1_000) {
          const answer = await call(name);
          if (answer.status !== 200 || answer.body !== (answer.version === '2' ? 'two' : 'one')) failed += 1;
          else versions.push(answer.version);
        }
      }),
    );
    expect(failed).toBe(0);
    const share = versions.filter((v) => v === '2').length / versions.length;
    expect(share).toBeGreaterThan(0.07);
    expect(share).toBeLessThan(0.13);

    // Usage by version: the canary's calls and latency beside the stable version's.
    const onTwo = versions.filter((v) => v === '2').length;
    const rows = await waitUntil('usage of both versions', async () => {
      const usage = JSON.parse((await faas('usage', '--function', name, '--group-by', 'version', '--json')).stdout);
      const byVersion = Object.fromEntries(usage.rows.map((r: { version: number; invocations: number }) => [r.version, r]));
      return byVersion[2]?.invocations >= onTwo && byVersion[1]?.invocations >= 1_000 - onTwo ? byVersion : undefined;
    });
    expect(rows[2]).toMatchObject({ function: name, version: 2, errors: 0 });
    expect(rows[2].durationMs.p50).toBeGreaterThan(0);
    const table = (await faas('usage', '--function', name, '--group-by', 'version')).stdout;
    expect(table).toContain(`${name}@1`);
    expect(table).toContain(`${name}@2`);

    // One routing key, one version, every time; keys spread over both.
    const seen = new Set<string>();
    for (let user = 0; user < 40; user++) {
      const headers = { 'faas-version-key': `user-${user}` };
      const first = (await call(name, { headers })).version;
      for (let i = 0; i < 4; i++) expect((await call(name, { headers })).version).toBe(first);
      seen.add(first);
    }
    expect(seen).toEqual(new Set(['1', '2']));

    // Rollback: prod back to v1 alone, answered by its warm containers.
    const rolled = await faas('rollback', name);
    expect(rolled.code, rolled.stderr).toBe(0);
    expect(rolled.stdout).toContain(`${name}@prod → v1`);
    for (let i = 0; i < 30; i++) expect(await call(name)).toMatchObject({ status: 200, body: 'one', version: '1', cold: 'false' });

    // A second rollback goes further back, never forward again to what the first left.
    expect((await faas('alias', 'set', name, 'prod', '2')).code).toBe(0);
    const v3 = await faas('deploy', source('three'), '--name', name, '--no-promote');
    expect(v3.code, v3.stderr).toBe(0);
    expect((await faas('alias', 'set', name, 'prod', '3')).code).toBe(0);
    expect((await faas('rollback', name)).stdout).toContain(`${name}@prod → v2`);
    expect((await faas('rollback', name)).stdout).toContain(`${name}@prod → v1`);
    expect((await call(name)).version).toBe('1');

    // --no-promote cannot change the function's triggers (they would apply at once).
    const triggers = await faas('deploy', source('four'), '--name', name, '--no-promote', '--schedule', '0 3 * * *');
    expect(triggers.code).toBe(1);
    expect(triggers.stderr).toContain('schedules');

    // --no-promote left latest on v1; v2 is kept, routed by nothing now.
    const listed = JSON.parse((await faas('versions', name, '--json')).stdout);
    expect(listed.versions.map((v: { version: number; aliases: string[] }) => [v.version, v.aliases])).toEqual([
      [1, ['latest', 'prod']],
      [2, []],
      [3, []],
    ]);
  });

  it('refuses what does not exist, with the error shape, and leaves the old pointer', async () => {
    const name = uniqueName('bad');
    await faas('deploy', source('one'), '--name', name);
    await faas('deploy', source('two'), '--name', name);
    expect((await faas('alias', 'set', name, 'prod', '1')).code).toBe(0);
    const missing = await platform.api('PUT', `/api/v1/functions/${name}/aliases/prod`, { version: 9 });
    expect(missing).toMatchObject({ status: 404, body: { error: { code: 'VERSION_NOT_FOUND' } } });
    const weight = await platform.api('PUT', `/api/v1/functions/${name}/aliases/prod`, { version: 1, canary: { version: 2, percent: 120 } });
    expect(weight.status).toBe(400);
    expect(weight.body.error.code).toBeDefined();
    const odd = await platform.api('PUT', `/api/v1/functions/${name}/aliases/Pr%C3%B6d`, { version: 1 });
    expect(odd.status).toBe(400);
    const cli = await faas('alias', 'set', name, 'prod', '2', '--canary', '2=150%');
    expect(cli.code).toBe(1);
    expect(cli.stderr).toContain('--canary');
    expect((await platform.api('GET', `/api/v1/functions/${name}/aliases`)).body.releases.aliases.prod).toMatchObject({ version: 1 });
    expect((await call(name, {}, '@prod')).body).toBe('one');
    expect((await call(name, {}, '@7')).status).toBe(404);
    expect((await call(name, {}, '@nope')).status).toBe(404);
    const routed = await faas('version', 'rm', name, '1');
    expect(routed.code).toBe(1);
    expect(routed.stderr).toContain('prod');
  });

  it("lets no tenant read, call or move another tenant's versions and aliases", async () => {
    const name = uniqueName('mine');
    for (const id of ['rel-a', 'rel-b']) expect((await platform.api('POST', '/api/v1/tenants', { id })).status).toBe(201);
    const tokenOf = async (id: string) => (await platform.api('POST', `/api/v1/tenants/${id}/tokens`, { name: 't' })).body.token as string;
    const [a, b] = [await tokenOf('rel-a'), await tokenOf('rel-b')];
    const asA = (...args: string[]) => runCli(cli, cliEnv(platform.url, a), args);
    expect((await asA('deploy', source('one'), '--name', name)).code).toBe(0);
    expect((await asA('deploy', source('two'), '--name', name, '--no-promote')).code).toBe(0);
    for (const [method, route, body] of [
      ['GET', `/functions/${name}/versions`],
      ['GET', `/functions/${name}/aliases`],
      ['PUT', `/functions/${name}/aliases/prod`, { version: 1 }],
      ['PUT', `/functions/${name}/default-alias`, { alias: 'latest' }],
      ['POST', `/functions/${name}/rollback`, {}],
      ['DELETE', `/functions/${name}/versions/1`],
    ] as const) {
      const res = await platform.apiAs(b, method, `/api/v1${route}`, body);
      expect(res.status, `${method} ${route}`).toBe(404);
    }
    // A tenant's function by its id from the default tenant's path: not there, qualifier or not.
    expect((await fetch(`${platform.url}/fn/rel-a.${name}@2`)).status).toBe(404);
    expect((await fetch(`${platform.url}/async/fn/rel-a.${name}@1`, { method: 'POST' })).status).toBe(404);
    // B's own name space has no such function, by path or version.
    expect((await fetch(`${platform.url}/fn/rel-b/${name}@2`)).status).toBe(404);
    expect((await fetch(`${platform.url}/fn/rel-a/${name}@2`)).headers.get('x-faas-version')).toBe('2');
  });
});
