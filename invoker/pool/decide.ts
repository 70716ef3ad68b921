// Pure: where a new request goes (warm container, queue with a scale-up, or refusal), in OpenWhisk's order.
import type { ContainerView, FunctionLimits, FunctionView, HostView } from './pool-view.js';
import { isCurrent } from './pool-view.js';
import { isFrozen } from './container-state.js';

/** Containers to start now for waiting requests, and idle containers of other functions to evict first. */
export interface ScaleUp {
  start: number;
  evict: string[];
}

export type Decision =
  /** A ready container of the current version with a free slot. */
  | { kind: 'warm'; containerId: string }
  /** Wait in the FIFO queue; start containers (after evicting others) when the queue outgrows what is coming. */
  | ({ kind: 'queue' } & ScaleUp)
  /** The queue is full. */
  | { kind: 'reject' }
  /** The tenant has all the containers its quota allows and none of them can serve or make room. */
  | { kind: 'quota' };

/**
 * The ready container with a free slot that was used most recently, so the others go idle and can
 * be reaped (scale in), as OpenWhisk prefers the warmest container; a running one before a paused one,
 * which the pool resumes first.
 */
export function pickWarm(view: FunctionView, concurrency: number): ContainerView | undefined {
  let best: ContainerView | undefined;
  for (const c of view.containers) {
    if (!isCurrent(view, c) || c.phase === 'starting' || c.active >= concurrency) continue;
    if (!best || warmer(c, best)) best = c;
  }
  return best;
}

const warmer = (a: ContainerView, b: ContainerView) => (isFrozen(a) !== isFrozen(b) ? isFrozen(b) : a.lastUsedAt > b.lastUsedAt);

/**
 * How many containers to start for `waiting` queued requests: enough that starting containers' slots
 * cover the queue, within maxScale and memory, evicting least recently used idle containers of other
 * functions just enough when memory is short.
 */
export function planScaleUp(view: FunctionView, limits: FunctionLimits, host: HostView, waiting: number): ScaleUp {
  const live = view.containers.filter((c) => isCurrent(view, c));
  const starting = live.filter((c) => c.phase === 'starting').length;
  const uncovered = waiting - starting * limits.concurrency;
  if (uncovered <= 0) return { start: 0, evict: [] };
  const byAge = (a: ContainerView, b: ContainerView) => a.lastUsedAt - b.lastUsedAt;
  const tenantIdle = [...(host.tenantIdle ?? [])].sort(byAge);
  const room = host.tenantRoom ?? Infinity;
  const wanted = Math.min(Math.ceil(uncovered / limits.concurrency), limits.maxScale - live.length, room + tenantIdle.length);
  if (wanted <= 0) return { start: 0, evict: [] };

  // Past the tenant's quota, its own idle containers (least recently used first) go to make room.
  const evict: string[] = [];
  let free = host.freeMemoryMb;
  for (const victim of tenantIdle.slice(0, Math.max(0, wanted - room))) {
    evict.push(victim.id);
    free += victim.memoryMb;
  }
  const evictOrder = host.evictable.filter((c) => !evict.includes(c.id)).sort(byAge);
  let start = 0;
  while (start < wanted) {
    if (free >= limits.memoryMb) {
      free -= limits.memoryMb;
      start += 1;
      continue;
    }
    const victim = evictOrder.shift();
    if (!victim) break;
    evict.push(victim.id);
    free += victim.memoryMb;
  }
  // Evicting without being able to start anything would only lose warm containers.
  return start === 0 ? { start: 0, evict: [] } : { start, evict };
}

/** Decides for one new request. Requests already queued go first (FIFO): a newcomer never overtakes them. */
export function decide(view: FunctionView, limits: FunctionLimits, host: HostView, maxQueue: number): Decision {
  if (view.queued === 0) {
    const warm = pickWarm(view, limits.concurrency);
    if (warm) return { kind: 'warm', containerId: warm.id };
  }
  if (view.queued >= maxQueue) return { kind: 'reject' };
  const live = view.containers.some((c) => isCurrent(view, c));
  if (!live && host.tenantRoom !== undefined && host.tenantRoom <= 0 && !host.tenantIdle?.length) return { kind: 'quota' };
  return { kind: 'queue', ...planScaleUp(view, limits, host, view.queued + 1) };
}
