// Node.js versions per function (--runtime): node20 (the platform's own), node22 and node24 (LTS, from the
// npm registry's binary packages), each in real containers of its own image, with prewarmed containers of
// its own once a function runs on it; one not installed is refused at deploy, naming how to install it.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestPlatform, uniqueName, waitUntil, type TestPlatform } from '../support/platform.js';

const run = promisify(execFile);
const docker = async (...args: string[]) => (await run('docker', args)).stdout.trim();

let platform: TestPlatform;

beforeAll(async () => {
  platform = await startTestPlatform({ FAAS_PREWARM: '1' });
});
afterAll(async () => {
  await platform?.stop();
});

const versionFn = `export default () => Response.json({ node: process.version, lambdaEnv: process.env.AWS_EXECUTION_ENV ?? null });`;
const lambdaFn = `export const handler = async () => ({ statusCode: 200, body: process.env.AWS_EXECUTION_ENV });`;

const deployed = (name: string, code: string, settings: Record<string, unknown>) => platform.deployOk(name, code, settings);

describe('runtimes', { timeout: 300_000 }, () => {
  it('runs each function on the Node.js version it names, node20 when it names none', async () => {
    const plain = uniqueName('rt-default');
    await deployed(plain, versionFn, {});
    expect((await platform.api('GET', `/api/v1/functions/${plain}`)).body.function.runtime).toBe('node20');
    expect(((await (await platform.call(plain)).json()) as { node: string }).node).toMatch(/^v20\./);
    for (const [runtime, major] of [
      ['node22', 22],
      ['node24', 24],
    ] as const) {
      const name = uniqueName(`rt-${major}`);
      await deployed(name, versionFn, { runtime });
      const res = await platform.call(name);
      expect(res.status).toBe(200);
      expect(((await res.json()) as { node: string }).node).toMatch(new RegExp(`^v${major}\\.`));
      // Lambda's variables name the version a Lambda function runs on.
      const lambda = uniqueName(`rt-l${major}`);
      await deployed(lambda, lambdaFn, { runtime });
      expect(await (await platform.call(lambda)).text()).toBe(`AWS_Lambda_nodejs${major}.x`);
    }
  });

  it('keeps a container of a runtime prewarmed once a function ran on it, and the next function on it takes it', async () => {
    const first = uniqueName('rt-first');
    await deployed(first, versionFn, { runtime: 'node22' });
    expect((await platform.call(first)).status).toBe(200);
    // Renamed for its function shortly after its first call (the engine's round trip is not waited for).
    const image = await waitUntil(
      'the container named for its function',
      async () => (await docker('ps', '--filter', `name=faas-${first}-`, '--format', '{{.Image}}')) || undefined,
    );
    expect(image).toMatch(/^faas-runtime/);
    const prewarmed = await waitUntil(
      'a prewarmed node22 container',
      async () =>
        (await docker('ps', '--filter', 'name=faas-prewarm-', '--filter', `ancestor=${image}`, '--format', '{{.ID}} {{.Names}}')).split('\n')[0] || undefined,
      120_000,
    );
    const [dockerId, containerName] = prewarmed.split(' ') as [string, string];
    const id = containerName.replace(/^faas-prewarm-/, '');
    // Ready (its runtime answered): the pool assigns only those.
    await waitUntil(
      'the node22 container ready',
      async () => {
        const list = (await platform.api('GET', '/api/v1/containers/list')).body.containers as Array<{ id: string; state: string }>;
        return list.some((c) => c.id === id && c.state === 'prewarmed') || undefined;
      },
      120_000,
    );
    const second = uniqueName('rt-second');
    await deployed(second, versionFn, { runtime: 'node22' });
    const res = await platform.call(second);
    expect(((await res.json()) as { node: string }).node).toMatch(/^v22\./);
    // Renamed beside its first call (the engine's round trip is not waited for).
    await waitUntil('the prewarmed container renamed for its function', async () =>
      (await docker('inspect', '--format', '{{.Name}}', dockerId)) === `/faas-${second}-${id}` ? true : undefined,
    );
  });

  it('refuses an unknown runtime with 400 naming the choices', async () => {
    const res = await platform.deploy(uniqueName('rt-bad'), versionFn, { runtime: 'node18' });
    expect(res.status).toBe(400);
    expect(JSON.stringify(res.body)).toMatch(/node20|runtime/);
  });
});
