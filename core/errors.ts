// Platform errors: each carries a stable code and the HTTP status the API answers with.

/** Base of every error the platform reports to a caller as `{"error":{"code","message"}}`. */
export abstract class FaasError extends Error {
  abstract readonly code: string;
  abstract readonly status: number;

  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }

  toJSON(): { error: { code: string; message: string } } {
    return { error: { code: this.code, message: this.message } };
  }
}

export class BadRequestError extends FaasError {
  readonly code = 'BAD_REQUEST';
  readonly status = 400;
}

/**
 * A deploy asks for what this platform or the tenant's quota can never honour (a memory or CPU limit past
 * the host's, more warm memory than one function may keep, minScale past maxContainers).
 */
export class LimitExceededError extends FaasError {
  readonly code = 'LIMIT_EXCEEDED';
  readonly status = 400;
}

/** The code has no handler the runtime could call (checked at deploy, from the bundle's exports). */
export class NoHandlerError extends FaasError {
  readonly code = 'NO_HANDLER';
  readonly status = 400;
}

/** The runtime a deploy names (--runtime) is not installed on this platform. */
export class RuntimeUnavailableError extends FaasError {
  readonly code = 'RUNTIME_UNAVAILABLE';
  readonly status = 400;
}

export class UnauthorizedError extends FaasError {
  readonly code = 'UNAUTHORIZED';
  readonly status = 401;
}

export class FunctionNotFoundError extends FaasError {
  readonly code = 'FUNCTION_NOT_FOUND';
  readonly status = 404;
  constructor(name: string) {
    super(`function "${name}" is not deployed`);
  }
}

/** The function's request queue is full: the caller should back off and retry. */
export class QueueFullError extends FaasError {
  readonly code = 'TOO_MANY_REQUESTS';
  readonly status = 429;
}

/** A queued request waited longer than the queue allows without getting a container. */
export class QueueTimeoutError extends FaasError {
  readonly code = 'QUEUE_TIMEOUT';
  readonly status = 503;
}

/** No container could be started (engine error, image missing, host out of capacity). */
export class CapacityError extends FaasError {
  readonly code = 'NO_CAPACITY';
  readonly status = 503;
}

/** The invoker running a call went away mid-call (its process died or its host was lost): the call's outcome is unknown. */
export class InvokerLostError extends FaasError {
  readonly code = 'INVOKER_LOST';
  readonly status = 502;
}

export class FunctionTimeoutError extends FaasError {
  readonly code = 'FUNCTION_TIMEOUT';
  readonly status = 504;
}

/** The container was killed for going past its memory limit (cgroup OOM or V8 heap limit). */
export class FunctionOutOfMemoryError extends FaasError {
  readonly code = 'FUNCTION_OUT_OF_MEMORY';
  readonly status = 502;
}

/** The function's module threw while loading (top-level code or import). */
export class FunctionInitError extends FaasError {
  readonly code = 'FUNCTION_INIT_FAILED';
  readonly status = 502;
}

/** What a start whose module init never finished used, billed once to the first call it failed (status init_timeout). */
export interface InitTimeoutUsage {
  version: number;
  /** Time from the container's assignment (or creation) to giving up, ms. */
  initMs: number;
  /** CPU the function's init burnt in that time, when the engine could tell. */
  initCpuMs?: number;
}

/** The function's module did not finish loading in time (its top-level code runs too long, or for ever). */
export class FunctionInitTimeoutError extends FaasError {
  readonly code = 'FUNCTION_INIT_TIMEOUT';
  readonly status = 504;
  private billed = false;
  constructor(
    message: string,
    readonly usage: InitTimeoutUsage,
  ) {
    super(message);
  }
  /** True for the first caller only: the one call this failed start is billed to (every waiter gets the error). */
  claimUsage(): boolean {
    if (this.billed) return false;
    this.billed = true;
    return true;
  }
}

/** The handler threw or rejected. */
export class FunctionHandlerError extends FaasError {
  readonly code = 'FUNCTION_ERROR';
  readonly status = 500;
}

/** The function returned what fits no contract of its handler style: never guessed into an answer. */
export class FunctionResultError extends FaasError {
  readonly code = 'BAD_FUNCTION_RESULT';
  readonly status = 502;
}

/** A request body larger than the function (or the route) takes. */
export class PayloadTooLargeError extends FaasError {
  readonly code = 'PAYLOAD_TOO_LARGE';
  readonly status = 413;
}

/** The function answered more than the platform relays (FAAS_MAX_BODY_BYTES); its container is kept. */
export class FunctionResponseTooLargeError extends FaasError {
  readonly code = 'RESPONSE_TOO_LARGE';
  readonly status = 502;
}

/** The container died during the invocation for a reason other than memory. */
export class FunctionCrashedError extends FaasError {
  readonly code = 'FUNCTION_CRASHED';
  readonly status = 502;
}

/** A named queue or topic that no function consumes or subscribes to. */
export class UnknownTriggerError extends FaasError {
  readonly status = 400;
  constructor(
    readonly code: 'UNKNOWN_QUEUE' | 'UNKNOWN_TOPIC',
    message: string,
  ) {
    super(message);
  }
}

/** Too many jobs already wait for this function (its maxBacklog): the sender should back off. */
export class BacklogFullError extends FaasError {
  readonly code = 'BACKLOG_FULL';
  readonly status = 429;
}

/** The request contradicts what exists (e.g. a queue another function consumes). */
export class ConflictError extends FaasError {
  readonly code = 'CONFLICT';
  readonly status = 409;
}

export class InvocationNotFoundError extends FaasError {
  readonly code = 'INVOCATION_NOT_FOUND';
  readonly status = 404;
  constructor(id: string) {
    super(`no async invocation, message or event delivery with id "${id}" (results are kept 24 hours)`);
  }
}

/**
 * An Idempotency-Key sent again with a request other than the one it was first used with (Stripe's rule):
 * the caller must use a new key for a new request.
 */
export class IdempotencyKeyReusedError extends FaasError {
  readonly code = 'IDEMPOTENCY_KEY_REUSED';
  readonly status = 422;
  constructor() {
    super('Idempotency-Key was used with a different request; send a new key for a new request');
  }
}

/** The token is valid but may not do this (an admin-only route, another tenant's data). */
export class ForbiddenError extends FaasError {
  readonly code = 'FORBIDDEN';
  readonly status = 403;
}

export class TenantNotFoundError extends FaasError {
  readonly code = 'TENANT_NOT_FOUND';
  readonly status = 404;
  constructor(id: string) {
    super(`tenant "${id}" does not exist (faas tenant ls lists them)`);
  }
}

export class TokenNotFoundError extends FaasError {
  readonly code = 'TOKEN_NOT_FOUND';
  readonly status = 404;
  constructor(id: string) {
    super(`no token with id "${id}" (faas token ls lists them)`);
  }
}

/** A tenant's quota (concurrent containers, GB-seconds per billing period) is used up. */
export class QuotaExceededError extends FaasError {
  readonly code = 'QUOTA_EXCEEDED';
  readonly status = 429;
}

export function assertNever(value: never): never {
  throw new Error(`unexpected value: ${JSON.stringify(value)}`);
}

/** A FaasError received from another process (a remote invoker): same code, status and message. */
export class RemoteFaasError extends FaasError {
  constructor(
    readonly code: string,
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}
