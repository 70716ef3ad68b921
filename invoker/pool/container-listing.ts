// Pure: the pool's containers as the API, the CLI, the dashboard and the metrics show them.
import type { ContainerInfo, ContainerState } from '../../core/invoker.js';
import type { ContainerPhase } from './container-state.js';
import type { Entry } from './container-entry.js';

/** One function's containers, with its tenant. */
export interface ListedFunction {
  tenant: string;
  containers: Iterable<Entry>;
}

/** The state a container shows outside the pool: frozen counts as paused, a resume as busy. */
export const shownState = (phase: ContainerPhase): ContainerState => (phase === 'pausing' ? 'paused' : phase === 'resuming' ? 'busy' : phase);

/** A prewarmed runtime ready for a function shows as prewarmed. */
const shownPrewarmed = (phase: ContainerPhase): ContainerState => (phase === 'idle' ? 'prewarmed' : shownState(phase));

/** Containers by state; of one tenant's functions only when given (prewarmed runtimes belong to no tenant). */
export function countContainers(functions: Iterable<ListedFunction>, prewarmed: Iterable<Entry>, tenant?: string): Record<ContainerState, number> {
  const counts: Record<ContainerState, number> = { prewarmed: 0, starting: 0, idle: 0, paused: 0, busy: 0, removing: 0 };
  for (const f of functions) {
    if (tenant !== undefined && f.tenant !== tenant) continue;
    for (const entry of f.containers) counts[shownState(entry.phase)] += 1;
  }
  if (tenant === undefined) for (const entry of prewarmed) counts[shownPrewarmed(entry.phase)] += 1;
  return counts;
}

/** Every container, or one tenant's functions', oldest first. */
export function listContainers(functions: Iterable<ListedFunction>, prewarmed: Iterable<Entry>, tenant?: string): Array<Omit<ContainerInfo, 'invoker'>> {
  const info = (e: Entry, state: ContainerState) => ({
    id: e.id,
    fn: e.fn,
    version: e.version,
    state,
    memoryMb: e.memoryMb,
    active: e.active,
    served: e.served,
    createdAt: e.createdAt,
    lastUsedAt: e.lastUsedAt,
  });
  const out: Array<Omit<ContainerInfo, 'invoker'>> = [];
  for (const f of functions) {
    if (tenant !== undefined && f.tenant !== tenant) continue;
    for (const entry of f.containers) out.push(info(entry, shownState(entry.phase)));
  }
  if (tenant === undefined) for (const entry of prewarmed) out.push(info(entry, shownPrewarmed(entry.phase)));
  return out.sort((a, b) => a.createdAt - b.createdAt);
}

/** Live containers (not being removed) per tenant; prewarmed runtimes belong to no tenant. */
export function liveByTenant(functions: Iterable<ListedFunction>): Map<string, number> {
  const out = new Map<string, number>();
  for (const f of functions) for (const entry of f.containers) if (entry.phase !== 'removing') out.set(f.tenant, (out.get(f.tenant) ?? 0) + 1);
  return out;
}
