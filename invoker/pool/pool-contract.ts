// The container pool's contract with its users: how it is configured, and the lease a call holds.
import type { RetiredContainer } from '../../core/invoker.js';
import type { RuntimeConnection } from '../runtime/runtime-connection.js';
import type { CallUsage, CrashReport } from './container-probes.js';
import type { ContainerStarterOptions } from './container-starter.js';

/** Logger subset (pino-compatible). */
export interface PoolLog {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
}

/** What containers are started with (ContainerStarterOptions), plus how the pool behaves. */
export interface ContainerPoolOptions extends ContainerStarterOptions {
  /** Memory all containers of this pool may use together. */
  poolMemoryMb: number;
  /** Waiting requests per function before QueueFullError (429). */
  maxQueue: number;
  /** Longest wait in the queue before QueueTimeoutError (503). */
  maxQueueWaitMs: number;
  /** Prewarmed runtimes kept ready for cold starts of functions without network. Default 0 (off). */
  prewarmCount?: number;
  /** Memory limit prewarmed runtimes start with. Default 128. */
  prewarmMemoryMb?: number;
  /** How often idle containers are reaped (and paused). Default 250. */
  reapIntervalMs?: number;
  /**
   * Idle containers are paused (frozen: no CPU time, memory kept) once idle this long, checked at each
   * reap; a request resumes one in about 0.1 ms. Undefined: never paused.
   */
  pauseAfterMs?: number;
  /** Told of every function container removed, with its lifetime figures (for metering). */
  onRetired?: (container: RetiredContainer) => void;
  /** A tenant's maxContainers quota (undefined: none); read on every scale-up, so it must answer from memory. */
  tenantLimit?: (tenant: string) => number | undefined;
  /** The tenant's live containers on other invokers (the quota holds across invokers); read from memory too. */
  tenantElsewhere?: (tenant: string) => number;
  /** Whether an alias routes calls to this version (its minScale holds only then). Default: every version. */
  keepsWarm?: (fn: string, version: number) => boolean;
  clock?: () => number;
  log?: PoolLog;
}

/** A container slot handed to one invocation; give it back with release() or discard(). */
export interface Lease {
  readonly containerId: string;
  readonly fn: string;
  readonly version: number;
  readonly connection: RuntimeConnection;
  /** The request waited for this container to start (its first invocation, and it was not started ahead, as by minScale). */
  readonly coldStart: boolean;
  readonly initMs?: number;
  /** CPU time of the init, when cold and the engine could tell. */
  readonly initCpuMs?: number;
  readonly queueWaitMs: number;
  /**
   * What this call used, from the container's cgroup (containers of concurrency 1; undefined otherwise):
   * call it before release(), while no other request runs in the container.
   */
  measure(): Promise<CallUsage | undefined>;
  /** Why the container's connection broke: its exit state and the tail of its output. */
  diagnose(): Promise<CrashReport>;
}
