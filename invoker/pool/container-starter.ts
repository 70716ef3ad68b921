// Brings containers up through the driver: fresh for a function, prewarmed with no function, or a prewarmed
// one assigned a function (its code written into the container's own read-only code mount, then /init).
import { randomBytes } from 'node:crypto';
import { copyFile, mkdir, rm } from 'node:fs/promises';
import path from 'node:path';
import type { FunctionSpec } from '../../core/function-spec.js';
import type { ContainerDriver } from '../driver/container-driver.js';
import type { RuntimeConnectionFactory } from '../runtime/runtime-connection.js';
import { RuntimeListener } from '../runtime/runtime-listener.js';
import type { Entry } from './container-entry.js';

export interface ContainerStarterOptions {
  driver: ContainerDriver;
  connect: RuntimeConnectionFactory;
  codeCache: { dirFor(spec: FunctionSpec): Promise<string> };
  image: string;
  /** Listening sockets go in <dataDir>/sock/<id>, prewarmed runtimes' code in <dataDir>/prewarm/<id>. */
  dataDir: string;
  /** Label value naming this invoker's containers. */
  owner: string;
  pidsLimit: number;
  tmpMb: number;
  /** Longest container start (create → runtime ready). Default 15 000. */
  startTimeoutMs?: number;
}

const CODE_FILE = 'index.mjs';

export class ContainerStarter {
  constructor(private readonly options: ContainerStarterOptions) {}

  newId(): string {
    return randomBytes(6).toString('hex');
  }

  socketDirOf(id: string): string {
    return path.join(this.options.dataDir, 'sock', id);
  }

  private get startTimeoutMs(): number {
    return this.options.startTimeoutMs ?? 15_000;
  }

  private async run(entry: Entry, fields: { name: string; fn: string; memoryMb: number; cpus: number; network: boolean; env: Record<string, string>; codeDir: string; prewarm: boolean }): Promise<boolean> {
    // Only root may enter the parent on the host; the container sees the socket's own directory, read-only.
    await mkdir(path.dirname(entry.socketDir), { recursive: true, mode: 0o700 });
    entry.listener = await RuntimeListener.open(entry.socketDir, entry.concurrency);
    entry.dockerId = await this.options.driver.run({
      ...fields,
      image: this.options.image,
      version: entry.version,
      pidsLimit: this.options.pidsLimit,
      tmpMb: this.options.tmpMb,
      socketDir: entry.socketDir,
      owner: this.options.owner,
    });
    if (!entry.removal) return true;
    // Removed while the engine was creating it.
    await this.options.driver.remove(entry.dockerId);
    return false;
  }

  /** A fresh container of the function; resolves when its runtime has loaded the code (false if removed meanwhile). */
  async startFunction(entry: Entry, spec: FunctionSpec): Promise<boolean> {
    const codeDir = await this.options.codeCache.dirFor(spec);
    const running = await this.run(entry, {
      name: `faas-${spec.name}-${entry.id}`,
      fn: spec.name,
      memoryMb: spec.memoryMb,
      cpus: spec.cpus,
      network: spec.network,
      env: spec.env,
      codeDir,
      prewarm: false,
    });
    if (!running) return false;
    entry.connection = this.options.connect(entry.listener!, spec.concurrency, { connectTimeoutMs: spec.timeoutMs });
    await entry.connection.waitReady(this.startTimeoutMs);
    return true;
  }

  /** A runtime with no function yet, network none, default limits; resolves when it answers. */
  async startPrewarmed(entry: Entry): Promise<boolean> {
    entry.ownCodeDir = path.join(this.options.dataDir, 'prewarm', entry.id);
    await mkdir(entry.ownCodeDir, { recursive: true, mode: 0o755 });
    const running = await this.run(entry, {
      name: `faas-prewarm-${entry.id}`,
      fn: '',
      memoryMb: entry.memoryMb,
      cpus: 1,
      network: false,
      env: {},
      codeDir: entry.ownCodeDir,
      prewarm: true,
    });
    if (!running) return false;
    const probe = this.options.connect(entry.listener!, 1);
    try {
      await probe.waitReady(this.startTimeoutMs);
    } finally {
      await probe.close();
    }
    return true;
  }

  /**
   * Gives a ready prewarmed container (entry has its dockerId, socketDir and ownCodeDir) to the function:
   * writes the code into its code mount, renames it, sets its limits, and loads the function.
   */
  async assign(entry: Entry, spec: FunctionSpec, prewarmedMemoryMb: number): Promise<void> {
    const dockerId = entry.dockerId!;
    const codeDir = await this.options.codeCache.dirFor(spec);
    await copyFile(path.join(codeDir, CODE_FILE), path.join(entry.ownCodeDir!, CODE_FILE));
    // The limits before the code loads (a large module needs its memory); the engine's rename, a round trip
    // of several ms that nothing inside the container waits for, runs beside the load.
    if (spec.memoryMb !== prewarmedMemoryMb || spec.cpus !== 1) await this.options.driver.update(dockerId, { memoryMb: spec.memoryMb, cpus: spec.cpus });
    const renamed = this.options.driver.rename(dockerId, `faas-${spec.name}-${entry.id}`);
    renamed.catch(() => {});
    entry.listener!.setConcurrency(spec.concurrency);
    entry.connection = this.options.connect(entry.listener!, spec.concurrency, { connectTimeoutMs: spec.timeoutMs });
    await Promise.all([
      entry.connection.init(
        { file: `/fn/${CODE_FILE}`, name: spec.name, version: String(spec.version), memoryMb: spec.memoryMb, env: spec.env },
        this.startTimeoutMs,
      ),
      renamed,
    ]);
  }

  /** Closes the connection, removes the container and its directories. */
  async remove(entry: Entry, onError: (err: Error) => void): Promise<void> {
    await entry.connection?.close();
    // A container still being created is removed by run() once the engine returns its id.
    if (entry.dockerId) await this.options.driver.remove(entry.dockerId).catch(onError);
    await entry.listener?.close();
    await rm(entry.socketDir, { recursive: true, force: true });
    if (entry.ownCodeDir) await rm(entry.ownCodeDir, { recursive: true, force: true });
  }
}
