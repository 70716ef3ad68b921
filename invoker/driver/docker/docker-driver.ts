// ContainerDriver on the Docker engine through dockerode.
import type Dockerode from 'dockerode';
import type { ContainerDriver, ContainerExit, ContainerSpec, ContainerUsage, ManagedContainer } from '../container-driver.js';
import { CgroupFreezer } from './cgroup-freezer.js';
import { CgroupLimits } from './cgroup-limits.js';
import { CgroupStats } from './cgroup-stats.js';
import { LABEL, toCreateOptions } from './host-config.js';
import { ensureFunctionNetwork, installEgressRules, runIptables, type FunctionNetwork, type IptablesRunner } from './function-network.js';

const statusOf = (err: unknown) => (err as { statusCode?: number }).statusCode;

export class DockerDriver implements ContainerDriver {
  /** Set once prepareNetwork() succeeded; until then functions with network are refused (fail closed). */
  private functionNetwork: FunctionNetwork | undefined;
  private networkProblem = 'the function network was not prepared (DockerDriver.prepareNetwork)';

  constructor(
    private readonly docker: Dockerode,
    private readonly cgroups = new CgroupStats(),
    private readonly freezer = new CgroupFreezer(),
    private readonly limits = new CgroupLimits(),
  ) {}

  /**
   * Creates the function network if missing and installs its firewall rules (Docker-specific, so not part of
   * ContainerDriver). Rejects when either fails; functions with network are then refused by run().
   */
  async prepareNetwork(options: { allow?: readonly string[]; iptables?: IptablesRunner } = {}): Promise<FunctionNetwork> {
    try {
      const network = await ensureFunctionNetwork(this.docker);
      await installEgressRules(network, options.allow ?? [], options.iptables ?? runIptables);
      this.functionNetwork = network;
      return network;
    } catch (err) {
      this.functionNetwork = undefined;
      this.networkProblem = `the function network's firewall is not in place: ${(err as Error).message}`;
      throw err;
    }
  }

  async run(spec: ContainerSpec): Promise<string> {
    if (spec.network && !this.functionNetwork) throw new Error(`outbound network refused: ${this.networkProblem}`);
    const container = await this.docker.createContainer(toCreateOptions(spec));
    try {
      await container.start();
    } catch (err) {
      await this.remove(container.id);
      throw err;
    }
    return container.id;
  }

  /** Through the cgroup where this host's cgroups are writable (about 15 ms faster), else through the engine. */
  async update(id: string, limits: { memoryMb: number; cpus: number }): Promise<void> {
    try {
      if (this.limits.set(id, limits)) return;
    } catch {
      // A write the kernel refused (memory below what the container uses, say): the engine decides.
    }
    const memory = limits.memoryMb * 1024 * 1024;
    await this.docker.getContainer(id).update({ Memory: memory, MemorySwap: memory, NanoCpus: Math.round(limits.cpus * 1e9) });
  }

  async rename(id: string, name: string): Promise<void> {
    await this.docker.getContainer(id).rename({ name });
  }

  async remove(id: string): Promise<void> {
    this.cgroups.forget(id);
    // A container frozen through its cgroup is running to the engine; runc thaws what it kills, but not
    // every runtime does, and a thaw costs a write.
    await this.freezer.thaw(id);
    try {
      await this.docker.getContainer(id).remove({ force: true, v: true });
    } catch (err) {
      // 404: already gone; 409: a removal is already in progress.
      if (statusOf(err) !== 404 && statusOf(err) !== 409) throw err;
    } finally {
      this.freezer.forget(id);
    }
  }

  /** Through the cgroup freezer where this host's cgroups are writable, else through the engine. */
  async pause(id: string): Promise<void> {
    if (await this.freezer.freeze(id)) return;
    await this.docker.getContainer(id).pause();
  }

  stopPausing(id: string): void {
    this.freezer.stopWaiting(id);
  }

  async resume(id: string): Promise<void> {
    if (await this.freezer.thaw(id)) return;
    try {
      await this.docker.getContainer(id).unpause();
    } catch (err) {
      // 409: not paused.
      if (statusOf(err) !== 409) throw err;
    }
  }

  async inspectExit(id: string): Promise<ContainerExit | undefined> {
    try {
      const info = await this.docker.getContainer(id).inspect();
      return { running: info.State.Running, exitCode: info.State.Running ? null : info.State.ExitCode, oomKilled: info.State.OOMKilled };
    } catch (err) {
      if (statusOf(err) === 404) return undefined;
      throw err;
    }
  }

  async logsTail(id: string, bytes: number): Promise<string> {
    try {
      const raw = (await this.docker.getContainer(id).logs({ stdout: true, stderr: true, tail: 200, follow: false })) as unknown as Buffer;
      return demultiplex(raw).slice(-bytes);
    } catch (err) {
      if (statusOf(err) === 404) return '';
      throw err;
    }
  }

  async usage(id: string): Promise<ContainerUsage | undefined> {
    const usage = this.cgroups.read(id);
    if (!usage) return undefined;
    return { ...usage, peakReset: this.cgroups.resetPeak(id) };
  }

  async list(owner?: string): Promise<ManagedContainer[]> {
    const labels = [`${LABEL.managed}=true`, ...(owner ? [`${LABEL.owner}=${owner}`] : [])];
    const containers = await this.docker.listContainers({ all: true, filters: { label: labels } });
    return containers.map((c) => ({
      id: c.Id,
      name: (c.Names[0] ?? '').replace(/^\//, ''),
      fn: c.Labels[LABEL.fn] ?? '',
      version: Number(c.Labels[LABEL.version] ?? 0),
      owner: c.Labels[LABEL.owner] ?? '',
    }));
  }
}

/** Docker's log stream without a TTY frames each chunk with an 8-byte header (stream, 0, 0, 0, size). */
export function demultiplex(raw: Buffer): string {
  const parts: Buffer[] = [];
  let offset = 0;
  while (offset + 8 <= raw.length) {
    const size = raw.readUInt32BE(offset + 4);
    parts.push(raw.subarray(offset + 8, offset + 8 + size));
    offset += 8 + size;
  }
  return Buffer.concat(parts).toString('utf8');
}
