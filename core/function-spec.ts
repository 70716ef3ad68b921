// What a deployed function is: its name, code and settings (the settings themselves: function-settings.ts).
import type { FunctionConfig } from './function-settings.js';
import type { Releases } from './releases.js';

export {
  defaultFunctionConfig,
  LIMIT_RANGES,
  TRIGGER_NAME_PATTERN,
  type FunctionConfig,
  type Range,
  type Schedule,
} from './function-settings.js';

/** Function names: DNS-label-like, so they are safe in URLs, container names and Redis keys. */
export const FUNCTION_NAME_PATTERN = '^[a-z][a-z0-9-]{0,62}$';

/** The tenant of the single-tenant API and of the admin token; its functions keep their bare names. */
export const DEFAULT_TENANT = 'default';

/** Tenant ids: like function names, no dots (a function id is `tenant.name`), at most 32 characters. */
export const TENANT_ID_PATTERN = '^[a-z][a-z0-9-]{0,31}$';

/**
 * A function's id across the platform (registry key, container label, queue, metrics): the bare name in
 * the default tenant, `tenant.name` in any other (neither part holds a dot).
 */
export function functionId(tenant: string, name: string): string {
  return tenant === DEFAULT_TENANT ? name : `${tenant}.${name}`;
}

export function splitFunctionId(id: string): { tenant: string; name: string } {
  const dot = id.indexOf('.');
  return dot === -1 ? { tenant: DEFAULT_TENANT, name: id } : { tenant: id.slice(0, dot), name: id.slice(dot + 1) };
}

/**
 * Share of the pool's memory (FAAS_POOL_MEMORY_MB) one function may keep warm with minScale: minScale ×
 * memoryMb above it is refused at deploy. Half, so a single function's idle warm containers can never take
 * the room every other function (and the prewarmed runtimes) start in, while one large function can still
 * keep a substantial warm fleet.
 */
export const MAX_WARM_POOL_SHARE = 0.5;

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

/**
 * A function as the registry keeps it: its newest version's spec, plus what belongs to the function rather
 * than to a version — the versions kept and the aliases routing to them (core/releases.ts). `revision` grows
 * with every change to it (a deploy, an alias moved, a version deleted), so a late announcement is known.
 */
export interface FunctionRecord extends FunctionSpec {
  releases: Releases;
  revision: number;
  /** sha256 of the code and every setting: a deploy of the same content makes no new version. */
  contentSha256: string;
  /** Set by a restart (`faas restart`, a secret it uses set anew): every invoker replaces its containers. */
  restartedAt?: string;
}
