// The container state machine: every change of a container's phase and in-flight count goes through
// `transition`, a pure function, so the pool's life cycle can be read (and tested) in one place.
//
//   starting ──ready──▶ idle ◀──release (last)── busy ◀──acquire── idle
//                        │ ▲                      ▲ │
//                  pause │ │ pauseFailed  resumed │ │ acquire / release (not last)
//                        ▼ │                      │ ▼
//                      pausing ──paused──▶ paused ──acquire──▶ resuming
//                        └────────────acquire─────────────────────▲
//   any ──remove──▶ removing (absorbs every later event; in-flight calls still end)
//
// pausing and resuming are the freezer (or the engine) at work: a call arriving meanwhile waits for the
// resume, which runs after the pause.

export type ContainerPhase = 'starting' | 'idle' | 'busy' | 'pausing' | 'paused' | 'resuming' | 'removing';

export type ContainerEvent =
  /** The runtime answered ready with the function loaded (or, for a prewarmed runtime, started). */
  | 'ready'
  /** A call takes a slot; a frozen container is resumed first. */
  | 'acquire'
  /** A call gave its slot back. */
  | 'release'
  /** Freeze an idle container. */
  | 'pause'
  | 'paused'
  | 'pauseFailed'
  /** The resume finished (or failed: the call then finds out itself). */
  | 'resumed'
  /** The container must go: removal began. */
  | 'remove';

export interface ContainerState {
  phase: ContainerPhase;
  /** Calls in flight (a resuming container's count includes the calls waiting for the resume). */
  active: number;
}

export class IllegalTransitionError extends Error {
  constructor(
    readonly from: ContainerState,
    readonly event: ContainerEvent,
  ) {
    super(`container in phase ${from.phase} (${from.active} in flight) cannot take "${event}"`);
  }
}

const state = (phase: ContainerPhase, active: number): ContainerState => ({ phase, active });

export function transition(from: ContainerState, event: ContainerEvent): ContainerState {
  const { phase, active } = from;
  if (phase === 'removing') {
    if (event === 'acquire') throw new IllegalTransitionError(from, event);
    return event === 'release' ? state('removing', Math.max(0, active - 1)) : from;
  }
  if (event === 'remove') return state('removing', active);
  switch (event) {
    case 'ready':
      if (phase === 'starting') return state('idle', 0);
      break;
    case 'acquire':
      if (phase === 'idle' || phase === 'busy') return state('busy', active + 1);
      if (phase === 'paused' || phase === 'pausing' || phase === 'resuming') return state('resuming', active + 1);
      break;
    case 'release':
      if (phase === 'busy' && active > 0) return state(active === 1 ? 'idle' : 'busy', active - 1);
      break;
    case 'pause':
      if (phase === 'idle' && active === 0) return state('pausing', 0);
      break;
    case 'paused':
      if (phase === 'pausing') return state('paused', 0);
      // A call arrived while the pause ran: its resume follows.
      if (phase === 'resuming') return from;
      break;
    case 'pauseFailed':
      if (phase === 'pausing' || phase === 'paused') return state('idle', 0);
      if (phase === 'resuming') return from;
      break;
    case 'resumed':
      if (phase === 'resuming') return state(active > 0 ? 'busy' : 'idle', active);
      break;
  }
  throw new IllegalTransitionError(from, event);
}

/** Running or frozen with no call in it: may be removed, evicted or paused. */
export const isIdlePhase = (s: ContainerState) => (s.phase === 'idle' || s.phase === 'pausing' || s.phase === 'paused') && s.active === 0;

/** Frozen, or being frozen: a call must resume it first. */
export const isFrozen = (s: ContainerState) => s.phase === 'pausing' || s.phase === 'paused';
