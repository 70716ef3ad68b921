// Hand-built pool snapshots for the pure decision tests (as OpenWhisk's warmedData(lastUsed = …)).
import type { ContainerView, FunctionLimits, FunctionView, HostView } from '../../../invoker/pool/pool-view.js';

export const container = (over: Partial<ContainerView> = {}): ContainerView => ({
  id: 'c1',
  fn: 'hello',
  version: 1,
  phase: 'idle',
  active: 0,
  lastUsedAt: 0,
  memoryMb: 128,
  ...over,
});

export const fnView = (containers: ContainerView[] = [], over: Partial<FunctionView> = {}): FunctionView => ({
  fn: 'hello',
  version: 1,
  containers,
  queued: 0,
  ...over,
});

export const limits = (over: Partial<FunctionLimits> = {}): FunctionLimits => ({
  concurrency: 1,
  maxScale: 10,
  minScale: 0,
  memoryMb: 128,
  idleTimeoutMs: 60_000,
  ...over,
});

export const host = (over: Partial<HostView> = {}): HostView => ({ freeMemoryMb: 10_000, evictable: [], ...over });
