// The loop before a deploy, through the faas CLI: `faas init` writes a project whose own test passes and
// which deploys as it is (every template); `faas dev` runs it on the platform, and a save is the new answer
// under the same URL, with the function's output printed as it comes; `faas logs -f` follows invocations.
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TEMPLATES } from '../../cli/init-templates.js';
import { buildCli, cliEnv, runCli, startCli } from '../support/cli.js';
import { startTestPlatform, uniqueName, waitUntil, type TestPlatform } from '../support/platform.js';

const run = promisify(execFile);
let platform: TestPlatform;
let cli: string;
const root = mkdtempSync(path.join(os.tmpdir(), 'faas-init-'));
const children: Array<{ child: import('node:child_process').ChildProcess }> = [];

beforeAll(async () => {
  cli = await buildCli('develop');
  platform = await startTestPlatform();
});
afterAll(async () => {
  for (const { child } of children) child.kill('SIGINT');
  await platform?.stop();
});

const faas = (...args: string[]) => runCli(cli, cliEnv(platform.url, platform.token), args);

async function text(url: string): Promise<string> {
  const res = await fetch(url);
  return `${res.status} ${await res.text()}`;
}

describe('develop a function', { timeout: 300_000 }, () => {
  it('faas init writes a project whose test passes and that deploys as it is, for every template', async () => {
    for (const template of TEMPLATES) {
      const name = uniqueName(template);
      const dir = path.join(root, name);
      const init = await faas('init', '--template', template, dir);
      expect(init.code, init.stderr).toBe(0);
      // Its dependencies as `npm install` would give them (the repository's own vitest and typescript).
      symlinkSync(path.resolve('node_modules'), path.join(dir, 'node_modules'));
      for (const tool of [
        ['node_modules/vitest/vitest.mjs', 'run'],
        ['node_modules/typescript/bin/tsc', '-p', '.'],
      ]) {
        const done = await run(process.execPath, tool, { cwd: dir }).catch((err: { stdout: string; stderr: string }) => ({
          stdout: `FAILED ${err.stdout}`,
          stderr: err.stderr,
        }));
        expect(done.stdout, `${template}: ${tool[0]} ${done.stderr}`).not.toContain('FAILED');
      }
      // package.json's own deploy script, as `npm run deploy` runs it.
      const script: string = JSON.parse(readFileSync(path.join(dir, 'package.json'), 'utf8')).scripts.deploy;
      const args = script
        .replace(/^faas /, '')
        .match(/"[^"]*"|\S+/g)!
        .map((a) => a.replace(/^"|"$/g, ''));
      const deployed = await runCli(
        cli,
        cliEnv(platform.url, platform.token),
        args.map((a) => (a === 'src/index.ts' ? path.join(dir, a) : a)),
      );
      expect(deployed.code, `${template}: ${deployed.stderr}`).toBe(0);
      if (template === 'web' || template === 'workers') expect(await text(`${platform.url}/fn/${name}?name=x`)).toMatch(/^200 H\w+, x!/);
      if (template === 'lambda') expect(await text(`${platform.url}/fn/${name}?name=x`)).toBe('200 {"message":"Hello, x!"}');
    }
  });

  it('faas dev answers with the new code after a save, under the same URL, and prints what the function prints', async () => {
    const name = uniqueName('dev');
    const dir = path.join(root, name);
    expect((await faas('init', dir)).code).toBe(0);
    const dev = startCli(cli, cliEnv(platform.url, platform.token), ['dev', 'src/index.ts', '--name', name], dir);
    children.push(dev);
    await waitUntil('faas dev to deploy', async () => (dev.output().includes('live in') ? true : undefined), 60_000);
    const url = `${platform.url}/fn/${name}?name=x`;
    expect(await text(url)).toBe('200 Hello, x!\n');

    const source = path.join(dir, 'src/index.ts');
    const saved = performance.now();
    writeFileSync(source, readFileSync(source, 'utf8').replace('Hello', 'Howdy'));
    await waitUntil('the saved code to answer', async () => ((await text(url)) === '200 Howdy, x!\n' ? true : undefined), 60_000, 5);
    console.log(`faas dev: save → new code answering in ${Math.round(performance.now() - saved)} ms`);
    // What the function printed, streamed to the terminal.
    await waitUntil('the function output in faas dev', async () => (dev.output().includes('greeting x') ? true : undefined), 60_000);
    expect(dev.output()).toMatch(/saved: .* v2 live in \d+ ms/);

    // A save that does not build keeps the running version and says why.
    writeFileSync(source, 'export default async (request: Request => {');
    await waitUntil('the build error', async () => (dev.output().includes('previous version keeps answering') ? true : undefined), 60_000);
    expect(await text(url)).toBe('200 Howdy, x!\n');
  });

  it('faas logs -f follows new invocations, filtered by version and status', async () => {
    const name = uniqueName('follow');
    const file = path.join(root, `${name}.ts`);
    writeFileSync(
      file,
      "export default async (r: Request) => { console.log('saw ' + new URL(r.url).search); return new Response('', { status: new URL(r.url).searchParams.has('fail') ? 500 : 200 }); };",
    );
    expect((await faas('deploy', file, '--name', name)).code).toBe(0);
    await fetch(`${platform.url}/fn/${name}?before`);
    const follow = startCli(cli, cliEnv(platform.url, platform.token), ['logs', name, '-f', '--status', 'error']);
    children.push(follow);
    await waitUntil('logs -f to start', async () => (follow.output().includes('following') ? true : undefined), 60_000);
    await fetch(`${platform.url}/fn/${name}?ok-call`);
    await fetch(`${platform.url}/fn/${name}?fail`);
    await waitUntil('the failed call in logs -f', async () => (follow.output().includes('saw ?fail') ? true : undefined), 60_000);
    expect(follow.output()).not.toContain('saw ?ok-call');
    expect(follow.output()).not.toContain('saw ?before');
    expect(follow.output()).toMatch(/v1 http 500/);
  });
});
