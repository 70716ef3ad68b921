// Attacks on the channel between invoker and runtime: a function that rewrites its socket directory to
// point the platform (root on the host) at the Docker engine, or uses that directory as disk.
import { readdirSync } from 'node:fs';
import Docker from 'dockerode';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestPlatform, uniqueName, type TestPlatform } from '../support/platform.js';
import { LABEL } from '../../invoker/driver/docker/host-config.js';

const docker = new Docker({ socketPath: '/var/run/docker.sock' });
let platform: TestPlatform;

beforeAll(async () => {
  platform = await startTestPlatform();
});
afterAll(async () => {
  await platform?.stop();
});

/**
 * Each call tries to swap every socket in /run/faas for a symlink to the host's Docker socket (and
 * other things in its place), then asks for its connection to be closed so the platform connects anew.
 */
const SWAP = `
import fs from 'node:fs';
const attempt = (what, op) => { try { op(); return what + ':ok'; } catch (e) { return what + ':' + (e.code ?? e.message); } };
export default async (req) => {
  const dir = '/run/faas';
  let names = [];
  try { names = fs.readdirSync(dir); } catch {}
  const out = [];
  for (const name of names.length ? names : ['runtime.sock', 'invoker.sock']) {
    const p = dir + '/' + name;
    out.push(attempt('unlink ' + name, () => fs.unlinkSync(p)));
    const kind = new URL(req.url).searchParams.get('kind') ?? 'symlink';
    if (kind === 'symlink') out.push(attempt('symlink', () => fs.symlinkSync('/var/run/docker.sock', p)));
    if (kind === 'dir') out.push(attempt('mkdir', () => fs.mkdirSync(p)));
    if (kind === 'hardlink') out.push(attempt('link', () => fs.linkSync('/fn/index.mjs', p)));
    if (kind === 'file') out.push(attempt('write', () => fs.writeFileSync(p, 'x')));
  }
  out.push(attempt('rename dir', () => fs.renameSync(dir, '/run/faas-old')));
  out.push(attempt('write file', () => fs.writeFileSync(dir + '/blob', Buffer.alloc(1 << 20))));
  return new Response(JSON.stringify(out), { headers: { connection: 'close', 'content-type': 'application/json' } });
};`;

describe('runtime channel', () => {
  it.each(['symlink', 'dir', 'hardlink', 'file'])(
    'a function that puts a %s in place of its socket never makes the platform reach the Docker engine',
    async (kind) => {
      const name = uniqueName('swap');
      expect((await platform.deploy(name, SWAP)).status).toBe(201);
      // Containers not made by a platform: what the Docker API would make if the function reached it. (The
      // platform's own come and go meanwhile: a prewarmed runtime's replacement starts 100 ms after a cold start.)
      const foreign = async () => (await docker.listContainers({ all: true })).filter((c) => c.Labels?.[LABEL.managed] !== 'true').length;
      const containersBefore = await foreign();
      const first = await platform.call(name, `/version?kind=${kind}`);
      const attempts = (await first.json()) as string[];
      // Nothing in the socket directory can be changed by the function.
      expect(attempts.length).toBeGreaterThanOrEqual(4);
      for (const line of attempts) expect(line, line).not.toMatch(/:ok$/);
      for (const line of attempts.filter((l) => /^(unlink|write file)/.test(l))) expect(line).toMatch(/:EROFS$/);
      for (let i = 0; i < 5; i++) {
        const res = await platform.call(name, `/version?kind=${kind}`);
        const text = await res.text();
        expect(text).not.toContain('ApiVersion');
        expect(text).not.toContain('"Containers"');
        expect(res.status).toBe(200);
      }
      const post = await platform.call(name, '/containers/create', { method: 'POST', body: '{"Image":"x"}', headers: { 'content-type': 'application/json' } });
      expect(await post.text()).not.toMatch(/"Id"|No such image/);
      expect(await foreign()).toBe(containersBefore);
    },
  );

  it('gives a function no writable or executable mount backed by the host disk: only size-limited tmpfs', async () => {
    const name = uniqueName('mounts');
    const code = `
import fs from 'node:fs';
export default () => {
  const mounts = fs.readFileSync('/proc/self/mounts', 'utf8').trim().split('\\n').map((l) => l.split(' '));
  return mounts.map(([source, target, type, options]) => ({ source, target, type, options: options.split(',') }));
};`;
    expect((await platform.deploy(name, code)).status).toBe(201);
    const mounts = (await (await platform.call(name)).json()) as Array<{ target: string; type: string; options: string[] }>;
    const pseudo = new Set(['proc', 'sysfs', 'cgroup', 'cgroup2', 'devpts', 'mqueue', 'tmpfs']);
    const hostWritable = mounts.filter((m) => m.options.includes('rw') && !pseudo.has(m.type));
    expect(hostWritable).toEqual([]);
    // The socket directory is there, read-only.
    expect(mounts.find((m) => m.target === '/run/faas')).toMatchObject({ options: expect.arrayContaining(['ro']) });
  });
});

describe('connections a function opens to the invoker', () => {
  it('are refused past the runtime spares: a function cannot make the invoker hold descriptors', async () => {
    const name = uniqueName('dialer');
    const code = `
import net from 'node:net';
const held = [];
let closed = 0;
export default async () => {
  for (let i = 0; i < 300; i++) {
    const s = net.connect('/run/faas/invoker.sock');
    s.on('error', () => {});
    s.on('close', () => closed++);
    held.push(s);
  }
  await new Promise((r) => setTimeout(r, 500));
  return String(closed);
};`;
    // A high concurrency lets the runtime hold many connections legitimately; idle ones beyond its spares are still refused.
    expect((await platform.deploy(name, code, { concurrency: 500 })).status).toBe(201);
    await platform.call(name);
    const fdsBefore = readdirSync('/proc/self/fd').length;
    const res = await platform.call(name);
    expect(res.status).toBe(200);
    // Nearly all of its 300 dials were closed by the invoker, and the invoker's descriptors barely grew.
    expect(Number(await res.text())).toBeGreaterThan(250);
    expect(readdirSync('/proc/self/fd').length - fdsBefore).toBeLessThan(30);
    // The function still answers.
    expect((await platform.call(name)).status).toBe(200);
  });
});
