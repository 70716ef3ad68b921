// The Docker driver against the ContainerDriver contract.
import { CgroupLimits } from '../../invoker/driver/docker/cgroup-limits.js';
import { DockerDriver } from '../../invoker/driver/docker/docker-driver.js';
import { ensureRuntimeImage } from '../../runtime-images/node/build-image.js';
import { requireDocker } from '../support/services.js';
import { describeContainerDriverContract } from './container-driver.contract.js';
import { describeDriverLifecycleContract } from '../support/driver-lifecycle.contract.js';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import { RuntimeListener } from '../../invoker/runtime/runtime-listener.js';

const cgroups = new CgroupLimits();

describeContainerDriverContract('docker', async () => {
  const docker = await requireDocker();
  return {
    driver: new DockerDriver(docker),
    image: await ensureRuntimeImage(docker),
    async limitsOf(id) {
      const info = await docker.getContainer(id).inspect();
      // Memory and CPU as the kernel enforces them (the driver updates them through the cgroup, which the
      // engine does not learn of).
      const inForce = cgroups.get(id)!;
      return {
        memoryMb: inForce.memoryMb,
        cpus: inForce.cpus,
        pidsLimit: info.HostConfig.PidsLimit!,
        readOnlyRoot: info.HostConfig.ReadonlyRootfs!,
        network: info.HostConfig.NetworkMode!,
        user: info.Config.User,
      };
    },
    async close() {},
  };
});

describeDriverLifecycleContract('docker', async () => {
  const docker = await requireDocker();
  const driver = new DockerDriver(docker);
  const image = await ensureRuntimeImage(docker);
  const base = mkdtempSync(path.join(os.tmpdir(), 'faas-life-'));
  const listeners: RuntimeListener[] = [];
  const owner = `life-${randomUUID().slice(0, 8)}`;
  return {
    driver,
    owner,
    async run(fn) {
      const id = randomUUID().slice(0, 8);
      const codeDir = path.join(base, `code-${id}`);
      mkdirSync(codeDir, { mode: 0o755 });
      writeFileSync(path.join(codeDir, 'index.mjs'), `export default () => 'hi';`, { mode: 0o644 });
      const socketDir = path.join(base, `s-${id}`);
      listeners.push(await RuntimeListener.open(socketDir));
      return driver.run({
        name: `faas-${fn}-${id}`,
        image,
        fn,
        version: 1,
        memoryMb: 128,
        cpus: 0.5,
        pidsLimit: 64,
        tmpMb: 16,
        network: false,
        env: {},
        codeDir,
        socketDir,
        owner,
      });
    },
    async close() {
      for (const listener of listeners) await listener.close();
      rmSync(base, { recursive: true, force: true });
    },
  };
});
