// When the replacement of a prewarmed runtime that a cold start took is created. Creating one costs the
// engine (dockerd, containerd, runc) about half a second of CPU on this 2-core host; made while the new
// function takes its first calls, it slows them (measured 2026-12-07: a new function's calls 20–250 took
// 3.4–4.5 ms p50 beside it, 2.1–3.4 ms with nothing created). So it waits for the host to be quiet — no
// call started for a moment — within a bound, and not at all once no prewarmed runtime is left.

export interface RefillTiming {
  /** Never sooner than this after the assignment: the first call has its turn. */
  afterMs: number;
  /** Quiet: no call started for this long. */
  quietMs: number;
  /** Never later than this after the assignment, quiet or not. */
  maxWaitMs: number;
}

export const REFILL_TIMING: RefillTiming = { afterMs: 100, quietMs: 50, maxWaitMs: 3_000 };

export interface RefillState {
  /** When the taken runtime's function was assigned (epoch ms). */
  assignedAt: number;
  /** When the last call of any function started on this invoker (epoch ms; 0: none). */
  lastCallAt: number;
  /** Prewarmed runtimes of the same runtime still ready or starting. */
  left: number;
}

/**
 * Pure: how long to wait before creating the replacement; 0 means now. With none left the next cold start
 * would wait for a whole container (~0.6 s), so it is made as soon as the first call had its turn.
 */
export function refillWaitMs(now: number, state: RefillState, timing: RefillTiming = REFILL_TIMING): number {
  const since = now - state.assignedAt;
  if (since < timing.afterMs) return timing.afterMs - since;
  if (state.left === 0 || since >= timing.maxWaitMs) return 0;
  const quietFor = now - state.lastCallAt;
  if (quietFor >= timing.quietMs) return 0;
  return Math.min(timing.quietMs - quietFor, timing.maxWaitMs - since);
}
