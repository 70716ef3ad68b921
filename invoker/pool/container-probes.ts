// What the invoker may ask of the container behind a lease, through the driver: one call's usage from its
// cgroup, and why its connection broke. Built by the pool into each lease, so the invoker never reaches
// the driver itself.
import type { ContainerDriver, ContainerExit } from '../driver/container-driver.js';
import type { Entry } from './container-entry.js';
import type { RetiredContainer } from '../../core/invoker.js';

/** What one invocation used in a container that runs one request at a time. */
export interface CallUsage {
  cpuMs: number;
  /** Peak of this call where the cgroup allows resetting it (v1), else the container's peak so far. */
  peakMemoryMb: number;
}

export interface CrashReport {
  exit?: ContainerExit;
  logsTail: string;
}

const MB = 1024 * 1024;

/**
 * What the call used, from the container's cgroup: only while no other request can run in the container
 * (concurrency 1), before the slot is released. The function's init (module load, and the runtime's start in a
 * fresh container) is counted apart (markReady); a prewarmed runtime's boot not at all (cpuBaseNs, read at assignment).
 */
export async function measureCall(driver: ContainerDriver, entry: Entry): Promise<CallUsage | undefined> {
  if (!entry.dockerId || entry.concurrency !== 1) return undefined;
  const usage = await driver.usage(entry.dockerId).catch(() => undefined);
  if (!usage) return undefined;
  const cpuMs = (usage.cpuNs - (entry.cpuNs ?? entry.cpuBaseNs ?? 0)) / 1e6;
  entry.cpuNs = usage.cpuNs;
  return { cpuMs: Math.max(0, cpuMs), peakMemoryMb: usage.peakMemoryBytes / MB };
}

/** Why a container's connection broke: its exit state and the tail of its own output. */
export async function diagnoseCrash(driver: ContainerDriver, entry: Entry): Promise<CrashReport> {
  if (!entry.dockerId) return { logsTail: '' };
  const dockerId = entry.dockerId;
  // The engine may take a moment to record the exit after the socket closes.
  let exit = await driver.inspectExit(dockerId);
  for (let i = 0; i < 20 && exit?.running; i++) {
    await new Promise((r) => setTimeout(r, 25));
    exit = await driver.inspectExit(dockerId);
  }
  const logsTail = await driver.logsTail(dockerId, 4096).catch(() => '');
  return { ...(exit ? { exit } : {}), logsTail };
}

/**
 * A container's CPU time and peak memory over its life, for containers serving several calls at once: from
 * ready (its init is billed apart, with its cold start's call), or from assignment for an init that never
 * finished.
 */
export async function measureLife(driver: ContainerDriver, entry: Entry): Promise<{ cpuMs: number; peakMemoryMb: number } | undefined> {
  if (!entry.dockerId) return undefined;
  const usage = await driver.usage(entry.dockerId).catch(() => undefined);
  return usage && { cpuMs: Math.max(0, usage.cpuNs - (entry.readyCpuNs ?? entry.cpuBaseNs ?? 0)) / 1e6, peakMemoryMb: usage.peakMemoryBytes / MB };
}

/** Reads the CPU time a container used before its function was given it (cpuBaseNs); none when the engine cannot tell. */
export async function markAssigned(driver: ContainerDriver, entry: Entry): Promise<void> {
  if (!entry.dockerId) return;
  const usage = await driver.usage(entry.dockerId).catch(() => undefined);
  if (usage) entry.cpuBaseNs = usage.cpuNs;
}

/**
 * At ready: the CPU time of the function's init (from assignment, or creation for a fresh container), billed
 * apart as init; the first call's own CPU is counted from here.
 */
export async function markReady(driver: ContainerDriver, entry: Entry): Promise<void> {
  if (!entry.dockerId) return;
  const usage = await driver.usage(entry.dockerId).catch(() => undefined);
  if (!usage) return;
  entry.initCpuMs = Math.max(0, usage.cpuNs - (entry.cpuBaseNs ?? 0)) / 1e6;
  entry.cpuNs = usage.cpuNs;
  entry.readyCpuNs = usage.cpuNs;
}

/**
 * Pure: a function container's life as metering records it when it goes — its ready time to removal, split
 * into busy and idle. `usage` is the whole-life cgroup reading of a container that served several calls at once.
 */
export function retirementOf(
  entry: Entry,
  removedAt: number,
  keptWarm: boolean,
  usage: { cpuMs: number; peakMemoryMb: number } | undefined,
): RetiredContainer | undefined {
  if (!entry.fn || entry.readyAt === undefined) return undefined;
  const busyTotal = entry.busyMs + (entry.busySince !== undefined ? removedAt - entry.busySince : 0);
  const lifeMs = Math.max(0, removedAt - entry.readyAt);
  const busyMs = Math.min(lifeMs, busyTotal);
  return {
    containerId: entry.id,
    fn: entry.fn,
    memoryMb: entry.memoryMb,
    concurrency: entry.concurrency,
    readyAt: entry.readyAt,
    removedAt,
    busyMs,
    idleMs: lifeMs - busyMs,
    keptWarm,
    ...(usage ?? {}),
  };
}
