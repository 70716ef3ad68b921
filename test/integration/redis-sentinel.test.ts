// Redis that fails over: a master, a replica and three sentinels (Debian's redis-server in sentinel mode),
// the platform connected through the sentinels. Under a stream of async calls the master is killed (-9):
// the sentinels promote the replica, the platform follows it, and every call answered 202 runs — none of
// the accepted jobs is lost (each is on the replica before it is answered: Redis WAIT) — and the usage
// journal ships to the new master.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort, redisBinary, waitForPort } from '../support/services.js';
import { startTestPlatform, uniqueName, waitUntil, type TestPlatform } from '../support/platform.js';

const dir = mkdtempSync(path.join(os.tmpdir(), 'faas-sentinel-'));
const processes: ChildProcess[] = [];
let master: ChildProcess;
let masterPort: number;
let replicaPort: number;
const sentinelPorts: number[] = [];
let platform: TestPlatform;

async function redisServer(args: string[], port: number): Promise<ChildProcess> {
  const child = spawn(redisBinary(), args, { stdio: 'ignore' });
  processes.push(child);
  await waitForPort(port, 10_000);
  return child;
}

beforeAll(async () => {
  masterPort = await freePort();
  replicaPort = await freePort();
  // Disk-based sync at once: Redis 7 delays a diskless one by 5 s, longer than the sentinels' patience here.
  const common = ['--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--repl-diskless-sync', 'no'];
  // Each its own directory: a replica loads the master's snapshot into a file of the same name.
  for (const own of ['master', 'replica']) mkdirSync(path.join(dir, own));
  master = await redisServer(
    ['--port', String(masterPort), '--dir', path.join(dir, 'master'), '--logfile', path.join(dir, 'master.log'), ...common],
    masterPort,
  );
  await redisServer(
    [
      '--port',
      String(replicaPort),
      '--dir',
      path.join(dir, 'replica'),
      '--logfile',
      path.join(dir, 'replica.log'),
      '--replicaof',
      '127.0.0.1',
      String(masterPort),
      ...common,
    ],
    replicaPort,
  );
  for (let i = 0; i < 3; i++) {
    const port = await freePort();
    sentinelPorts.push(port);
    const conf = path.join(dir, `sentinel-${i}.conf`);
    writeFileSync(
      conf,
      [
        `port ${port}`,
        'bind 127.0.0.1',
        `dir ${dir}`,
        `sentinel monitor mymaster 127.0.0.1 ${masterPort} 2`,
        'sentinel down-after-milliseconds mymaster 1000',
        'sentinel failover-timeout mymaster 5000',
        'sentinel parallel-syncs mymaster 1',
        '',
      ].join('\n'),
    );
    await redisServer([conf, '--sentinel'], port);
  }
  // The replica in sync, and every sentinel knowing it (it is what they promote).
  const probe = new Redis({ port: replicaPort });
  await waitUntil('the replica in sync', async () => ((await probe.info('replication')).includes('master_link_status:up') ? true : undefined));
  probe.disconnect();
  for (const port of sentinelPorts) {
    const sentinel = new Redis({ port });
    await waitUntil(`sentinel ${port} to see the replica`, async () => {
      const replicas = (await sentinel.call('SENTINEL', 'REPLICAS', 'mymaster')) as unknown[];
      return replicas.length === 1 ? true : undefined;
    });
    sentinel.disconnect();
  }
  platform = await startTestPlatform({
    REDIS_SENTINELS: sentinelPorts.map((p) => `127.0.0.1:${p}`).join(','),
    REDIS_SENTINEL_MASTER: 'mymaster',
    FAAS_PREWARM: '0',
  });
}, 120_000);

afterAll(async () => {
  await platform?.stop();
  for (const child of processes) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  rmSync(dir, { recursive: true, force: true });
});

describe('Redis Sentinel', () => {
  it('loses no accepted async call when the master is killed under load, and ships usage to the new master', async () => {
    const fn = uniqueName('failover');
    expect((await platform.deploy(fn, `export default async (req) => 'ran ' + (await req.text());`)).status).toBe(201);
    const accepted: string[] = [];
    const refused: number[] = [];
    let killedAt = 0;
    for (let i = 0; i < 60; i++) {
      if (i === 20) {
        killedAt = Date.now();
        master.kill('SIGKILL');
      }
      const res = await fetch(`${platform.url}/async/fn/${fn}`, { method: 'POST', body: String(i) }).catch(() => undefined);
      if (res?.status === 202) accepted.push(((await res.json()) as { invocationId: string }).invocationId);
      else refused.push(res?.status ?? 0);
    }
    const resumedIn = Date.now() - killedAt;
    // Every accepted call runs, on the promoted replica.
    for (const id of accepted) {
      let last: unknown;
      await waitUntil(
        `invocation ${id} to succeed`,
        async () => {
          const view = await platform.api('GET', `/api/v1/invocations/${id}`);
          last = view;
          if (view.status === 200 && view.body.status === 'dead') throw new Error(`invocation ${id} dead: ${JSON.stringify(view.body.error)}`);
          return view.status === 200 && view.body.status === 'succeeded' ? true : undefined;
        },
        120_000,
      ).catch((err: Error) => {
        throw new Error(`${err.message}; last seen: ${JSON.stringify(last)}; accepted as ${accepted.indexOf(id)} of ${accepted.length}`);
      });
    }
    console.log(
      `sentinel failover: ${accepted.length} accepted (all ran), ${refused.length} refused (${refused.join(',')}); 40 calls after the kill took ${resumedIn} ms`,
    );
    expect(accepted.length).toBeGreaterThanOrEqual(50);
    // The usage journal ships to the new master: every run is counted.
    await waitUntil(
      'usage of every run',
      async () => ((await platform.api('GET', `/api/v1/usage?function=${fn}`)).body.total.invocations >= accepted.length ? true : undefined),
      60_000,
    );
    // Synchronous calls run too.
    expect(await (await platform.call(fn, '', { method: 'POST', body: 'sync' })).text()).toBe('ran sync');
  }, 300_000);
});
