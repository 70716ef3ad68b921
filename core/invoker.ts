// The one interface the gateway uses to run a function, whether the invoker is in this process or remote.

/** What started an invocation; named in every usage record. */
export type TriggerKind = 'http' | 'async' | 'queue' | 'event' | 'cron';

/** A request to run a function once. Bodies are buffered and binary-safe. */
export interface InvocationRequest {
  /** Unique id (UUID), also given to the function as its request/invocation id. */
  invocationId: string;
  /** Function id. */
  fn: string;
  /**
   * Which of its versions: a version number or an alias (`/fn/<name>@<qualifier>`); absent: the function's
   * default alias. The invoker resolves it (core/releases.ts pickVersion) when the call is about to run.
   */
  qualifier?: string;
  trigger: TriggerKind;
  method: string;
  /** Path below the function's root, starting with '/': `/fn/hello/a/b` → `/a/b`, `/fn/hello` → `/`. */
  path: string;
  /** Query string without the leading '?', '' when none. */
  rawQuery: string;
  /** Request headers, lower-case names; repeated headers as arrays. */
  headers: Record<string, string | string[]>;
  /**
   * The header names as the client spelt them (HTTP trigger; X-GitHub-Event). Given to functions whose
   * event keeps the client's spelling (Lambda's REST 1.0 event), as the `header-names` context.
   */
  headerNames?: readonly string[];
  /** The whole body; empty when `bodyStream` is set. */
  body: Buffer;
  /** A large upload of known length, relayed as it arrives (the HTTP trigger's uploads over FAAS_MAX_BODY_BYTES). */
  bodyStream?: { stream: import('node:stream').Readable; length: number };
  /** Epoch ms when the platform accepted the request. */
  receivedAt: number;
  /**
   * What the platform says about a non-HTTP trigger (attempt, queue, topic, schedule, ...): sent to the
   * runtime as `x-faas-<key>` headers, which callers cannot forge (theirs are dropped).
   */
  context?: Record<string, string>;
}

/** What the function answered, plus what the platform measured. */
export interface InvocationResponse {
  status: number;
  /** Lower-case names; repeated headers (several set-cookie) as arrays. */
  headers: Record<string, string | string[]>;
  /** The whole body; empty when `stream` is set. */
  body: Buffer;
  /**
   * Set (only when the caller asked for streaming) while the function is still writing its answer: the
   * rest of the body with backpressure. It errors when the call fails before its end (timeout, size limit,
   * the function failed); destroying it aborts the call. Its usage record is durable before it ends.
   */
  stream?: import('node:stream').Readable;
  meta: InvocationMeta;
}

export interface InvokeOptions {
  /** The caller can relay a body as it comes (the HTTP trigger); others get the whole body. Default false. */
  stream?: boolean;
}

export interface InvocationMeta {
  invocationId: string;
  fn: string;
  version: number;
  coldStart: boolean;
  /** Container create → runtime ready, when cold. */
  initMs?: number;
  /** Time spent waiting in the function's queue for a container slot. */
  queueWaitMs: number;
  /** Time the function ran: request sent to the container → response read (→ headers read, for a stream). */
  durationMs: number;
}

/**
 * Runs invocations. Failures are thrown as FaasError subclasses (FunctionNotFoundError,
 * QueueFullError, FunctionTimeoutError, FunctionOutOfMemoryError, FunctionInitError,
 * FunctionHandlerError, FunctionCrashedError, CapacityError).
 */
export interface Invoker {
  invoke(request: InvocationRequest, options?: InvokeOptions): Promise<InvocationResponse>;
  /** Containers by state across all functions, or one tenant's, for /metrics and the dashboard. */
  containerCounts(tenant?: string): Promise<Record<ContainerState, number>>;
  /** Every live container, or one tenant's (prewarmed runtimes only without a tenant), for `faas ps`. */
  containerList(tenant?: string): Promise<ContainerInfo[]>;
  /** Stops accepting work, drains in-flight invocations, removes this invoker's containers. */
  close(): Promise<void>;
}

/** One container as `faas ps` shows it. Times are epoch ms. */
export interface ContainerInfo {
  /** The pool's short id (also the suffix of the engine's container name). */
  id: string;
  /** Function id (`tenant.name`, or `name` in the default tenant); '' for a prewarmed runtime. */
  fn: string;
  version: number;
  state: ContainerState;
  memoryMb: number;
  /** Requests running in it now, and served so far. */
  active: number;
  served: number;
  createdAt: number;
  /** End of its last request (or its readiness). */
  lastUsedAt: number;
  /** The invoker running it. */
  invoker: string;
}

/** 'prewarmed': started with no function yet, waiting to be assigned one at a cold start. */
export type ContainerState = 'prewarmed' | 'starting' | 'idle' | 'paused' | 'busy' | 'removing';

/** Outcome of an invocation as metering and logs see it. A function answering 500 itself is 'ok'. */
export type InvocationStatus = 'ok' | 'function_error' | 'init_error' | 'init_timeout' | 'timeout' | 'out_of_memory' | 'crashed';

/**
 * Emitted once per invocation that reached a container, success or not.
 * Metering and invocation logs listen to this; nothing on the hot path awaits them.
 */
export interface InvocationFinished {
  invocationId: string;
  fn: string;
  version: number;
  trigger: TriggerKind;
  /** Epoch ms: the request was handed to the container (after any queue wait and cold start). */
  startedAt: number;
  /** Epoch ms: the response was read or the failure detected. */
  endedAt: number;
  durationMs: number;
  memoryMb: number;
  coldStart: boolean;
  initMs?: number;
  /** CPU time of the init (module load; a fresh container's runtime start), when cold and measured. */
  initCpuMs?: number;
  queueWaitMs: number;
  status: InvocationStatus;
  /** HTTP status given to the caller. */
  httpStatus: number;
  /** CPU time of the container's cgroup during this invocation; measured when it runs one request at a time. */
  cpuMs?: number;
  /** The container's cgroup memory high-water mark at the end of this invocation (MB); same condition. */
  peakMemoryMb?: number;
  /** What the function wrote to its console during this invocation (tail, at most 4 KiB). */
  logs: string;
  /** Error message when status is not 'ok'. */
  errorMessage?: string;
}

/** A function container's life, reported when it is removed. */
export interface RetiredContainer {
  containerId: string;
  fn: string;
  memoryMb: number;
  concurrency: number;
  /** Epoch ms it was ready, and removed. */
  readyAt: number;
  removedAt: number;
  busyMs: number;
  idleMs: number;
  /** The function's minScale was above 0: its idle time was asked for (kept warm), not the platform's keep-alive. */
  keptWarm: boolean;
  /** Whole-life CPU time and peak memory, when the cgroup could be read before removal. */
  cpuMs?: number;
  peakMemoryMb?: number;
}

/** Typed listener registration, so metering subscribes without the invoker knowing it. */
export interface InvocationEvents {
  onInvocationFinished(listener: (event: InvocationFinished) => void): () => void;
}
