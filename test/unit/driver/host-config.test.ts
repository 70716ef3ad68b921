import { describe, expect, it } from 'vitest';
import type { ContainerSpec } from '../../../invoker/driver/container-driver.js';
import { toCreateOptions } from '../../../invoker/driver/docker/host-config.js';
import { FUNCTION_NETWORK } from '../../../invoker/driver/docker/function-network.js';

const spec = (over: Partial<ContainerSpec> = {}): ContainerSpec => ({
  name: 'faas-hello-abc',
  image: 'faas-runtime-node:1',
  fn: 'hello',
  version: 3,
  memoryMb: 128,
  cpus: 0.5,
  pidsLimit: 64,
  tmpMb: 16,
  network: false,
  env: { GREETING: 'hi' },
  codeDir: '/data/code/sha',
  socketDir: '/data/sock/abc',
  owner: 'inv-1',
  ...over,
});

describe('toCreateOptions', () => {
  it('applies memory without swap, CPU and pids limits', () => {
    const host = toCreateOptions(spec()).HostConfig!;
    expect(host).toMatchObject({ Memory: 134_217_728, MemorySwap: 134_217_728, NanoCpus: 500_000_000, PidsLimit: 64 });
  });

  it('isolates the container: read-only root, small /tmp, no capabilities, no privilege gain, nobody user, no network', () => {
    const options = toCreateOptions(spec());
    expect(options.User).toBe('65534:65534');
    expect(options.HostConfig).toMatchObject({
      ReadonlyRootfs: true,
      CapDrop: ['ALL'],
      SecurityOpt: ['no-new-privileges'],
      NetworkMode: 'none',
      Privileged: false,
    });
    expect(options.HostConfig!.Tmpfs).toEqual({
      '/tmp': 'rw,noexec,nosuid,nodev,mode=1777,size=16m',
      // The secrets' own: in memory, the runtime's user's alone.
      '/run/secrets': 'rw,noexec,nosuid,nodev,mode=0700,uid=65534,gid=65534,size=1m',
    });
  });

  it.each([
    [false, 'none'],
    [true, FUNCTION_NETWORK],
  ])('network %s → NetworkMode %s', (network, mode) => {
    expect(toCreateOptions(spec({ network })).HostConfig!.NetworkMode).toBe(mode);
  });

  it('mounts the code and the socket directory read-only, nothing else', () => {
    expect(toCreateOptions(spec()).HostConfig!.Binds).toEqual(['/data/code/sha:/fn:ro', '/data/sock/abc:/run/faas:ro']);
  });

  it("gives the function its env plus the runtime's own variables, and labels the container", () => {
    const options = toCreateOptions(spec());
    expect(options.Env).toEqual(
      expect.arrayContaining(['GREETING=hi', 'FAAS_FUNCTION_NAME=hello', 'FAAS_FUNCTION_VERSION=3', 'FAAS_INVOKER_SOCKET=/run/faas/invoker.sock']),
    );
    expect(options.Env!.some((e) => e.startsWith('FAAS_TOKEN') || e.startsWith('REDIS'))).toBe(false);
    expect(options.Labels).toEqual({ 'faas.managed': 'true', 'faas.function': 'hello', 'faas.version': '3', 'faas.owner': 'inv-1' });
  });
});
