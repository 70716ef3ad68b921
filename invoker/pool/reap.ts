// Pure: which idle containers to remove now (scale to zero, old versions), which to pause, and how many to start for minScale.
import type { ContainerView, FunctionLimits, FunctionView, HostRoom } from './pool-view.js';
import { isCurrent, isIdle } from './pool-view.js';

export interface ReapPlan {
  remove: string[];
  /**
   * Containers to start toward minScale live ones, as many as the pool's free memory and the tenant's
   * container room allow now (the rest on a later reap, once room appears); keeping warm never evicts.
   */
  start: number;
  /** Idle running containers to pause (idle for pauseAfterMs and not removed now). */
  pause: string[];
}

/**
 * Idle containers of an older version go at once (a redeploy); idle containers of the current version go
 * once idle for idleTimeoutMs, oldest first, never leaving fewer than minScale live ones; those that stay
 * are paused once idle for pauseAfterMs (as OpenWhisk pauses after its pause grace). Busy containers are
 * never removed or paused here. `room` caps the minScale starts; the pool may leave it out when the
 * function has no minScale (nothing to start), and then nothing caps them.
 */
export function reap(view: FunctionView, limits: FunctionLimits, now: number, room?: HostRoom): ReapPlan {
  const remove: string[] = [];
  for (const c of view.containers) {
    if (isIdle(c) && c.version !== view.version) remove.push(c.id);
  }
  const live = view.containers.filter((c) => isCurrent(view, c));
  const expired = live
    .filter((c) => isIdle(c) && now - c.lastUsedAt >= limits.idleTimeoutMs)
    .sort((a: ContainerView, b: ContainerView) => a.lastUsedAt - b.lastUsedAt);
  const removable = Math.max(0, live.length - limits.minScale);
  for (const c of expired.slice(0, removable)) remove.push(c.id);
  const remaining = live.length - Math.min(expired.length, removable);
  const pauseAfter = limits.pauseAfterMs;
  const pause =
    pauseAfter === undefined
      ? []
      : live.filter((c) => c.phase === 'idle' && c.active === 0 && now - c.lastUsedAt >= pauseAfter && !remove.includes(c.id)).map((c) => c.id);
  return { remove, start: minScaleStarts(limits.minScale - remaining, limits.memoryMb, room), pause };
}

/** Of `missing` containers, how many fit now in the free memory and the tenant's room (never below 0). */
export function minScaleStarts(missing: number, memoryMb: number, room: HostRoom | undefined): number {
  if (missing <= 0) return 0;
  if (!room) return missing;
  const byMemory = memoryMb > 0 ? Math.floor(Math.max(0, room.freeMemoryMb) / memoryMb) : missing;
  return Math.max(0, Math.min(missing, byMemory, room.tenantRoom ?? Infinity));
}
