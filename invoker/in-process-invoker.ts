// Runs invocations in this process: spec lookup, a pool lease, the call over the container's socket, outcome mapping.
import {
  FaasError,
  FunctionCrashedError,
  FunctionHandlerError,
  FunctionInitError,
  FunctionInitTimeoutError,
  FunctionNotFoundError,
  FunctionOutOfMemoryError,
  FunctionResponseTooLargeError,
  FunctionResultError,
  FunctionTimeoutError,
  PayloadTooLargeError,
} from '../core/errors.js';
import { splitFunctionId, type FunctionSpec } from '../core/function-spec.js';
import { pickVersion, VERSION_KEY_HEADER, VersionNotFoundError } from '../core/releases.js';
import { followReleases } from './pool/follow-releases.js';
import type {
  ContainerInfo,
  ContainerState,
  InvocationEvents,
  InvocationFinished,
  InvocationRequest,
  InvocationResponse,
  InvocationStatus,
  Invoker,
  InvokeOptions,
} from '../core/invoker.js';
import type { ContainerExit } from './driver/container-driver.js';
import { HEADER_NAMES_CONTEXT } from '../runtime-images/node/protocol.js';
import type { ContainerPool, Lease } from './pool/container-pool.js';
import type { FunctionRegistry } from '../registry/function-registry.js';
import {
  RuntimeAbortedError,
  RuntimeConnectionError,
  RuntimeResponseTooLargeError,
  RuntimeTimeoutError,
  RuntimeUploadRefusedError,
  type RuntimeReply,
  type RuntimeStream,
  type StreamEnd,
} from './runtime/runtime-connection.js';

const EMPTY = Buffer.alloc(0);

/** The caller left mid-upload: nobody reads this answer; 499 as nginx logs it. */
class RuntimeAbortedErrorAsFaas extends FaasError {
  readonly code = 'CLIENT_CLOSED_REQUEST';
  readonly status = 499;
  constructor() {
    super('the caller went away during the upload');
  }
}

export interface InProcessInvokerOptions {
  registry: Pick<FunctionRegistry, 'get' | 'getVersion' | 'onChange'>;
  pool: ContainerPool;
  /**
   * Read each call's CPU time and peak memory from the cgroup of containers that run one request at a
   * time (after the answer is sent, before the container takes the next request). Default true.
   */
  measureCalls?: boolean;
  /** Names this invoker in container lists. Default 'local'. */
  invokerId?: string;
  clock?: () => number;
}

type Outcome = Pick<InvocationFinished, 'status' | 'httpStatus' | 'logs' | 'errorMessage'>;

/** One call in progress: what was asked, of which version, on which container, since when. */
interface Call {
  request: InvocationRequest;
  spec: FunctionSpec;
  lease: Lease;
  /** Epoch ms. */
  startedAt: number;
  /** performance.now() at the start, for a sub-millisecond duration. */
  startedPerf: number;
}

/** Signs in a container's own output that V8 stopped at its heap limit (not a cgroup kill). */
const V8_HEAP_OOM = /heap out of memory|Allocation failed - JavaScript heap/i;

export class InProcessInvoker implements Invoker, InvocationEvents {
  private readonly listeners = new Set<(event: InvocationFinished) => void>();
  private readonly clock: () => number;
  private readonly unsubscribe: () => void;

  constructor(private readonly options: InProcessInvokerOptions) {
    this.clock = options.clock ?? Date.now;
    this.unsubscribe = followReleases(options.registry, options.pool);
  }

  onInvocationFinished(listener: (event: InvocationFinished) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  async containerCounts(tenant?: string): Promise<Record<ContainerState, number>> {
    return this.options.pool.counts(tenant);
  }

  async containerList(tenant?: string): Promise<ContainerInfo[]> {
    const invoker = this.options.invokerId ?? 'local';
    return this.options.pool.list(tenant).map((c) => ({ ...c, invoker }));
  }

  invoke(request: InvocationRequest, options?: InvokeOptions): Promise<InvocationResponse> {
    return this.run(request, false, options?.stream === true);
  }

  /** The version this call runs: the qualifier's, or the default alias's (a canary's split decided here). */
  private async specOf(request: InvocationRequest): Promise<FunctionSpec> {
    const record = await this.options.registry.get(request.fn);
    if (!record) throw new FunctionNotFoundError(request.fn);
    const key = request.headers[VERSION_KEY_HEADER];
    const version = pickVersion(record.releases, splitFunctionId(request.fn).name, request.qualifier, typeof key === 'string' ? key : undefined);
    if (version === record.version) return record;
    const spec = await this.options.registry.getVersion(request.fn, version);
    if (!spec) throw new VersionNotFoundError(`function ${splitFunctionId(request.fn).name} has no version ${version} any more`);
    return spec;
  }

  private async run(request: InvocationRequest, retried: boolean, streaming: boolean): Promise<InvocationResponse> {
    const spec = await this.specOf(request);
    // Lambda's REST 1.0 event keeps the client's spelling of header names (X-GitHub-Event): told to it alone.
    if (spec.eventFormat === '1.0' && request.headerNames)
      request = { ...request, context: { ...request.context, [HEADER_NAMES_CONTEXT]: request.headerNames.join(',') } };
    const lease = await this.options.pool.acquire(spec, request.receivedAt).catch((err: Error) => {
      if (err instanceof FunctionInitTimeoutError && err.claimUsage()) this.emitInitTimeout(request, spec, err);
      throw err;
    });
    const call: Call = { request, spec, lease, startedAt: this.clock(), startedPerf: performance.now() };
    let reply: RuntimeReply | RuntimeStream;
    try {
      reply = streaming
        ? await lease.connection.open(request, spec.timeoutMs, { beforeEnd: (end) => this.streamEnded(call, reply as RuntimeStream, end) })
        : await lease.connection.invoke(request, spec.timeoutMs);
    } catch (err) {
      if (err instanceof RuntimeUploadRefusedError) {
        // Refused unread: the function did not run, nothing to bill, the container is fine.
        this.options.pool.release(lease);
        throw new PayloadTooLargeError(`function ${spec.name} takes its request body whole (a Lambda handler): send at most FAAS_MAX_BODY_BYTES`);
      }
      const upload = request.bodyStream?.stream;
      if (upload && err instanceof RuntimeConnectionError && (await this.diagnose(lease)).exit?.running) {
        // The upload broke off (the caller left) and the runtime lives on: not the container's fault.
        await this.finish(call, { status: 'ok', httpStatus: 499, logs: '', errorMessage: 'the caller went away during the upload' });
        throw new RuntimeAbortedErrorAsFaas();
      }
      // A streamed upload cannot be sent twice: only a whole body is retried elsewhere.
      if (err instanceof RuntimeConnectionError && err.notDelivered && !retried && !upload) {
        // The container went away between calls (removed or died while idle): the function never saw
        // this request, so it goes to another container once.
        this.options.pool.discard(lease, 'gone before the call');
        return this.run(request, true, streaming);
      }
      if (err instanceof RuntimeResponseTooLargeError) {
        // The function is fine; only this answer is refused. The slot goes back (the connection was dropped).
        const error = new FunctionResponseTooLargeError(`function ${spec.name} answered more than the platform relays: ${err.message} (FAAS_MAX_BODY_BYTES)`);
        await this.finish(call, { status: 'function_error', httpStatus: error.status, logs: '', errorMessage: error.message });
        throw error;
      }
      const failure = await this.failureOf(err, spec, lease);
      this.options.pool.discard(lease, failure.status);
      this.emit(call, { status: failure.status, httpStatus: failure.error.status, logs: '', errorMessage: failure.error.message });
      throw failure.error;
    }

    if ('ended' in reply) return this.streamed(call, reply);
    if (reply.error) {
      const initFailed = reply.error.kind === 'init';
      const error = initFailed
        ? new FunctionInitError(`function ${spec.name} failed to load: ${reply.error.message}`)
        : reply.error.kind === 'contract'
          ? new FunctionResultError(`function ${spec.name}: ${reply.error.message}`)
          : new FunctionHandlerError(`function ${spec.name} threw: ${reply.error.message}`);
      const outcome: Outcome = {
        status: initFailed ? 'init_error' : 'function_error',
        httpStatus: error.status,
        logs: reply.logs,
        errorMessage: error.message,
      };
      if (initFailed) {
        this.options.pool.discard(lease, 'init failed');
        this.emit(call, outcome);
      } else {
        await this.finish(call, outcome);
      }
      throw error;
    }

    const durationMs = await this.finish(call, { status: 'ok', httpStatus: reply.status, logs: reply.logs });
    return {
      status: reply.status,
      headers: reply.headers,
      body: reply.body,
      meta: {
        invocationId: request.invocationId,
        fn: spec.name,
        version: lease.version,
        coldStart: lease.coldStart,
        ...(lease.initMs !== undefined ? { initMs: lease.initMs } : {}),
        queueWaitMs: lease.queueWaitMs,
        durationMs,
      },
    };
  }

  /** What became of a lease's container; an engine that errs says nothing (the container is replaced anyway). */
  private diagnose(lease: Lease): Promise<{ exit?: ContainerExit | undefined; logsTail: string }> {
    return lease.diagnose().catch(() => ({ logsTail: '' }));
  }

  /** An answer still being written: its headers now, its end (and usage record) when the stream ends. */
  private streamed(call: Call, reply: RuntimeStream): InvocationResponse {
    reply.ended.catch((err: Error) =>
      this.streamFailed(call, reply, err).catch((failure: Error) => {
        // Diagnosing failed (the engine erred): the container is replaced all the same.
        this.options.pool.discard(call.lease, 'crashed');
        this.emit(call, { status: 'crashed', httpStatus: reply.status, logs: '', errorMessage: failure.message });
      }),
    );
    return {
      status: reply.status,
      headers: reply.headers,
      body: EMPTY,
      stream: reply.body,
      meta: {
        invocationId: call.request.invocationId,
        fn: call.spec.name,
        version: call.lease.version,
        coldStart: call.lease.coldStart,
        ...(call.lease.initMs !== undefined ? { initMs: call.lease.initMs } : {}),
        queueWaitMs: call.lease.queueWaitMs,
        durationMs: performance.now() - call.startedPerf,
      },
    };
  }

  /** The stream's last byte arrived: billed to here, recorded before the end is released to the caller. */
  private async streamEnded(call: Call, reply: RuntimeStream, end: StreamEnd): Promise<void> {
    if (end.error) {
      await this.finish(call, {
        status: 'function_error',
        httpStatus: reply.status,
        logs: end.logs,
        errorMessage: `function ${call.spec.name} failed while streaming: ${end.error}`,
      });
      return;
    }
    await this.finish(call, { status: 'ok', httpStatus: reply.status, logs: end.logs });
  }

  /** The stream was cut short: the caller left, the deadline or size limit passed, or the runtime died. */
  private async streamFailed(call: Call, reply: RuntimeStream, err: Error): Promise<void> {
    if (err instanceof RuntimeAbortedError) {
      // The runtime stops writing when its connection drops; the container serves on. 499 as nginx logs it.
      await this.finish(call, { status: 'ok', httpStatus: 499, logs: '', errorMessage: err.message });
      return;
    }
    if (err instanceof RuntimeResponseTooLargeError) {
      await this.finish(call, {
        status: 'function_error',
        httpStatus: 502,
        logs: '',
        errorMessage: `function ${call.spec.name} streamed more than the platform relays: ${err.message} (FAAS_MAX_STREAM_BYTES)`,
      });
      return;
    }
    const failure = await this.failureOf(err, call.spec, call.lease);
    this.options.pool.discard(call.lease, failure.status);
    this.emit(call, { status: failure.status, httpStatus: reply.status, logs: '', errorMessage: failure.error.message });
  }

  async close(): Promise<void> {
    this.unsubscribe();
    await this.options.pool.close();
  }

  private async failureOf(err: unknown, spec: FunctionSpec, lease: Lease): Promise<{ status: Exclude<InvocationStatus, 'ok'>; error: FaasError }> {
    if (err instanceof RuntimeTimeoutError) {
      return { status: 'timeout', error: new FunctionTimeoutError(`function ${spec.name} timed out after ${spec.timeoutMs} ms`) };
    }
    if (err instanceof RuntimeConnectionError) {
      const { exit, logsTail } = await this.diagnose(lease);
      if (exit?.oomKilled || V8_HEAP_OOM.test(logsTail)) {
        return {
          status: 'out_of_memory',
          error: new FunctionOutOfMemoryError(`function ${spec.name} ran out of memory (limit ${spec.memoryMb} MB) and was restarted`),
        };
      }
      const how = exit && exit.exitCode !== null ? ` (exit code ${exit.exitCode})` : '';
      return { status: 'crashed', error: new FunctionCrashedError(`function ${spec.name} crashed${how}: ${err.message}`) };
    }
    // Anything else (a protocol error, say) leaves the container in an unknown state: it is replaced too.
    return { status: 'crashed', error: new FunctionCrashedError(`function ${spec.name} failed: ${(err as Error).message}`) };
  }

  /**
   * A call that left its container reusable: measures what it used where that is cheap and exact (a
   * container running one request at a time: a few microseconds of cgroup reads, before the container
   * takes its next request), gives the slot back and tells listeners. Returns the call's duration in ms.
   */
  private async finish(call: Call, outcome: Outcome): Promise<number> {
    const durationMs = performance.now() - call.startedPerf;
    const measure = this.options.measureCalls !== false && call.spec.concurrency === 1 && this.listeners.size > 0;
    const usage = measure ? await call.lease.measure().catch(() => undefined) : undefined;
    this.options.pool.release(call.lease);
    this.emit(call, { ...outcome, ...(usage ? { cpuMs: usage.cpuMs, peakMemoryMb: usage.peakMemoryMb } : {}) }, durationMs);
    return durationMs;
  }

  /** A start whose init never finished, billed to the first call it failed: its init time and CPU, no run time. */
  private emitInitTimeout(request: InvocationRequest, spec: FunctionSpec, err: FunctionInitTimeoutError): void {
    const now = this.clock();
    const event: InvocationFinished = {
      invocationId: request.invocationId,
      fn: spec.name,
      version: err.usage.version,
      trigger: request.trigger,
      startedAt: now,
      endedAt: now,
      durationMs: 0,
      memoryMb: spec.memoryMb,
      coldStart: true,
      initMs: err.usage.initMs,
      queueWaitMs: Math.max(0, now - request.receivedAt),
      status: 'init_timeout',
      httpStatus: err.status,
      logs: `${err.message}\n`,
      errorMessage: err.message,
      ...(err.usage.initCpuMs !== undefined ? { initCpuMs: Math.round(err.usage.initCpuMs * 1000) / 1000 } : {}),
    };
    this.notify(event);
  }

  private notify(event: InvocationFinished): void {
    for (const listener of this.listeners) {
      try {
        listener(event);
      } catch {
        // A listener's failure must never fail the invocation.
      }
    }
  }

  /** Tells listeners how the call ended; returns its duration in ms. */
  private emit(call: Call, outcome: Outcome & Pick<InvocationFinished, 'cpuMs' | 'peakMemoryMb'>, durationMs = performance.now() - call.startedPerf): number {
    if (this.listeners.size === 0) return durationMs;
    const { request, spec, lease } = call;
    const event: InvocationFinished = {
      invocationId: request.invocationId,
      fn: spec.name,
      version: lease.version,
      trigger: request.trigger,
      startedAt: call.startedAt,
      endedAt: call.startedAt + Math.round(durationMs),
      durationMs,
      memoryMb: spec.memoryMb,
      coldStart: lease.coldStart,
      ...(lease.initMs !== undefined ? { initMs: lease.initMs } : {}),
      ...(lease.initCpuMs !== undefined ? { initCpuMs: Math.round(lease.initCpuMs * 1000) / 1000 } : {}),
      queueWaitMs: lease.queueWaitMs,
      status: outcome.status,
      httpStatus: outcome.httpStatus,
      logs: outcome.logs,
      ...(outcome.errorMessage ? { errorMessage: outcome.errorMessage } : {}),
      ...(outcome.cpuMs !== undefined ? { cpuMs: Math.round(outcome.cpuMs * 1000) / 1000 } : {}),
      ...(outcome.peakMemoryMb !== undefined ? { peakMemoryMb: Math.round(outcome.peakMemoryMb * 100) / 100 } : {}),
    };
    this.notify(event);
    return durationMs;
  }
}
