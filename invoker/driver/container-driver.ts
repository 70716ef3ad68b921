// The small interface between the container pool and a container engine (Docker now, Kubernetes later).

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

export interface ContainerStats {
  memoryBytes: number;
  memoryMaxBytes: number;
  cpuNs: number;
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
  /** State of a container, used to tell an OOM kill from a crash. Undefined when it no longer exists. */
  inspectExit(id: string): Promise<ContainerExit | undefined>;
  /** Tail of the container's own stdout/stderr (runtime crash messages such as V8's heap OOM). */
  logsTail(id: string, bytes: number): Promise<string>;
  stats(id: string): Promise<ContainerStats>;
  /**
   * CPU time and peak memory from the container's cgroup, fast enough to read after every invocation
   * (undefined where the cgroup is not readable, e.g. a remote engine); resets the peak where it can.
   */
  usage(id: string): Promise<ContainerUsage | undefined>;
  /** The platform's containers (by label), optionally only one owner's. */
  list(owner?: string): Promise<ManagedContainer[]>;
}
