// The small interface between the container pool and a container engine (Docker now, Kubernetes later).
import type { FunctionBindings } from '../../runtime-images/node/protocol.js';

/** Everything needed to create one function container. Sizes in the units named. */
export interface ContainerSpec {
  /** Engine-side name, unique: `faas-<fn>-<shortId>`. */
  name: string;
  image: string;
  fn: string;
  version: number;
  memoryMb: number;
  cpus: number;
  pidsLimit: number;
  /** Size of the tmpfs mounted at /tmp. */
  tmpMb: number;
  /** Outbound network allowed (bridge); otherwise network mode none. */
  network: boolean;
  /** Function's env vars; the driver adds the runtime's own FAAS_* variables. */
  env: Record<string, string>;
  /** How the runtime calls the function: the export ('' : found by shape) and the HTTP event format of Lambda handlers. */
  handler?: string;
  eventFormat?: '1.0' | '2.0';
  /** The handler contract ('' : found by shape). */
  style?: string;
  /** The function's KV and queue bindings (the runtime makes them env entries), when it has any. */
  bindings?: FunctionBindings;
  /** Host directory holding the bundle `index.mjs`, mounted read-only at /fn. */
  codeDir: string;
  /** Host directory mounted read-only at /run/faas; the invoker listens on `invoker.sock` there and the runtime connects to it. */
  socketDir: string;
  /** Label value identifying the platform instance that owns the container (for cleanup). */
  owner: string;
  /**
   * A prewarmed runtime with no function yet (fn ''): it waits for its function, whose code the pool
   * writes into codeDir before assigning it. It is renamed and its limits updated then.
   */
  prewarm?: boolean;
}

export interface ContainerExit {
  running: boolean;
  exitCode: number | null;
  /** The kernel's OOM killer killed a process of the container (cgroup memory limit). */
  oomKilled: boolean;
}

/** What a container's cgroup measured, read cheaply on the engine's host. */
export interface ContainerUsage {
  /** CPU time since the container started, ns. */
  cpuNs: number;
  /** Peak memory, bytes: since the last reset when `peakReset`, else since the container started. */
  peakMemoryBytes: number;
  /** The peak was reset after this reading (cgroup v1), so the next reading's peak is the next call's. */
  peakReset: boolean;
}

/** The invoker's end of a container's channel: the runtime dials it (runtime-listener.ts), the connection takes its sockets. */
export interface ChannelListener {
  take(timeoutMs: number): Promise<import('node:net').Socket>;
  /** Bounds the connections the runtime may hold open (its function's concurrency plus spares). */
  setConcurrency(concurrency: number): void;
  close(): Promise<void>;
}

/**
 * What a container needs on the engine's host besides the engine itself: the directory its runtime dials
 * the invoker in, and directories of code. The Docker driver's host-directories.ts keeps them under the
 * data directory as bind mounts; a driver for another engine provides its own.
 */
export interface ContainerHost {
  /** Where container `id`'s channel lives (ContainerSpec.socketDir); no I/O. */
  socketDirOf(id: string): string;
  /** Creates the channel directory of container `id` with the invoker listening in it. */
  openChannel(id: string, concurrency: number): Promise<ChannelListener>;
  /** The directory holding a function's code, shared by its containers. */
  codeDirFor(spec: { name: string; codeSha256: string }): Promise<string>;
  /** A code directory of container `id`'s own, empty (a prewarmed runtime's, filled when assigned). */
  ownCodeDir(id: string): Promise<string>;
  /** Copies the function's code into a container's own code directory. */
  placeCode(spec: { name: string; codeSha256: string }, ownCodeDir: string): Promise<void>;
  /** Removes container `id`'s host directories. */
  release(id: string, ownCodeDir?: string): Promise<void>;
  /** Removes the channel and code directories an earlier run left behind. */
  clearLeftovers(): Promise<void>;
}

export interface ManagedContainer {
  id: string;
  name: string;
  fn: string;
  version: number;
  owner: string;
}

export interface ContainerDriver {
  /** Creates and starts the container; resolves once the engine reports it started. Returns its id. */
  run(spec: ContainerSpec): Promise<string>;
  /** Changes the memory (swap equal) and CPU limits of a running container. */
  update(id: string, limits: { memoryMb: number; cpus: number }): Promise<void>;
  /** Renames a container (a prewarmed one, once assigned to a function). */
  rename(id: string, name: string): Promise<void>;
  /** Kills and removes; resolves when gone. Never throws for a container already gone. */
  remove(id: string): Promise<void>;
  /** Stops every process of the container where it is (no CPU time) until resume(); memory stays. */
  pause(id: string): Promise<void>;
  /** Lets a paused container run again; resolves once it can serve. Never throws for one not paused. */
  resume(id: string): Promise<void>;
  /**
   * A call wants a container whose pause is in progress: the pause resolves as soon as it can, without
   * waiting for the container to be wholly frozen (the resume that follows undoes it). Optional: where
   * absent, the resume waits for the pause.
   */
  stopPausing?(id: string): void;
  /** State of a container, used to tell an OOM kill from a crash. Undefined when it no longer exists. */
  inspectExit(id: string): Promise<ContainerExit | undefined>;
  /** Tail of the container's own stdout/stderr (runtime crash messages such as V8's heap OOM). */
  logsTail(id: string, bytes: number): Promise<string>;
  /**
   * CPU time and peak memory from the container's cgroup, fast enough to read after every invocation
   * (undefined where the cgroup is not readable, e.g. a remote engine); resets the peak where it can.
   */
  usage(id: string): Promise<ContainerUsage | undefined>;
  /** The platform's containers (by label), optionally only one owner's. */
  list(owner?: string): Promise<ManagedContainer[]>;
}
