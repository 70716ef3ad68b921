// What a deployed function is: its name, code and limits, with the ranges and defaults the API enforces.

/** Function names: DNS-label-like, so they are safe in URLs, container names and Redis keys. */
export const FUNCTION_NAME_PATTERN = '^[a-z][a-z0-9-]{0,62}$';

export interface Range {
  readonly min: number;
  readonly max: number;
  readonly default: number;
}

/** Accepted ranges and defaults of the per-function settings (units in the names). */
export const LIMIT_RANGES = {
  /** Memory limit of each container, swap equal to it. Default 128 MB (as Lambda). */
  memoryMb: { min: 32, max: 10_240, default: 128 },
  /** CPU limit of each container, in cores (0.1 = 10% of one core). */
  cpus: { min: 0.05, max: 64, default: 1 },
  /** Wall-clock limit of one invocation. */
  timeoutMs: { min: 100, max: 900_000, default: 30_000 },
  /** Requests one container serves at the same time. */
  concurrency: { min: 1, max: 1_000, default: 1 },
  /** Containers kept warm even when idle. */
  minScale: { min: 0, max: 100, default: 0 },
  /** Containers at most, across busy, idle and starting. */
  maxScale: { min: 1, max: 1_000, default: 10 },
  /** An idle container above minScale is removed after this long (scale to zero). */
  idleTimeoutMs: { min: 1_000, max: 86_400_000, default: 600_000 },
} as const satisfies Record<string, Range>;

/** Per-function settings a deploy sets. */
export interface FunctionConfig {
  memoryMb: number;
  cpus: number;
  timeoutMs: number;
  concurrency: number;
  minScale: number;
  maxScale: number;
  idleTimeoutMs: number;
  /** Environment variables given to the function (never the platform's own). */
  env: Record<string, string>;
  /** Outbound network allowed; when false the container has network mode none. */
  network: boolean;
}

/** A deployed function version. `version` grows by one on every deploy of the same name. */
export interface FunctionSpec extends FunctionConfig {
  name: string;
  version: number;
  /** sha256 (hex) of the bundled ESM code; the code itself is stored by this hash. */
  codeSha256: string;
  codeBytes: number;
  /** ISO 8601. */
  createdAt: string;
  updatedAt: string;
}

export function defaultFunctionConfig(): FunctionConfig {
  return {
    memoryMb: LIMIT_RANGES.memoryMb.default,
    cpus: LIMIT_RANGES.cpus.default,
    timeoutMs: LIMIT_RANGES.timeoutMs.default,
    concurrency: LIMIT_RANGES.concurrency.default,
    minScale: LIMIT_RANGES.minScale.default,
    maxScale: LIMIT_RANGES.maxScale.default,
    idleTimeoutMs: LIMIT_RANGES.idleTimeoutMs.default,
    env: {},
    network: false,
  };
}
