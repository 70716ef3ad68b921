// Secrets end to end (real Redis, real containers), through the faas CLI: a value set from stdin reaches the
// function as an environment variable and as /run/secrets/NAME, and appears nowhere else — no API answer,
// CLI listing, log, metric, Redis value or file (its AOF included), nor the engine's container config — and
// it survives a restart; another tenant can neither read nor use it.
import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import Docker from 'dockerode';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildCli, cliEnv, runCli } from '../support/cli.js';
import { startTestPlatform, uniqueName, waitUntil, type TestPlatform } from '../support/platform.js';

let platform: TestPlatform;
let cli: string;
const SECRET = `s3cr3t-${randomUUID()}`;
const FUNCTION = `
import { readFileSync, statSync } from 'node:fs';
export default async () => {
  console.log('called');
  const file = readFileSync('/run/secrets/DB_PASSWORD', 'utf8');
  const mode = (statSync('/run/secrets/DB_PASSWORD').mode & 0o777).toString(8);
  return Response.json({ env: process.env.DB_PASSWORD, file, mode });
};
`;

beforeAll(async () => {
  cli = await buildCli('secrets');
  platform = await startTestPlatform();
});
afterAll(async () => {
  await platform?.stop();
});

const faas = (...args: string[]) => runCli(cli, cliEnv(platform.url, platform.token), args);

/** Every file under dir, recursively. */
function filesUnder(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(dir, entry.name);
    return entry.isDirectory() ? filesUnder(full) : entry.isFile() ? [full] : [];
  });
}

/** Every value in Redis, whatever its type, as text. */
async function everythingIn(url: string): Promise<string> {
  const redis = new Redis(url);
  const parts: string[] = [];
  try {
    for (const key of await redis.keys('*')) {
      const type = await redis.type(key);
      if (type === 'string') parts.push((await redis.getBuffer(key))!.toString('latin1'));
      else if (type === 'hash') parts.push(JSON.stringify(await redis.hgetall(key)));
      else if (type === 'list') parts.push(JSON.stringify(await redis.lrange(key, 0, -1)));
      else if (type === 'set') parts.push(JSON.stringify(await redis.smembers(key)));
      else if (type === 'zset') parts.push(JSON.stringify(await redis.zrange(key, '0', '-1')));
      else if (type === 'stream') parts.push(JSON.stringify(await redis.xrange(key, '-', '+')));
    }
  } finally {
    redis.disconnect();
  }
  return parts.join('\n');
}

describe('secrets', { timeout: 300_000 }, () => {
  const name = uniqueName('db');
  const file = path.join(os.tmpdir(), `${name}.ts`);

  it('reaches the function as env and file, and nowhere else', async () => {
    const set = await runCli(cli, cliEnv(platform.url, platform.token), ['secret', 'set', 'DB_PASSWORD'], `${SECRET}\n`);
    expect(set.code, set.stderr).toBe(0);
    writeFileSync(file, FUNCTION);
    const deployed = await faas('deploy', file, '--name', name, '--secret', 'DB_PASSWORD');
    expect(deployed.code, deployed.stderr).toBe(0);
    const res = await platform.call(name);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ env: SECRET, file: SECRET, mode: '400' });

    // Not in any answer of the API or the CLI, in any log or metric.
    const answers = [
      JSON.stringify((await platform.api('GET', '/api/v1/functions')).body),
      JSON.stringify((await platform.api('GET', `/api/v1/functions/${name}`)).body),
      JSON.stringify((await platform.api('GET', `/api/v1/functions/${name}/versions`)).body),
      JSON.stringify((await platform.api('GET', '/api/v1/secrets')).body),
      (await faas('ls')).stdout,
      (await faas('secret', 'ls')).stdout,
      (await faas('versions', name)).stdout,
      await (await fetch(`${platform.url}/metrics`, { headers: { authorization: `Bearer ${platform.token}` } })).text(),
    ];
    const logs = await waitUntil('the call in the logs', async () => {
      const { body } = await platform.api('GET', `/api/v1/functions/${name}/logs`);
      return body.logs.length > 0 ? JSON.stringify(body) : undefined;
    });
    expect(logs).toContain('called');
    answers.push(logs, (await faas('logs', name)).stdout);
    for (const answer of answers) expect(answer).not.toContain(SECRET);
    expect(JSON.parse((await faas('secret', 'ls', '--json')).stdout)).toMatchObject([{ name: 'DB_PASSWORD', usedBy: [`${name}@1`] }]);

    // Not in Redis (every value, and the append-only file on disk), the data directory, or the engine's config.
    expect(await everythingIn(platform.redis.url)).not.toContain(SECRET);
    for (const f of [...filesUnder(platform.redis.dir), ...filesUnder(platform.config.dataDir)]) {
      if (statSync(f).size < 50_000_000) expect(readFileSync(f).includes(SECRET), f).toBe(false);
    }
    const docker = new Docker();
    for (const info of await docker.listContainers({ all: true, filters: { label: [`faas.fn=${name}`] } })) {
      expect(JSON.stringify(await docker.getContainer(info.Id).inspect())).not.toContain(SECRET);
    }
  });

  it('survives a restart of the platform', async () => {
    await platform.restart();
    const res = await platform.call(name);
    expect(await res.json()).toMatchObject({ env: SECRET, file: SECRET });
  });

  it('set anew, reaches the function at once: its warm containers are replaced', async () => {
    const setTo = async (value: string) => {
      expect((await runCli(cli, cliEnv(platform.url, platform.token), ['secret', 'set', 'DB_PASSWORD'], value)).code).toBe(0);
      await waitUntil(`the function to see ${value}`, async () =>
        ((await (await platform.call(name)).json()) as { env: string }).env === value ? true : undefined,
      );
    };
    await setTo('rotated-value');
    await setTo(SECRET);
  });

  it('refuses to delete a secret in use (unless forced), oversize values, and unknown names at deploy', async () => {
    const inUse = await faas('secret', 'rm', 'DB_PASSWORD');
    expect(inUse.code).toBe(1);
    expect(inUse.stderr).toContain(`${name}@1`);
    const big = await platform.api('PUT', '/api/v1/secrets/BIG', { value: 'x'.repeat(40_000) });
    expect(big).toMatchObject({ status: 400, body: { error: { code: 'LIMIT_EXCEEDED' } } });
    expect(big.body.error.message).toContain('32768');
    const unknown = await faas('deploy', file, '--name', uniqueName('nosecret'), '--secret', 'NOPE');
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain('SECRET_NOT_FOUND');
    const clash = await faas('deploy', file, '--name', uniqueName('clash'), '--secret', 'DB_PASSWORD', '--env', 'DB_PASSWORD=x');
    expect(clash.stderr).toContain('both an environment variable');
  });

  it("lets no other tenant read, use or delete a tenant's secret", async () => {
    expect((await platform.api('POST', '/api/v1/tenants', { id: 'sec-b' })).status).toBe(201);
    const token = (await platform.api('POST', '/api/v1/tenants/sec-b/tokens', { name: 't' })).body.token as string;
    const asB = (...args: string[]) => runCli(cli, cliEnv(platform.url, token), args);
    expect(JSON.parse((await asB('secret', 'ls', '--json')).stdout)).toEqual([]);
    const use = await asB('deploy', file, '--name', 'thief', '--secret', 'DB_PASSWORD');
    expect(use.code).toBe(1);
    expect(use.stderr).toContain('SECRET_NOT_FOUND');
    expect((await platform.apiAs(token, 'DELETE', '/api/v1/secrets/DB_PASSWORD?force=true')).status).toBe(404);
    expect((await platform.apiAs(token, 'POST', '/api/v1/secrets/rotate', {})).status).toBe(403);
    // B's own secret of the same name is B's alone.
    expect((await runCli(cli, cliEnv(platform.url, token), ['secret', 'set', 'DB_PASSWORD'], 'b-value')).code).toBe(0);
    // A /tmp of its own: no prewarmed runtime fits, so a fresh container gets the secret over its channel.
    expect((await asB('deploy', file, '--name', 'mine', '--secret', 'DB_PASSWORD', '--tmp', '16')).code).toBe(0);
    expect(await (await fetch(`${platform.url}/fn/sec-b/mine`)).json()).toMatchObject({ env: 'b-value' });
    expect(await (await platform.call(name)).json()).toMatchObject({ env: SECRET });
    // Forced delete: allowed, and the function's next container start says what is missing.
    expect((await faas('secret', 'rm', 'DB_PASSWORD', '--force')).code).toBe(0);
  });
});
