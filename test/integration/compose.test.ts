// The platform as an operator deploys it with Docker Compose, with no registry: `npm run images` builds the
// platform, Redis and runtime images FROM scratch from this host's binaries, and `docker-compose up` runs
// compose.yaml. On 2a33dbb compose.yaml had never run (it pulled node and redis from a registry).
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort, requireDocker } from '../support/services.js';
import { waitUntil } from '../support/platform.js';

const run = promisify(execFile);
const root = path.resolve(import.meta.dirname, '../..');
const project = `faascompose${randomUUID().slice(0, 8)}`;
const token = `compose-${randomUUID()}`;
const dataDir = mkdtempSync(path.join(os.tmpdir(), 'faas-compose-'));
let env: NodeJS.ProcessEnv;
let url: string;

const compose = (...args: string[]) =>
  run('docker-compose', ['-p', project, '--env-file', 'deploy/images/images.env', ...args], { cwd: root, env, maxBuffer: 16 * 1024 * 1024 });

beforeAll(async () => {
  await requireDocker();
  await run('docker-compose', ['version']).catch(() => {
    throw new Error('docker-compose is not installed: `apt-get install -y docker-compose` (npm test installs it)');
  });
  // The images, as an operator builds them (the build is what `npm run images` runs after `npm run build`).
  await run('npx', ['tsc', '-p', 'tsconfig.build.json'], { cwd: root });
  await run(process.execPath, ['dist/deploy/images/build-images.js'], { cwd: root });
  const port = await freePort();
  env = { ...process.env, FAAS_TOKEN: token, FAAS_PORT: String(port), FAAS_REDIS_PORT: String(await freePort()), FAAS_DATA_DIR: dataDir };
  url = `http://127.0.0.1:${port}`;
  await compose('up', '-d');
}, 600_000);

afterAll(async () => {
  const logs = await compose('logs', '--no-color', '--tail', '40').catch(() => undefined);
  if (logs && process.env.FAAS_TEST_COMPOSE_LOGS) console.log(logs.stdout);
  await compose('down', '-v').catch(() => {});
  rmSync(dataDir, { recursive: true, force: true });
}, 120_000);

const api = (method: string, route: string, body?: unknown) =>
  fetch(`${url}/api/v1${route}`, {
    method,
    headers: { authorization: `Bearer ${token}`, ...(body ? { 'content-type': 'application/json' } : {}) },
    ...(body ? { body: JSON.stringify(body) } : {}),
  });

describe('docker-compose up', () => {
  it('runs the whole platform from images built here: deploy, calls, an async call, a function with network behind the firewall', async () => {
    await waitUntil(
      'the platform to be ready',
      async () => ((await fetch(`${url}/readyz`).catch(() => undefined))?.status === 200 ? true : undefined),
      120_000,
    );
    expect((await api('PUT', '/functions/hello', { code: `export default (req) => 'hello from compose ' + new URL(req.url).pathname;` })).status).toBe(201);
    const res = await fetch(`${url}/fn/hello/x`);
    expect(res.status).toBe(200);
    expect(await res.text()).toBe('hello from compose /x');
    // Async work on the compose Redis.
    const accepted = (await (await fetch(`${url}/async/fn/hello/y`, { method: 'POST' })).json()) as { invocationId: string };
    await waitUntil('the async call', async () => {
      const view = (await (await api('GET', `/invocations/${accepted.invocationId}`)).json()) as { status: string };
      return view.status === 'succeeded' ? true : undefined;
    });
    // The function network's firewall, installed from inside the platform's container: a private address is refused.
    const probe = `export default async () => { try { await fetch('http://10.255.255.1/', { signal: AbortSignal.timeout(3000) }); return 'reached'; } catch (e) { return String(e.cause?.code ?? e.name); } };`;
    expect((await api('PUT', '/functions/net', { code: probe, network: true })).status).toBe(201);
    expect(await (await fetch(`${url}/fn/net`)).text()).toBe('ECONNREFUSED');
  });
});
