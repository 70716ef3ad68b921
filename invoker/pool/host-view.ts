// Pure: the host side of a pool decision — free memory, idle containers of other functions that may be
// evicted, and the tenant's container quota arithmetic — built from the pool's containers.
import type { ContainerView, HostView } from './pool-view.js';
import { isIdle } from './pool-view.js';

export interface PoolContents {
  poolMemoryMb: number;
  /** Each function's containers, with the tenant it belongs to. */
  functions: ReadonlyArray<{ fn: string; tenant: string; containers: readonly ContainerView[] }>;
  /** Prewarmed runtimes (no function, no tenant). */
  prewarmed: readonly ContainerView[];
}

export function freeMemoryMb(pool: PoolContents): number {
  let used = 0;
  for (const f of pool.functions) for (const c of f.containers) used += c.memoryMb;
  for (const c of pool.prewarmed) used += c.memoryMb;
  return pool.poolMemoryMb - used;
}

/**
 * The host as a request of `fn` sees it. With a tenant quota (`tenantLimit`), also the room the tenant has
 * left across invokers (its live containers here and `tenantElsewhere` on others) and its idle containers
 * of other functions, which make room when evicted.
 */
export function buildHostView(pool: PoolContents, fn: string, tenant: string, tenantLimit: number | undefined, tenantElsewhere: number): HostView {
  const evictable: ContainerView[] = [];
  for (const c of pool.prewarmed) if (c.phase === 'idle') evictable.push(c);
  for (const f of pool.functions) {
    if (f.fn === fn) continue;
    for (const c of f.containers) if (isIdle(c)) evictable.push(c);
  }
  const host: HostView = { freeMemoryMb: freeMemoryMb(pool), evictable };
  if (tenantLimit === undefined) return host;
  let live = 0;
  const tenantIdle: ContainerView[] = [];
  for (const f of pool.functions) {
    if (f.tenant !== tenant) continue;
    for (const c of f.containers) {
      if (c.phase === 'removing') continue;
      live += 1;
      if (f.fn !== fn && isIdle(c)) tenantIdle.push(c);
    }
  }
  return { ...host, tenantRoom: tenantLimit - live - tenantElsewhere, tenantIdle };
}
