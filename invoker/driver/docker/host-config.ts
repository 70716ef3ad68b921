// Pure: a ContainerSpec to the Docker create options that enforce its limits and isolation.
import type Dockerode from 'dockerode';
import type { ContainerSpec } from '../container-driver.js';
import { CONTAINER, CONTAINER_CODE_FILE, INVOKER_SOCKET_NAME, RUNTIME_ENV } from '../../../runtime-images/node/protocol.js';
import { FUNCTION_NETWORK } from './function-network.js';

export const LABEL = {
  managed: 'faas.managed',
  fn: 'faas.function',
  version: 'faas.version',
  owner: 'faas.owner',
  prewarm: 'faas.prewarm',
} as const;

/** Where the runtime finds the code and its socket inside the container (the layout: protocol.ts). */
export const CONTAINER_CODE_DIR = CONTAINER.codeDir;
export const CONTAINER_SOCKET_DIR = CONTAINER.socketDir;
export const CONTAINER_USER = `${CONTAINER.uid}:${CONTAINER.gid}`;

const MIB = 1024 * 1024;

export function toCreateOptions(spec: ContainerSpec): Dockerode.ContainerCreateOptions {
  const memoryBytes = spec.memoryMb * MIB;
  const env: Record<string, string> = {
    ...spec.env,
    [RUNTIME_ENV.functionName]: spec.fn,
    [RUNTIME_ENV.functionVersion]: String(spec.version),
    [RUNTIME_ENV.memoryMb]: String(spec.memoryMb),
    [RUNTIME_ENV.functionFile]: CONTAINER_CODE_FILE,
    [RUNTIME_ENV.invokerSocket]: `${CONTAINER.socketDir}/${INVOKER_SOCKET_NAME}`,
    ...(spec.prewarm ? { [RUNTIME_ENV.prewarm]: '1' } : {}),
    ...(spec.handler ? { [RUNTIME_ENV.handler]: spec.handler } : {}),
    [RUNTIME_ENV.envKeys]: Object.keys(spec.env).join(','),
    [RUNTIME_ENV.network]: spec.network ? '1' : '0',
    ...(spec.eventFormat ? { [RUNTIME_ENV.eventFormat]: spec.eventFormat } : {}),
    ...(spec.style ? { [RUNTIME_ENV.style]: spec.style } : {}),
    ...(spec.bindings ? { [RUNTIME_ENV.bindings]: JSON.stringify(spec.bindings) } : {}),
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
      // /run/secrets: the function's secrets, written by its runtime at init, kept in memory only.
      Tmpfs: {
        '/tmp': `rw,noexec,nosuid,nodev,mode=1777,size=${spec.tmpMb}m`,
        [CONTAINER.secretsDir]: `rw,noexec,nosuid,nodev,mode=0700,uid=${CONTAINER.uid},gid=${CONTAINER.gid},size=1m`,
      },
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
