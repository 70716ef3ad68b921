// The Docker driver against the ContainerDriver contract.
import { DockerDriver } from '../../invoker/driver/docker/docker-driver.js';
import { ensureRuntimeImage } from '../../runtime-images/node/build-image.js';
import { requireDocker } from '../support/services.js';
import { describeContainerDriverContract } from './container-driver.contract.js';

describeContainerDriverContract('docker', async () => {
  const docker = await requireDocker();
  return {
    driver: new DockerDriver(docker),
    image: await ensureRuntimeImage(docker),
    async limitsOf(id) {
      const info = await docker.getContainer(id).inspect();
      return {
        memoryMb: info.HostConfig.Memory! / 1024 / 1024,
        cpus: info.HostConfig.NanoCpus! / 1e9,
        pidsLimit: info.HostConfig.PidsLimit!,
        readOnlyRoot: info.HostConfig.ReadonlyRootfs!,
        network: info.HostConfig.NetworkMode!,
        user: info.Config.User,
      };
    },
    async close() {},
  };
});
