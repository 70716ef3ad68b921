// Where deployed functions and their code live; shared by every gateway and invoker through Redis.
import type { FunctionConfig, FunctionRecord, FunctionSpec } from '../core/function-spec.js';
import type { Releases } from '../core/releases.js';

export interface DeployInput {
  name: string;
  /** Bundled ESM source (one file). */
  code: Buffer;
  config: FunctionConfig;
  /** Move the `latest` alias to the new version (default true); false: kept, reachable as `name@N` only. */
  promote?: boolean;
}

export interface DeployResult {
  spec: FunctionRecord;
  /** False: the code and settings equal the newest version's, and no version was made. */
  created: boolean;
}

/** A change to a function's releases: the new releases from the current record, or a 4xx thrown (nothing written). */
export type ReleasesChange = (record: FunctionRecord) => Releases;

/** 'deployed': the record is new or changed (a deploy, an alias moved, a version deleted). */
export type FunctionChange =
  | { kind: 'deployed'; spec: FunctionRecord; previous?: FunctionRecord }
  | { kind: 'deleted'; name: string; previous: FunctionRecord };

/**
 * Function store. `get` answers from a local cache kept current by change notifications
 * (Redis pub/sub between processes), so the invocation hot path does not wait on Redis.
 */
export interface FunctionRegistry {
  /**
   * Creates the function or a new version of it (previous + 1; none when the code and settings equal the
   * newest version's), moves `latest` to it unless told not to, and prunes the oldest versions no alias routes
   * to past the number kept.
   */
  deploy(input: DeployInput): Promise<DeployResult>;
  get(name: string): Promise<FunctionRecord | undefined>;
  /** The cached record, no I/O (undefined when this process does not know the function). */
  peek(name: string): FunctionRecord | undefined;
  /** One kept version's spec (immutable), or undefined. */
  getVersion(name: string, version: number): Promise<FunctionSpec | undefined>;
  /** Every kept version's spec, oldest first. */
  versions(name: string): Promise<FunctionSpec[]>;
  /** Marks the function restarted: every invoker replaces its containers (idle ones now, busy ones when done). */
  restart(name: string): Promise<FunctionRecord | undefined>;
  /** Changes the releases atomically (aliases, the default one, deleting versions); undefined when no such function. */
  updateReleases(name: string, change: ReleasesChange): Promise<FunctionRecord | undefined>;
  /** Whether this process knows the function, from its local cache only (no I/O: for the trigger's routing). */
  has(name: string): boolean;
  list(): Promise<FunctionRecord[]>;
  /** Resolves false when no such function existed. */
  remove(name: string): Promise<boolean>;
  getCode(codeSha256: string): Promise<Buffer | undefined>;
  /** Called for changes made by this or any other process. Returns an unsubscribe function. */
  onChange(listener: (change: FunctionChange) => void): () => void;
  close(): Promise<void>;
}
