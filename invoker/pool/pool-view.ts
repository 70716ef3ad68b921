// Snapshots of the pool that the pure decision modules read; built by the stateful pool, or by hand in tests.

import { isIdlePhase, type ContainerPhase } from './container-state.js';

export type { ContainerPhase };

export interface ContainerView {
  id: string;
  fn: string;
  version: number;
  phase: ContainerPhase;
  /** Requests running in it now. */
  active: number;
  /** Epoch ms of the last request's end (or of readiness when it never served). */
  lastUsedAt: number;
  memoryMb: number;
}

/** One function's containers (all versions) and its waiting requests. */
export interface FunctionView {
  fn: string;
  /** The deployed version: only its containers take new requests. */
  version: number;
  containers: readonly ContainerView[];
  /** Requests waiting in this function's FIFO queue. */
  queued: number;
}

export interface FunctionLimits {
  concurrency: number;
  maxScale: number;
  minScale: number;
  memoryMb: number;
  idleTimeoutMs: number;
  /** Idle containers are paused once idle this long; absent: never. */
  pauseAfterMs?: number;
}

/** The host side: memory left for new containers, and idle containers of other functions that may be evicted. */
export interface HostView {
  freeMemoryMb: number;
  evictable: readonly ContainerView[];
  /**
   * Containers the function's tenant may still start under its maxContainers quota (absent: no quota),
   * and the tenant's idle containers of other functions, which make room when evicted.
   */
  tenantRoom?: number;
  tenantIdle?: readonly ContainerView[];
}

/** What a start without eviction may use: the free memory and the tenant's room (HostView has both). */
export type HostRoom = Pick<HostView, 'freeMemoryMb' | 'tenantRoom'>;

/** Idle, running or frozen: no request in it. */
export const isIdle = (c: ContainerView) => isIdlePhase(c);

export const isCurrent = (view: FunctionView, c: ContainerView) => c.version === view.version && c.phase !== 'removing';
