// The platform on Docker Swarm across two engines: this host's and a second one in a network namespace (a
// simulated host with its own address, as in ../shared/ENVIRONMENT.md), joined into a swarm, running
// deploy/swarm/faas-stack.yaml with images built here (`npm run images`) and loaded on both. Redis and the
// gateway run on the manager, an invoker on each node (a global service) driving its own engine; functions
// are placed on both and answer through the one gateway.
//
// It turns this host's engine into a swarm manager for its length (and refuses to run if the engine is in a
// swarm already) and needs root for the namespace; it leaves the swarm and removes the namespace at the end.
// FAAS_TEST_SWARM=0 leaves it out (it is then reported skipped).
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdirSync, rmSync, symlinkSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort, requireDocker } from '../support/services.js';
import { waitUntil } from '../support/platform.js';

const run = promisify(execFile);
const root = path.resolve(import.meta.dirname, '../..');
const enabled = process.env.FAAS_TEST_SWARM !== '0';
/** The stack's invoker ids (FAAS_INVOKER_ID: invoker-{{.Node.ID}}), which own its function containers. */
const SWARM_INVOKER = /^invoker-[a-z0-9]{25}$/;
const NS = 'faas-swarm';
const HOST_IP = '10.211.0.1';
const NODE_IP = '10.211.0.2';
const H2 = { socket: '/run/faas-swarm-h2.sock', dataRoot: '/var/lib/faas-swarm-h2', execRoot: '/run/faas-swarm-h2', pid: '/run/faas-swarm-h2.pid' };
const WORK = '/var/lib/faas-swarm-test';
const STACK = `faasswarm${randomUUID().slice(0, 6)}`;
const token = `swarm-${randomUUID()}`;
let dockerd: ChildProcess | undefined;
let url = '';
let images: Record<string, string> = {};

const docker = (...args: string[]) => run('docker', args, { maxBuffer: 64 * 1024 * 1024 });
const docker2 = (...args: string[]) => run('docker', ['-H', `unix://${H2.socket}`, ...args], { maxBuffer: 64 * 1024 * 1024 });
const sh = (script: string) => run('sh', ['-c', script], { maxBuffer: 64 * 1024 * 1024 });

async function tearDown(): Promise<void> {
  await docker('stack', 'rm', STACK).catch(() => {});
  await waitUntil(
    'the stack to be gone',
    async () =>
      (await docker('ps', '-q', '--filter', `label=com.docker.stack.namespace=${STACK}`).catch(() => ({ stdout: '' }))).stdout.trim() ? undefined : true,
    120_000,
    500,
  ).catch(() => {});
  // Function containers the stack's invokers left (each removes its own when it stops; this is for a failed
  // run) — only theirs: other test files run platforms on this engine at the same time.
  for (const engine of [docker, docker2]) {
    const { stdout } = await engine('ps', '-a', '--filter', 'label=faas.managed', '--format', '{{.ID}} {{.Label "faas.owner"}}').catch(() => ({ stdout: '' }));
    const ids = stdout
      .split('\n')
      .map((line) => line.split(' '))
      .filter(([, owner]) => SWARM_INVOKER.test(owner ?? ''))
      .map(([id]) => id!);
    if (ids.length) await engine('rm', '-f', ...ids).catch(() => {});
  }
  await docker2('swarm', 'leave', '--force').catch(() => {});
  await docker('swarm', 'leave', '--force').catch(() => {});
  if (dockerd && dockerd.exitCode === null) {
    const exited = new Promise((r) => dockerd!.once('exit', r));
    dockerd.kill('SIGTERM');
    await exited;
  }
  await sh(`ip netns del ${NS} 2>/dev/null; ip link del veth-fsw 2>/dev/null; true`);
  rmSync(WORK, { recursive: true, force: true });
  rmSync(H2.dataRoot, { recursive: true, force: true });
}

beforeAll(async () => {
  if (!enabled) return;
  await requireDocker();
  if (process.getuid?.() !== 0) throw new Error('the swarm test makes a network namespace and a second Docker engine: run it as root');
  const { stdout: state } = await docker('info', '--format', '{{.Swarm.LocalNodeState}}');
  if (state.trim() !== 'inactive') throw new Error(`this Docker engine is already in a swarm (${state.trim()}): the test will not touch it; leave it first`);
  await tearDown();
  // The second host: a network namespace with its own address and its own engine (bridges on, for Swarm).
  await sh(
    [
      `ip netns add ${NS}`,
      `ip link add veth-fsw type veth peer name veth-fswi`,
      `ip link set veth-fswi netns ${NS}`,
      `ip addr add ${HOST_IP}/24 dev veth-fsw`,
      `ip link set veth-fsw up`,
      `ip netns exec ${NS} sh -c 'ip addr add ${NODE_IP}/24 dev veth-fswi; ip link set veth-fswi up; ip link set lo up'`,
    ].join(' && '),
  );
  dockerd = spawn(
    'nsenter',
    [
      `--net=/run/netns/${NS}`,
      'dockerd',
      '--data-root',
      H2.dataRoot,
      '--exec-root',
      H2.execRoot,
      '--pidfile',
      H2.pid,
      '-H',
      `unix://${H2.socket}`,
      '--iptables=false',
      '--ip-masq=false',
    ],
    { stdio: 'ignore' },
  );
  await waitUntil('the second engine', async () => ((await docker2('version').catch(() => undefined)) ? true : undefined), 60_000, 250);

  // The images, as an operator builds them, on both engines (the second needs the platform and runtime).
  await run('npx', ['tsc', '-p', 'tsconfig.build.json'], { cwd: root });
  await run(process.execPath, ['dist/deploy/images/build-images.js'], { cwd: root, maxBuffer: 16 * 1024 * 1024 });
  const { readFileSync } = await import('node:fs');
  images = Object.fromEntries(
    readFileSync(path.join(root, 'deploy/images/images.env'), 'utf8')
      .split('\n')
      .filter((line) => line.includes('='))
      .map((line) => line.split('=', 2) as [string, string]),
  );
  for (const tag of [images.FAAS_PLATFORM_IMAGE!, images.FAAS_RUNTIME_IMAGE!]) {
    await sh(`docker save ${tag} | docker -H unix://${H2.socket} load`);
  }

  await docker('swarm', 'init', '--advertise-addr', HOST_IP, '--listen-addr', `${HOST_IP}:2377`);
  const { stdout: joinToken } = await docker('swarm', 'join-token', '-q', 'worker');
  await docker2('swarm', 'join', '--token', joinToken.trim(), '--advertise-addr', NODE_IP, `${HOST_IP}:2377`);
  const nodes = (await docker('node', 'ls', '--format', '{{.ID}}')).stdout.split('\n').filter(Boolean);
  expect(nodes).toHaveLength(2);
  const self = (await docker('info', '--format', '{{.Swarm.NodeID}}')).stdout.trim();
  // One filesystem, two hosts: each node's engine socket and data directory at a path of its own.
  for (const id of nodes) {
    mkdirSync(path.join(WORK, id, 'data'), { recursive: true });
    symlinkSync(id === self ? '/var/run/docker.sock' : H2.socket, path.join(WORK, id, 'docker.sock'));
  }
  const port = await freePort();
  url = `http://127.0.0.1:${port}`;
  await run('docker', ['stack', 'deploy', '-c', 'deploy/swarm/faas-stack.yaml', STACK], {
    cwd: root,
    env: {
      ...process.env,
      ...images,
      FAAS_TOKEN: token,
      FAAS_REDIS_PASSWORD: randomUUID(),
      FAAS_REDIS_HOST: HOST_IP,
      FAAS_REDIS_PORT: String(await freePort()),
      FAAS_PORT: String(port),
      FAAS_LOG_LEVEL: 'warn',
      FAAS_NODE_DOCKER_SOCKET: `${WORK}/{{.Node.ID}}/docker.sock`,
      FAAS_NODE_DATA_DIR: `${WORK}/{{.Node.ID}}/data`,
    },
  });
}, 900_000);

afterAll(async () => {
  if (!enabled) return;
  if (process.env.FAAS_TEST_SWARM_LOGS) {
    for (const service of ['gateway', 'invoker'])
      console.log((await docker('service', 'logs', '--tail', '30', `${STACK}_${service}`).catch(() => ({ stdout: '' }))).stdout);
  }
  await tearDown();
}, 300_000);

const api = (method: string, route: string, body?: unknown) =>
  fetch(`${url}/api/v1${route}`, {
    method,
    headers: { authorization: `Bearer ${token}`, ...(body ? { 'content-type': 'application/json' } : {}) },
    ...(body ? { body: JSON.stringify(body) } : {}),
  });

describe.runIf(enabled)('docker stack deploy on a two-node swarm', () => {
  it('runs the gateway and an invoker per node; functions are placed on both engines and answer through the gateway', async () => {
    // ~40 s per node before a local image without a registry digest is used.
    const health = await waitUntil(
      'the gateway to see both invokers',
      async () => {
        const res = await fetch(`${url}/healthz`).catch(() => undefined);
        if (!res?.ok) return undefined;
        const body = (await res.json()) as { invokers?: { live: number } };
        return body.invokers?.live === 2 ? body : undefined;
      },
      600_000,
      1_000,
    );
    expect(health.invokers).toMatchObject({ live: 2, down: 0 });

    const names = Array.from({ length: 8 }, (_, i) => `swarm-${i}`);
    for (const name of names) {
      expect((await api('PUT', `/functions/${name}`, { code: `export default () => 'hello from ' + ${JSON.stringify(name)};` })).status).toBe(201);
    }
    for (const name of names) {
      const res = await fetch(`${url}/fn/${name}`);
      expect(res.status).toBe(200);
      expect(await res.text()).toBe(`hello from ${name}`);
    }
    // Placement spread the functions over both invokers (their own view: containers that served a call), and
    // each invoker drives its own node's engine (a prewarmed runtime is assigned a function without a new
    // container, so the engines are asked how many platform containers they run, not which function).
    const nodes = (await (await api('GET', '/nodes')).json()) as {
      nodes: Array<{ url: string; state: string; containers: Record<string, number> }>;
    };
    const managed = async (engine: typeof docker) => (await engine('ps', '-q', '--filter', 'label=faas.managed')).stdout.split('\n').filter(Boolean).length;
    const seen = JSON.stringify({ host: await managed(docker), node: await managed(docker2), nodes: nodes.nodes });
    // The address each announced: its node's, found from its Redis connection (both listen on 0.0.0.0).
    expect(nodes.nodes.map((n) => new URL(n.url).hostname).sort(), seen).toEqual([HOST_IP, NODE_IP]);
    for (const node of nodes.nodes) {
      const { idle = 0, paused = 0, busy = 0 } = node.containers;
      expect(idle + paused + busy, seen).toBeGreaterThan(0);
    }
    expect(await managed(docker), seen).toBeGreaterThan(0);
    expect(await managed(docker2), seen).toBeGreaterThan(0);

    // Async work crosses nodes too: accepted by the gateway, run by an invoker.
    const accepted = (await (await fetch(`${url}/async/fn/${names[0]}`, { method: 'POST' })).json()) as { invocationId: string };
    const view = await waitUntil('the async call', async () => {
      const body = (await (await api('GET', `/invocations/${accepted.invocationId}`)).json()) as { status: string; result?: { body: string } };
      return body.status === 'succeeded' ? body : undefined;
    });
    expect(view.result?.body).toBe(`hello from ${names[0]}`);
  }, 900_000);
});
