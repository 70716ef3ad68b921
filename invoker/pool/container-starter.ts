// Brings containers up through the driver and the host: fresh for a function, prewarmed with no function,
// or a prewarmed one assigned a function (its code placed in the container's own read-only code mount,
// then /init). No filesystem work of its own: that is the ContainerHost's.
import { randomBytes } from 'node:crypto';
import type { FunctionSpec } from '../../core/function-spec.js';
import type { ContainerDriver, ContainerHost, ContainerSpec } from '../driver/container-driver.js';
import type { RuntimeConnectionFactory } from '../runtime/runtime-connection.js';
import { CONTAINER_CODE_FILE } from '../../runtime-images/node/protocol.js';
import type { Entry } from './container-entry.js';
import { openBindingServer, type BindingServices } from '../../bindings/binding-server.js';
import type { FunctionBindings } from '../../runtime-images/node/protocol.js';
import { DEFAULT_RUNTIME, type RuntimeName } from '../../core/function-settings.js';

/** How long after a prewarmed runtime is assigned the engine renames it: past a no-op's first call. */
const RENAME_DELAY_MS = 100;

export interface ContainerStarterOptions {
  driver: ContainerDriver;
  /** Channel and code directories on the engine's host. */
  host: ContainerHost;
  connect: RuntimeConnectionFactory;
  /** The image of the default runtime (node20). */
  image: string;
  /** The image of another runtime (--runtime node22…), built on first use; without it only the default runs here. */
  imageFor?: (runtime: RuntimeName) => Promise<string>;
  /** Label value naming this invoker's containers. */
  owner: string;
  pidsLimit: number;
  /** /tmp of prewarmed runtimes and of functions that ask for none of their own (FAAS_TMP_MB). */
  tmpMb: number;
  /** Longest container start (create → runtime ready). Default 15 000. */
  startTimeoutMs?: number;
  /** What a function's KV and queue bindings reach (KV in Redis, the async queues); without it, functions with bindings do not start here. */
  bindingServices?: BindingServices;
  /** The values of a function's secrets (its tenant's, opened); read at each start of a container of a function naming any. */
  secretsOf?: (fn: string, names: readonly string[]) => Promise<Record<string, string>>;
}

export class ContainerStarter {
  constructor(private readonly options: ContainerStarterOptions) {}

  newId(): string {
    return randomBytes(6).toString('hex');
  }

  /** Whether a prewarmed runtime can become this function's container: no network, the platform's /tmp (fixed at start). */
  fitsPrewarmed(spec: FunctionSpec): boolean {
    return !spec.network && (spec.tmpMb === 0 || spec.tmpMb === this.options.tmpMb);
  }

  socketDirOf(id: string): string {
    return this.options.host.socketDirOf(id);
  }

  private get startTimeoutMs(): number {
    return this.options.startTimeoutMs ?? 15_000;
  }

  /** The image a runtime's containers start from. */
  private async imageOf(runtime: RuntimeName | undefined): Promise<string> {
    if (runtime === undefined || runtime === DEFAULT_RUNTIME) return this.options.image;
    if (!this.options.imageFor) throw new Error(`runtime ${runtime} does not run on this invoker (only ${DEFAULT_RUNTIME})`);
    return this.options.imageFor(runtime);
  }

  /** Starts the container; a function with bindings gets its bindings socket first (its module may use one as it loads). */
  private async run(
    entry: Entry,
    image: string,
    fields: Pick<
      ContainerSpec,
      'name' | 'fn' | 'memoryMb' | 'cpus' | 'network' | 'env' | 'codeDir' | 'prewarm' | 'handler' | 'eventFormat' | 'style' | 'bindings'
    > & {
      tmpMb?: number;
    },
    withBindings?: FunctionSpec,
  ): Promise<boolean> {
    entry.listener = await this.options.host.openChannel(entry.id, entry.concurrency);
    if (withBindings) entry.bindings = await this.openBindings(entry, withBindings);
    entry.dockerId = await this.options.driver.run({
      image,
      version: entry.version,
      pidsLimit: this.options.pidsLimit,
      tmpMb: this.options.tmpMb,
      ...fields,
      socketDir: entry.socketDir,
      owner: this.options.owner,
    });
    if (!entry.removal) return true;
    // Removed while the engine was creating it.
    await this.options.driver.remove(entry.dockerId);
    return false;
  }

  /**
   * A fresh container of the function; resolves when its runtime has loaded the code (false if removed
   * meanwhile). A function with secrets starts as a runtime waiting for its function, then gets them over
   * its own channel with the init: they never go into the engine's container config (`docker inspect`).
   */
  async startFunction(entry: Entry, spec: FunctionSpec): Promise<boolean> {
    const [image, codeDir] = await Promise.all([this.imageOf(spec.runtime), this.options.host.codeDirFor(spec)]);
    const secrets = spec.secrets.length > 0 ? await this.secretsOf(spec) : undefined;
    const bindings = bindingsOf(spec);
    const running = await this.run(
      entry,
      image,
      {
        name: `faas-${spec.name}-${entry.id}`,
        fn: spec.name,
        memoryMb: spec.memoryMb,
        cpus: spec.cpus,
        network: spec.network,
        env: secrets ? {} : spec.env,
        handler: spec.handler,
        eventFormat: spec.eventFormat,
        style: spec.style,
        ...(bindings && !secrets ? { bindings } : {}),
        tmpMb: spec.tmpMb || this.options.tmpMb,
        codeDir,
        prewarm: secrets !== undefined,
      },
      bindings ? spec : undefined,
    );
    if (!running) return false;
    entry.connection = this.options.connect(entry.listener!, spec.concurrency, { connectTimeoutMs: spec.timeoutMs });
    await entry.connection.waitReady(this.startTimeoutMs);
    if (secrets) await entry.connection.init(this.initBody(spec, secrets), this.startTimeoutMs);
    return true;
  }

  private async secretsOf(spec: FunctionSpec): Promise<Record<string, string>> {
    if (!this.options.secretsOf) throw new Error(`function ${spec.name} names secrets, and this invoker has no secret store`);
    return this.options.secretsOf(spec.name, spec.secrets);
  }

  private initBody(spec: FunctionSpec, secrets: Record<string, string> | undefined) {
    return {
      file: CONTAINER_CODE_FILE,
      name: spec.name,
      version: String(spec.version),
      memoryMb: spec.memoryMb,
      env: spec.env,
      ...(secrets ? { secrets } : {}),
      handler: spec.handler,
      eventFormat: spec.eventFormat,
      style: spec.style,
      ...(bindingsOf(spec) ? { bindings: bindingsOf(spec) } : {}),
    };
  }

  private async openBindings(entry: Entry, spec: FunctionSpec): Promise<{ close(): Promise<void> }> {
    if (!this.options.bindingServices) throw new Error(`function ${spec.name} has KV or queue bindings, which this invoker cannot serve`);
    return openBindingServer(entry.socketDir, spec, this.options.bindingServices);
  }

  /** A runtime with no function yet, network none, default limits; resolves when it answers. */
  async startPrewarmed(entry: Entry, runtime: RuntimeName = DEFAULT_RUNTIME): Promise<boolean> {
    const image = await this.imageOf(runtime);
    entry.ownCodeDir = await this.options.host.ownCodeDir(entry.id);
    const running = await this.run(entry, image, {
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
      // A first call costs the runtime several ms of compiling its own invocation path: paid here, not by
      // the first call of the function it is given. A failure only loses that.
      await probe.warmUp?.(this.startTimeoutMs).catch(() => {});
    } finally {
      await probe.close();
    }
    return true;
  }

  /**
   * Gives a ready prewarmed container (entry has its dockerId, socketDir and ownCodeDir) to the function:
   * places the code in its code mount, renames it, sets its limits, and loads the function.
   */
  async assign(entry: Entry, spec: FunctionSpec, prewarmedMemoryMb: number): Promise<void> {
    const dockerId = entry.dockerId!;
    // The engine's rename (its name shows the function in `docker ps`) is a round trip through dockerd of
    // 10–30 ms that nothing inside the container or the platform waits for (awaited, it was half of a cold
    // start). Started beside the load, dockerd and containerd took the cores the code copy, the import and the
    // first call needed (first call p50 18 → 14.5 ms with it RENAME_DELAY_MS later); a container removed
    // meanwhile fails it, unheard.
    setTimeout(() => this.options.driver.rename(dockerId, `faas-${spec.name}-${entry.id}`).catch(() => {}), RENAME_DELAY_MS).unref();
    const [secrets] = await Promise.all([spec.secrets.length > 0 ? this.secretsOf(spec) : undefined, this.options.host.placeCode(spec, entry.ownCodeDir!)]);
    if (bindingsOf(spec)) entry.bindings = await this.openBindings(entry, spec);
    // The limits before the code loads (a large module needs its memory).
    if (spec.memoryMb !== prewarmedMemoryMb || spec.cpus !== 1) await this.options.driver.update(dockerId, { memoryMb: spec.memoryMb, cpus: spec.cpus });
    entry.listener!.setConcurrency(spec.concurrency);
    entry.connection = this.options.connect(entry.listener!, spec.concurrency, { connectTimeoutMs: spec.timeoutMs });
    await entry.connection.init(this.initBody(spec, secrets), this.startTimeoutMs);
  }

  /** Closes the connection, removes the container and its host directories. */
  async remove(entry: Entry, onError: (err: Error) => void): Promise<void> {
    await entry.connection?.close();
    // A container still being created is removed by run() once the engine returns its id.
    if (entry.dockerId) await this.options.driver.remove(entry.dockerId).catch(onError);
    await entry.listener?.close();
    await entry.bindings?.close();
    await this.options.host.release(entry.id, entry.ownCodeDir);
  }

  /** Removes the containers and host directories an earlier run of this owner left behind; returns how many containers. */
  async clearLeftovers(): Promise<number> {
    const leftovers = await this.options.driver.list(this.options.owner);
    await Promise.all(leftovers.map((c) => this.options.driver.remove(c.id)));
    await this.options.host.clearLeftovers();
    return leftovers.length;
  }
}

/** The bindings the runtime makes env entries of, or undefined when the function has none. */
function bindingsOf(spec: FunctionSpec): FunctionBindings | undefined {
  const kv = spec.kv ?? [];
  const queues = Object.keys(spec.queueBindings ?? {});
  return kv.length + queues.length > 0 ? { kv, queues } : undefined;
}
