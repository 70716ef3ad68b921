// Pure: which idle containers to remove now (scale to zero, old versions), which to pause, and how many to start for minScale.
import type { ContainerView, FunctionLimits, FunctionView } from './pool-view.js';
import { isCurrent, isIdle } from './pool-view.js';

export interface ReapPlan {
  remove: string[];
  /** Containers to start so the function has minScale live ones. */
  start: number;
  /** Idle running containers to pause (idle for pauseAfterMs and not removed now). */
  pause: string[];
}

/**
 * Idle containers of an older version go at once (a redeploy); idle containers of the current version go
 * once idle for idleTimeoutMs, oldest first, never leaving fewer than minScale live ones; those that stay
 * are paused once idle for pauseAfterMs (as OpenWhisk pauses after its pause grace). Busy containers are
 * never removed or paused here.
 */
export function reap(view: FunctionView, limits: FunctionLimits, now: number): ReapPlan {
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
  return { remove, start: Math.max(0, limits.minScale - remaining), pause };
}
