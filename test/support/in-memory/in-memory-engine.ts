// An in-memory container engine for fast, deterministic tests of the pool and the invoker: a ContainerDriver,
// a ContainerHost and a runtime connection factory with no Docker, no sockets and no files. Every delay is a
// timer, so fake timers drive it. Tests script it: how long a start takes, which starts fail, what a call answers.
import type { Socket } from 'node:net';
import type {
  ChannelListener,
  ContainerDriver,
  ContainerExit,
  ContainerHost,
  ContainerSpec,
  ContainerUsage,
  ManagedContainer,
} from '../../../invoker/driver/container-driver.js';
import type { RuntimeConnection, RuntimeConnectionFactory, RuntimeReply, RuntimeStream } from '../../../invoker/runtime/runtime-connection.js';
import { RuntimeConnectionError, RuntimeTimeoutError } from '../../../invoker/runtime/runtime-connection.js';
import type { InvocationRequest } from '../../../core/invoker.js';
import type { InitBody, ReadyBody } from '../../../runtime-images/node/protocol.js';

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export interface MemoryContainer {
  id: string;
  spec: ContainerSpec;
  name: string;
  memoryMb: number;
  cpus: number;
  state: 'running' | 'paused' | 'exited';
  exit?: ContainerExit;
  cpuNs: number;
}

export class InMemoryDriver implements ContainerDriver {
  readonly containers = new Map<string, MemoryContainer>();
  /** Every engine operation, in order: `run fn`, `pause id`, `resume id`, `remove id`, `update id`, `rename id`. */
  readonly operations: string[] = [];
  /** How long run() takes. */
  runMs = 50;
  /** The next runs fail with these errors, one each. */
  readonly failRuns: Error[] = [];
  /** How long pause() takes to report the container frozen, unless stopPausing() ends the wait. */
  pauseMs = 0;
  private readonly pausing = new Map<string, () => void>();
  private next = 0;

  async run(spec: ContainerSpec): Promise<string> {
    this.operations.push(`run ${spec.fn || 'prewarm'}`);
    await sleep(this.runMs);
    const failure = this.failRuns.shift();
    if (failure) throw failure;
    const id = `c${++this.next}`;
    this.containers.set(id, { id, spec, name: spec.name, memoryMb: spec.memoryMb, cpus: spec.cpus, state: 'running', cpuNs: 0 });
    return id;
  }

  async update(id: string, limits: { memoryMb: number; cpus: number }): Promise<void> {
    this.operations.push(`update ${id}`);
    const c = this.must(id);
    c.memoryMb = limits.memoryMb;
    c.cpus = limits.cpus;
  }

  async rename(id: string, name: string): Promise<void> {
    this.operations.push(`rename ${id}`);
    this.must(id).name = name;
  }

  async remove(id: string): Promise<void> {
    this.operations.push(`remove ${id}`);
    this.containers.delete(id);
  }

  async pause(id: string): Promise<void> {
    this.operations.push(`pause ${id}`);
    const c = this.must(id);
    if (c.state === 'running') c.state = 'paused';
    if (this.pauseMs > 0) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, this.pauseMs);
        this.pausing.set(id, () => {
          clearTimeout(timer);
          resolve();
        });
      });
      this.pausing.delete(id);
    }
  }

  stopPausing(id: string): void {
    this.operations.push(`stopPausing ${id}`);
    this.pausing.get(id)?.();
  }

  async resume(id: string): Promise<void> {
    this.operations.push(`resume ${id}`);
    const c = this.containers.get(id);
    if (c?.state === 'paused') c.state = 'running';
  }

  async inspectExit(id: string): Promise<ContainerExit | undefined> {
    const c = this.containers.get(id);
    if (!c) return undefined;
    return c.exit ?? { running: c.state !== 'exited', exitCode: null, oomKilled: false };
  }

  async logsTail(id: string): Promise<string> {
    return this.containers.has(id) ? '' : Promise.reject(new Error(`no such container: ${id}`));
  }

  async usage(id: string): Promise<ContainerUsage | undefined> {
    const c = this.containers.get(id);
    return c && { cpuNs: c.cpuNs, peakMemoryBytes: 0, peakReset: true };
  }

  async list(owner?: string): Promise<ManagedContainer[]> {
    return [...this.containers.values()]
      .filter((c) => owner === undefined || c.spec.owner === owner)
      .map((c) => ({ id: c.id, name: c.name, fn: c.spec.fn, version: c.spec.version, owner: c.spec.owner }));
  }

  /** Containers of a function (by the spec it was created with) in a state. */
  of(fn: string, state?: MemoryContainer['state']): MemoryContainer[] {
    return [...this.containers.values()].filter((c) => c.spec.fn === fn && (state === undefined || c.state === state));
  }

  private must(id: string): MemoryContainer {
    const c = this.containers.get(id);
    if (!c) throw new Error(`no such container: ${id}`);
    return c;
  }
}

/** Channel and code directories as names only. */
export class InMemoryHost implements ContainerHost {
  readonly released: string[] = [];
  socketDirOf(id: string): string {
    return `/mem/sock/${id}`;
  }
  async openChannel(): Promise<ChannelListener> {
    return {
      take: () => Promise.reject(new Error('in-memory channel: the runtime is in-memory too')) as Promise<Socket>,
      setConcurrency() {},
      async close() {},
    };
  }
  async codeDirFor(spec: { codeSha256: string }): Promise<string> {
    return `/mem/code/${spec.codeSha256}`;
  }
  async ownCodeDir(id: string): Promise<string> {
    return `/mem/prewarm/${id}`;
  }
  async placeCode(): Promise<void> {}
  async release(id: string): Promise<void> {
    this.released.push(id);
  }
  async clearLeftovers(): Promise<void> {}
}

/** What a call to the in-memory runtime answers; by default 200 "ok" at once. */
export type MemoryHandler = (request: InvocationRequest) => Promise<RuntimeReply>;

export class InMemoryRuntime {
  /** Time from the container's start to its runtime being ready. */
  readyMs = 20;
  /** Time a prewarmed runtime takes to load its function. */
  initMs = 5;
  handler: MemoryHandler = async () => ({ status: 200, headers: {}, body: Buffer.from('ok'), logs: '' });
  /** Calls in flight now, and the most there ever were at once. */
  inFlight = 0;
  maxInFlight = 0;

  readonly connect: RuntimeConnectionFactory = () => {
    let closed = false;
    const runtime = this;
    const connection: RuntimeConnection = {
      async waitReady() {
        await sleep(runtime.readyMs);
      },
      async init(body: InitBody): Promise<ReadyBody> {
        await sleep(runtime.initMs);
        void body;
        return { ready: true, initMs: runtime.initMs };
      },
      async invoke(request, timeoutMs) {
        if (closed) throw new RuntimeConnectionError('connection closed', { notDelivered: true });
        runtime.inFlight += 1;
        runtime.maxInFlight = Math.max(runtime.maxInFlight, runtime.inFlight);
        let timer: NodeJS.Timeout | undefined;
        // As the real connection: no whole answer by the deadline is a timeout.
        const deadline = new Promise<never>((_, reject) => {
          timer = setTimeout(() => reject(new RuntimeTimeoutError(`no answer within ${timeoutMs} ms`)), timeoutMs);
        });
        try {
          return await Promise.race([runtime.handler(request), deadline]);
        } finally {
          clearTimeout(timer);
          runtime.inFlight -= 1;
        }
      },
      async open(request, timeoutMs): Promise<RuntimeReply | RuntimeStream> {
        return connection.invoke(request, timeoutMs);
      },
      async close() {
        closed = true;
      },
    };
    return connection;
  };
}

/** A ContainerPool on this engine, with small defaults a test may override. */
export function inMemoryPool(
  engine: { driver: InMemoryDriver; runtime: InMemoryRuntime },
  over: Partial<import('../../../invoker/pool/container-pool.js').ContainerPoolOptions> = {},
): import('../../../invoker/pool/container-pool.js').ContainerPoolOptions {
  return {
    driver: engine.driver,
    host: new InMemoryHost(),
    connect: engine.runtime.connect,
    image: 'runtime:test',
    owner: 'unit',
    pidsLimit: 64,
    tmpMb: 16,
    poolMemoryMb: 1_024,
    maxQueue: 10,
    maxQueueWaitMs: 5_000,
    clock: () => Date.now(),
    ...over,
  };
}
