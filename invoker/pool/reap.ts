// Pure: which idle containers to remove now (scale to zero, old versions) and how many to start for minScale.
import type { ContainerView, FunctionLimits, FunctionView } from './pool-view.js';
import { isCurrent } from './pool-view.js';

export interface ReapPlan {
  remove: string[];
  /** Containers to start so the function has minScale live ones. */
  start: number;
}

/**
 * Idle containers of an older version go at once (a redeploy); idle containers of the current version go
 * once idle for idleTimeoutMs, oldest first, never leaving fewer than minScale live ones. Busy containers
 * are never removed here.
 */
export function reap(view: FunctionView, limits: FunctionLimits, now: number): ReapPlan {
  const remove: string[] = [];
  for (const c of view.containers) {
    if (c.phase === 'idle' && c.version !== view.version) remove.push(c.id);
  }
  const live = view.containers.filter((c) => isCurrent(view, c));
  const expired = live
    .filter((c) => c.phase === 'idle' && c.active === 0 && now - c.lastUsedAt >= limits.idleTimeoutMs)
    .sort((a: ContainerView, b: ContainerView) => a.lastUsedAt - b.lastUsedAt);
  const removable = Math.max(0, live.length - limits.minScale);
  for (const c of expired.slice(0, removable)) remove.push(c.id);
  const remaining = live.length - Math.min(expired.length, removable);
  return { remove, start: Math.max(0, limits.minScale - remaining) };
}
