// Where deployed functions and their code live; shared by every gateway and invoker through Redis.
import type { FunctionConfig, FunctionSpec } from '../core/function-spec.js';

export interface DeployInput {
  name: string;
  /** Bundled ESM source (one file). */
  code: Buffer;
  config: FunctionConfig;
}

export type FunctionChange = { kind: 'deployed'; spec: FunctionSpec; previous?: FunctionSpec } | { kind: 'deleted'; name: string; previous: FunctionSpec };

/**
 * Function store. `get` answers from a local cache kept current by change notifications
 * (Redis pub/sub between processes), so the invocation hot path does not wait on Redis.
 */
export interface FunctionRegistry {
  /** Creates or replaces the function; version = previous + 1 (1 for a new name). */
  deploy(input: DeployInput): Promise<FunctionSpec>;
  get(name: string): Promise<FunctionSpec | undefined>;
  /** Whether this process knows the function, from its local cache only (no I/O: for the trigger's routing). */
  has(name: string): boolean;
  list(): Promise<FunctionSpec[]>;
  /** Resolves false when no such function existed. */
  remove(name: string): Promise<boolean>;
  getCode(codeSha256: string): Promise<Buffer | undefined>;
  /** Called for changes made by this or any other process. Returns an unsubscribe function. */
  onChange(listener: (change: FunctionChange) => void): () => void;
  close(): Promise<void>;
}
