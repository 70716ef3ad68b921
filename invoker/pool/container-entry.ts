// What the pool holds for one container: its function, phase, load and connection.
import type { RuntimeConnection } from '../runtime/runtime-connection.js';
import type { ChannelListener } from '../driver/container-driver.js';
import { IllegalTransitionError, transition, type ContainerEvent, type ContainerPhase } from './container-state.js';

export interface Entry {
  /** Short random id; also the container name's suffix and its socket directory's name. */
  id: string;
  /** '' for a prewarmed runtime not yet assigned a function. */
  fn: string;
  version: number;
  memoryMb: number;
  concurrency: number;
  /** Written only by applyEvent (the state machine in container-state.ts). */
  phase: ContainerPhase;
  active: number;
  lastUsedAt: number;
  served: number;
  createdAt: number;
  /** Epoch ms the runtime answered ready with the function loaded. */
  readyAt?: number;
  initMs?: number;
  /** CPU time (ms) from assignment (or creation) to ready: the module load, and a fresh container's runtime start. */
  initCpuMs?: number;
  /** CPU time (ns) at ready: a whole-life figure counts from here (the init is billed apart, as initCpuMs). */
  readyCpuNs?: number;
  dockerId?: string;
  connection?: RuntimeConnection;
  /** The invoker's listening socket the runtime connects to, in `socketDir` (mounted read-only). */
  listener?: ChannelListener;
  socketDir: string;
  /** The bindings socket's server beside the listener (a function with KV or queue bindings), closed with the container. */
  bindings?: { close(): Promise<void> };
  /** A code directory of this container's own (prewarmed runtimes), removed with it. */
  ownCodeDir?: string;
  /** Time with at least one request running, ms, and since when the current busy stretch runs. */
  busyMs: number;
  busySince?: number;
  /** CPU time (ns) at the last measurement, the start of the next measured call. */
  cpuNs?: number;
  /** CPU time (ns) the container had used when it was given to its function: a prewarmed runtime's boot, the platform's. */
  cpuBaseNs?: number;
  /** A pause or resume in progress (they run one after another); settles without throwing. */
  transition?: Promise<void>;
  /** The pause grace's timer (refreshed by each release, so back-to-back calls make no new timer). */
  pauseTimer?: NodeJS.Timeout;
  /** Set once removal began; removing twice returns the same promise. */
  removal?: Promise<void>;
}

export function newEntry(fields: Pick<Entry, 'id' | 'fn' | 'version' | 'memoryMb' | 'concurrency' | 'socketDir'>, now: number): Entry {
  return { ...fields, phase: 'starting', active: 0, lastUsedAt: now, served: 0, createdAt: now, busyMs: 0 };
}

/**
 * Moves the container through the state machine. An event that does not apply leaves it as it is and is
 * reported (a bug in the pool, not thrown in the middle of someone's call).
 */
export function applyEvent(entry: Entry, event: ContainerEvent, report: (err: IllegalTransitionError) => void): void {
  try {
    const next = transition(entry, event);
    entry.phase = next.phase;
    entry.active = next.active;
  } catch (err) {
    if (!(err instanceof IllegalTransitionError)) throw err;
    report(err);
  }
}
