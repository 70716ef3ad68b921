// The faas command against a running platform, as a user types it.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { build } from 'esbuild';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestPlatform, uniqueName, type TestPlatform } from '../support/platform.js';

const run = promisify(execFile);
let platform: TestPlatform;
/** The CLI bundled once from its TypeScript source: each command then starts in a fraction of tsx's time on a busy machine. */
const CLI = 'node_modules/.cache/faas-cli-test/main.mjs';

beforeAll(async () => {
  await build({ entryPoints: ['cli/main.ts'], bundle: true, platform: 'node', format: 'esm', packages: 'external', outfile: CLI, logLevel: 'error' });
  platform = await startTestPlatform();
});
afterAll(async () => {
  await platform?.stop();
});

/** Runs `faas <args>` (the CLI bundled from source, no build step) with the platform's URL and token. */
function faas(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return faasAs(platform.token, ...args);
}

async function faasAs(token: string, ...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, [CLI, ...args], {
      env: { ...process.env, FAAS_URL: platform.url, FAAS_TOKEN: token, NO_COLOR: '1' },
    });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

// Whole user journeys of many commands each: a generous limit, so a busy machine slows them without failing them.
describe('faas CLI', { timeout: 240_000 }, () => {
  it('deploys functions/hello.ts and the printed URL answers', async () => {
    const name = uniqueName('hello');
    const deployed = await faas('deploy', 'functions/hello.ts', '--name', name);
    expect(deployed.code, deployed.stderr).toBe(0);
    const url = /→ (\S+)/.exec(deployed.stdout)?.[1];
    expect(url).toBe(`${platform.config.publicUrl}/fn/${name}`);
    // Its own host too (FAAS_DOMAIN, localhost by default).
    expect(deployed.stdout + deployed.stderr).toContain(`http://${name}.localhost:${new URL(platform.config.publicUrl).port}/`);
    const res = await fetch(`${platform.url}/fn/${name}?name=cli`);
    expect(await res.text()).toBe('Hello, cli!\n');
  });

  it('deploys a function with an npm dependency, invokes it, lists it, shows its logs and usage, removes it', async () => {
    const name = uniqueName('slug');
    expect((await faas('deploy', 'functions/slugify.ts', '--name', name, '--memory', '256')).code).toBe(0);
    const invoked = await faas('invoke', name, '--path', '?text=Hello World');
    expect(JSON.parse(invoked.stdout)).toEqual({ slug: 'hello-world' });

    const ls = await faas('ls', '--json');
    expect(JSON.parse(ls.stdout).find((f: { name: string }) => f.name === name)).toMatchObject({ memoryMb: 256 });

    await new Promise((r) => setTimeout(r, 200));
    const usage = await faas('usage', '--function', name, '--json');
    expect(JSON.parse(usage.stdout).rows[0]).toMatchObject({ function: name, invocations: 1 });
    const logs = await faas('logs', name, '--json');
    expect(JSON.parse(logs.stdout)).toHaveLength(1);

    expect((await faas('rm', name)).code).toBe(0);
    const gone = await faas('invoke', name);
    expect(gone.code).toBe(1);
    expect(gone.stderr).toContain('FUNCTION_NOT_FOUND');
  });

  it('deploys with triggers, invokes async, sends to a queue, publishes an event and manages dead letters', async () => {
    const name = uniqueName('orders');
    const queue = `orders-${name.slice(-8)}`;
    const topic = `order.created.${name.slice(-8)}`;
    const deployed = await faas(
      'deploy',
      'functions/orders-worker.ts',
      '--name',
      name,
      '--queue',
      queue,
      '--on',
      topic,
      '--schedule',
      '0 3 * * *',
      '--timezone',
      'Europe/Paris',
      '--attempts',
      '1',
    );
    expect(deployed.code, deployed.stderr).toBe(0);
    expect(deployed.stderr + deployed.stdout).toContain(`queue:${queue}, on:${topic}, cron:0 3 * * * (Europe/Paris)`);
    const ls = await faas('ls');
    expect(ls.stdout).toContain(`http, queue:${queue}`);

    const sent = await faas('queue', 'send', queue, '{"id":7}', '--content-type', 'application/json');
    expect(sent.code, sent.stderr).toBe(0);
    const messageResult = await faas('status', sent.stdout.trim(), '--wait');
    expect(JSON.parse(messageResult.stdout)).toEqual({ processed: 1 });

    const published = await faas('publish', topic, '{"id":8}', '--type', 'order.created', '--source', '/shop');
    expect(published.code, published.stderr).toBe(0);
    const eventId = published.stdout.split(/\s+/)[0]!;
    expect(JSON.parse((await faas('status', eventId, '--wait')).stdout)).toMatchObject({ data: { id: 8 } });

    // An async HTTP call the function rejects (400) is dead at once (--attempts 1).
    const failed = await faas('invoke', name, '--async', '--wait', '--data', 'x');
    expect(failed.code).toBe(1);
    expect(failed.stderr).toContain('FUNCTION_REJECTED');
    const dlq = await faas('dlq', 'ls', '--function', name, '--json');
    const [dead] = JSON.parse(dlq.stdout) as Array<{ id: string }>;
    expect(dead).toBeDefined();
    expect((await faas('dlq', 'show', dead!.id)).stdout).toContain('FUNCTION_REJECTED');
    expect((await faas('dlq', 'purge', '--all', '--function', name)).stdout).toContain('purged 1');
    expect(JSON.parse((await faas('dlq', 'ls', '--function', name, '--json')).stdout)).toEqual([]);

    // Purging a queue: what waits there goes (nothing here: the message ran), said in a sentence.
    const purged = await faas('queue', 'purge', queue);
    expect(purged.code, purged.stderr).toBe(0);
    expect(purged.stdout + purged.stderr).toContain(`purged 0 messages of queue ${queue}`);
    // The invokers (here one, in this process).
    const nodes = await faas('nodes', '--json');
    expect(nodes.code, nodes.stderr).toBe(0);
    expect(JSON.parse(nodes.stdout)).toEqual([expect.objectContaining({ url: 'in-process', state: 'up', functions: expect.any(Number) })]);

    const bad = await faas('queue', 'send', 'nobody-consumes', 'x');
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain('UNKNOWN_QUEUE');
    const badCron = await faas('deploy', 'functions/orders-worker.ts', '--name', name, '--schedule', 'every day');
    expect(badCron.code).toBe(1);
    expect(badCron.stderr).toMatch(/cron expression "every day"/);
  });

  it('manages tenants and tokens, deploys as a tenant, and prints the same invoice total as the API in a table, JSON and CSV', async () => {
    const created = await faas('tenant', 'create', 'cli-co', '--max-containers', '5');
    expect(created.code, created.stderr).toBe(0);
    expect(created.stdout).toContain('created tenant cli-co (quotas: 5 containers)');
    expect((await faas('tenant', 'set', 'cli-co', '--max-containers', 'many')).stderr).toContain('--max-containers many is not a whole number');
    const token = await faas('token', 'create', 'cli-co', '--json');
    const { token: secret, id } = JSON.parse(token.stdout) as { token: string; id: string };
    expect((await faasAs(secret, 'whoami')).stdout).toContain('tenant cli-co; quotas: 5 containers');

    const deployed = await faasAs(secret, 'deploy', 'functions/hello.ts', '--name', 'hi');
    expect(deployed.stdout).toContain(`${platform.config.publicUrl}/fn/cli-co/hi`);
    for (let i = 0; i < 3; i++) expect((await fetch(`${platform.url}/fn/cli-co/hi`)).status).toBe(200);
    await new Promise((r) => setTimeout(r, 300));

    const api = (await platform.apiAs(secret, 'GET', '/api/v1/invoices/current')).body.invoice;
    expect(api.lines.find((l: { item: string }) => l.item === 'requests').quantity).toBe(3);
    const json = JSON.parse((await faasAs(secret, 'usage', '--invoice', 'current', '--json')).stdout).invoice;
    expect(json.totalCents).toBe(api.totalCents);
    const csv = (await faasAs(secret, 'usage', '--invoice', 'current', '--csv')).stdout.trim().split('\r\n');
    expect(csv.at(-1)).toBe(`cli-co,${api.period},total,Total due,,,,,,${api.total},USD`);
    const table = await faasAs(secret, 'usage', '--invoice', 'current');
    expect(table.stdout).toContain(`${api.total} USD`);
    // Its one container, paused by now (idle for more than 300 ms); the admin sees it among every tenant's.
    const ps = JSON.parse((await faasAs(secret, 'ps', '--json')).stdout) as Array<{ tenant: string; name: string; state: string; served: number }>;
    expect(ps).toEqual([expect.objectContaining({ tenant: 'cli-co', name: 'hi', state: 'paused', served: 3 })]);
    const psTable = (await faasAs(secret, 'ps')).stdout;
    expect(psTable).toMatch(/cli-co\/hi v1 .*│ paused .*│ 128 MB .*│ 0 .*│ 3 /);
    const all = JSON.parse((await faas('ps', '--json')).stdout) as Array<{ tenant: string | null; state: string }>;
    expect(all.filter((c) => c.tenant === 'cli-co')).toHaveLength(1);
    // Prewarmed runtimes (ready or starting) belong to no tenant; the admin sees them.
    expect(all.some((c) => c.tenant === null && ['prewarmed', 'starting'].includes(c.state))).toBe(true);
    expect((await faasAs(secret, 'ps', '--tenant', 'someone-else')).stderr).toContain('FORBIDDEN');
    // The tenant's token is not the admin's.
    expect((await faasAs(secret, 'tenant', 'ls')).stderr).toContain('FORBIDDEN');
    expect((await faas('token', 'revoke', id)).code).toBe(0);
    expect((await faasAs(secret, 'ls')).stderr).toContain('invalid or revoked token');
  });

  it('reports a syntax error with file:line:column and uploads nothing', async () => {
    const { mkdtempSync, writeFileSync } = await import('node:fs');
    const dir = mkdtempSync('/tmp/faas-cli-');
    writeFileSync(`${dir}/broken.ts`, 'export default () => {\n  return (1 +;\n};\n');
    const result = await faas('deploy', `${dir}/broken.ts`);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/broken\.ts:2:\d+: /);
    expect((await platform.api('GET', '/api/v1/functions/broken')).status).toBe(404);
  });

  it('says how to fix a wrong token and an unreachable platform', async () => {
    const wrong = await run(process.execPath, ['--import', 'tsx', 'cli/main.ts', 'ls'], {
      env: { ...process.env, FAAS_URL: platform.url, FAAS_TOKEN: 'wrong', NO_COLOR: '1' },
    }).catch((e: { code: number; stderr: string }) => e);
    expect((wrong as { stderr: string }).stderr).toMatch(/invalid or revoked token[\s\S]*FAAS_TOKEN/);
    const down = await run(process.execPath, ['--import', 'tsx', 'cli/main.ts', 'ls'], {
      env: { ...process.env, FAAS_URL: 'http://127.0.0.1:9', FAAS_TOKEN: 'x', NO_COLOR: '1' },
    }).catch((e: { code: number; stderr: string }) => e);
    expect((down as { stderr: string }).stderr).toMatch(/cannot reach the platform[\s\S]*faas up/);
  });
});
