// The baselines' side: a function container started straight through dockerode and called straight over a
// socket its runtime listens on (FAAS_BENCH_LISTEN, in a read-write directory of the bench's own).
import { chownSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import type Dockerode from 'dockerode';
import { Client } from 'undici';
import { toCreateOptions } from '../invoker/driver/docker/host-config.js';

export interface DirectContainer {
  /** The engine's container id. */
  id: string;
  socketPath: string;
  /** create → start → first HTTP answer over the socket. */
  coldMs: number;
  remove(): Promise<void>;
}

/** Creates and starts a container of the runtime image with the platform's limits, and waits for its first answer. */
export async function startDirect(docker: Dockerode, image: string, code: string): Promise<DirectContainer> {
  const base = mkdtempSync(path.join(os.tmpdir(), 'faas-bench-'));
  const codeDir = path.join(base, 'code');
  const socketDir = path.join(base, 's');
  mkdirSync(codeDir, { mode: 0o755 });
  mkdirSync(socketDir);
  chownSync(socketDir, 65534, 65534);
  writeFileSync(path.join(codeDir, 'index.mjs'), code, { mode: 0o644 });
  const socketPath = path.join(socketDir, 'runtime.sock');
  const BENCH_DIR = '/run/faas-bench';
  const options = toCreateOptions({
    name: `faas-bench-${randomBytes(4).toString('hex')}`,
    image,
    fn: 'bench',
    version: 1,
    memoryMb: 128,
    cpus: 1,
    pidsLimit: 128,
    tmpMb: 16,
    network: false,
    env: { FAAS_BENCH_LISTEN: `${BENCH_DIR}/runtime.sock` },
    codeDir,
    socketDir,
    owner: 'bench',
  });
  options.HostConfig!.Binds!.push(`${socketDir}:${BENCH_DIR}:rw`);
  const started = performance.now();
  const container = await docker.createContainer(options);
  await container.start();
  const client = new Client('http://localhost', { socketPath });
  for (;;) {
    try {
      const res = await client.request({ path: '/', method: 'GET' });
      await res.body.dump();
      break;
    } catch {
      await new Promise((r) => setTimeout(r, 2));
    }
    if (performance.now() - started > 15_000) throw new Error('direct container did not answer within 15 s');
  }
  const coldMs = performance.now() - started;
  await client.close();
  return {
    id: container.id,
    socketPath,
    coldMs,
    async remove() {
      await container.remove({ force: true }).catch(() => {});
      rmSync(base, { recursive: true, force: true });
    },
  };
}
