// The Docker driver against the ContainerDriver contract.
import { CgroupLimits } from '../../invoker/driver/docker/cgroup-limits.js';
import { DockerDriver } from '../../invoker/driver/docker/docker-driver.js';
import { ensureRuntimeImage } from '../../runtime-images/node/build-image.js';
import { requireDocker } from '../support/services.js';
import { describeContainerDriverContract } from './container-driver.contract.js';

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
