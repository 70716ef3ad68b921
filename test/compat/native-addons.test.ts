// Packages with native addons, installed by npm as they are for a Lambda function: `faas deploy` ships
// them unbundled (found, no flag) and they run in a real container — sharp resizing an image, bcrypt
// hashing and comparing — on the host's own glibc, which the runtime image carries.
import path from 'node:path';
import bcrypt from 'bcrypt';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildCli, cliEnv, runCli } from '../support/cli.js';
import { startTestPlatform, uniqueName, type TestPlatform } from '../support/platform.js';

let platform: TestPlatform;
let cli: string;

beforeAll(async () => {
  [platform, cli] = await Promise.all([startTestPlatform(), buildCli('native-addons')]);
});
afterAll(async () => {
  await platform?.stop();
});

const faas = (...args: string[]) => runCli(cli, cliEnv(platform.url, platform.token), args);

describe('native addons', { timeout: 240_000 }, () => {
  it('deploys a function using sharp and bcrypt as installed, and both work in its container', async () => {
    const name = uniqueName('native');
    const deployed = await faas('deploy', path.join('test', 'compat', 'fixtures', 'native', 'index.ts'), '--name', name, '--memory', '256');
    expect(deployed.code, deployed.stderr).toBe(0);
    expect(deployed.stderr).toMatch(/not bundled \(native addons\): (bcrypt, sharp|sharp, bcrypt)/);

    const image = await sharp({ create: { width: 120, height: 60, channels: 3, background: '#c03' } })
      .png()
      .toBuffer();
    const resized = await platform.call(name, '?width=30', { method: 'POST', body: image, headers: { 'content-type': 'image/png' } });
    expect(resized.status, await resized.clone().text()).toBe(200);
    expect(resized.headers.get('content-type')).toBe('image/png');
    const meta = await sharp(Buffer.from(await resized.arrayBuffer())).metadata();
    expect({ format: meta.format, width: meta.width, height: meta.height }).toEqual({ format: 'png', width: 30, height: 15 });

    const hashed = await platform.call(name, '/hash', { method: 'POST', body: 'correct horse' });
    expect(hashed.status).toBe(200);
    const { hash, right, wrong } = (await hashed.json()) as { hash: string; right: boolean; wrong: boolean };
    expect({ right, wrong }).toEqual({ right: true, wrong: false });
    // The container's bcrypt made a hash the host's bcrypt accepts.
    expect(await bcrypt.compare('correct horse', hash)).toBe(true);
  });
});
