// Pure: a ContainerSpec to the Docker create options that enforce its limits and isolation.
import type Dockerode from 'dockerode';
import type { ContainerSpec } from '../container-driver.js';
import { INVOKER_SOCKET_NAME } from '../../../runtime-images/node/protocol.js';
import { FUNCTION_NETWORK } from './function-network.js';

export const LABEL = {
  managed: 'faas.managed',
  fn: 'faas.function',
  version: 'faas.version',
  owner: 'faas.owner',
  prewarm: 'faas.prewarm',
} as const;

/** Where the runtime finds the code and its socket inside the container. */
export const CONTAINER_CODE_DIR = '/fn';
export const CONTAINER_SOCKET_DIR = '/run/faas';
/** uid:gid of `nobody`: function code never runs as root. */
export const CONTAINER_USER = '65534:65534';

const MIB = 1024 * 1024;

export function toCreateOptions(spec: ContainerSpec): Dockerode.ContainerCreateOptions {
  const memoryBytes = spec.memoryMb * MIB;
  const env: Record<string, string> = {
    ...spec.env,
    FAAS_FUNCTION_NAME: spec.fn,
    FAAS_FUNCTION_VERSION: String(spec.version),
    FAAS_MEMORY_MB: String(spec.memoryMb),
    FAAS_FUNCTION_FILE: `${CONTAINER_CODE_DIR}/index.mjs`,
    FAAS_INVOKER_SOCKET: `${CONTAINER_SOCKET_DIR}/${INVOKER_SOCKET_NAME}`,
    ...(spec.prewarm ? { FAAS_PREWARM: '1' } : {}),
  };
  return {
    name: spec.name,
    Image: spec.image,
    Env: Object.entries(env).map(([key, value]) => `${key}=${value}`),
    User: CONTAINER_USER,
    Labels: {
      [LABEL.managed]: 'true',
      [LABEL.fn]: spec.fn,
      [LABEL.version]: String(spec.version),
      [LABEL.owner]: spec.owner,
      ...(spec.prewarm ? { [LABEL.prewarm]: 'true' } : {}),
    },
    HostConfig: {
      Memory: memoryBytes,
      MemorySwap: memoryBytes,
      NanoCpus: Math.round(spec.cpus * 1e9),
      PidsLimit: spec.pidsLimit,
      ReadonlyRootfs: true,
      Tmpfs: { '/tmp': `rw,noexec,nosuid,nodev,mode=1777,size=${spec.tmpMb}m` },
      CapDrop: ['ALL'],
      SecurityOpt: ['no-new-privileges'],
      // Outbound network: the platform's own network, firewalled off this host and private ranges (function-network.ts).
      NetworkMode: spec.network ? FUNCTION_NETWORK : 'none',
      // Both read-only: the container has no writable or executable storage on the host's disk, and
      // cannot replace the socket it connects to.
      Binds: [`${spec.codeDir}:${CONTAINER_CODE_DIR}:ro`, `${spec.socketDir}:${CONTAINER_SOCKET_DIR}:ro`],
      Privileged: false,
      AutoRemove: false,
      OomKillDisable: false,
      RestartPolicy: { Name: 'no' },
      LogConfig: { Type: 'json-file', Config: { 'max-size': '1m', 'max-file': '1' } },
    },
  };
}
