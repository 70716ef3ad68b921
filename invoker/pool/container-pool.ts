// The one stateful part of the invoker: wires the pure parts together. It holds each function's containers
// and waiting queue, asks decide/reap what to do, moves containers through the state machine
// (container-state.ts) and carries decisions out through the starter and the driver.
import type { FunctionSpec } from '../../core/function-spec.js';
import {
  CapacityError,
  FunctionInitTimeoutError,
  FunctionNotFoundError,
  QueueFullError,
  QueueTimeoutError,
  QuotaExceededError,
  assertNever,
} from '../../core/errors.js';
import { RuntimeTimeoutError } from '../runtime/runtime-connection.js';
import { splitFunctionId } from '../../core/function-spec.js';
import type { ContainerInfo, ContainerState } from '../../core/invoker.js';
import { applyEvent, newEntry, type Entry } from './container-entry.js';
import type { ContainerEvent } from './container-state.js';
import { ContainerFreezer } from './container-freezer.js';
import { countContainers, listContainers, liveByTenant, type ListedFunction } from './container-listing.js';
import { diagnoseCrash, markAssigned, markReady, measureCall, measureLife, retirementOf, type CallUsage, type CrashReport } from './container-probes.js';
import type { ContainerPoolOptions, Lease, PoolLog } from './pool-contract.js';
import { buildHostView, freeMemoryMb, type PoolContents } from './host-view.js';
import { WaitingQueue } from './waiting-queue.js';
import { ContainerStarter } from './container-starter.js';
import { decide, pickWarm, planScaleUp, type ScaleUp } from './decide.js';
import { PrewarmPool } from './prewarm-pool.js';
import { DEFAULT_RUNTIME } from '../../core/function-settings.js';
import type { FunctionLimits, FunctionView, HostView } from './pool-view.js';
import { reap } from './reap.js';

export type { CallUsage, ContainerPoolOptions, CrashReport, Lease, PoolLog };

/**
 * One version of a function: its own containers and waiting queue (a warm pool per version, so a rollback
 * finds the old version's containers still warm, and a version nobody calls scales to zero on its own).
 */
interface FunctionState {
  spec: FunctionSpec;
  containers: Map<string, Entry>;
  queue: WaitingQueue<Lease>;
  deleted: boolean;
}

const silentLog: PoolLog = { info() {}, warn() {} };

/** The pool's key of a function version. */
const keyOf = (fn: string, version: number) => `${fn}@${version}`;

const limitsOf = (spec: FunctionSpec, pauseAfterMs?: number): FunctionLimits => ({
  concurrency: spec.concurrency,
  maxScale: spec.maxScale,
  minScale: spec.minScale,
  memoryMb: spec.memoryMb,
  idleTimeoutMs: spec.idleTimeoutMs,
  ...(pauseAfterMs === undefined ? {} : { pauseAfterMs }),
});

export class ContainerPool {
  private readonly functions = new Map<string, FunctionState>();
  /** Each function's version states, so the function's limits hold across its versions. */
  private readonly versionsOf = new Map<string, Set<FunctionState>>();
  /**
   * Containers that must take no new call (their function was deleted and deployed again, or its secrets
   * changed): removed when idle, left out of every decision meanwhile.
   */
  private readonly stale = new WeakSet<Entry>();
  private readonly clock: () => number;
  private readonly log: PoolLog;
  private reaper: NodeJS.Timeout | undefined;
  private closing = false;
  /** When the last call asked for a slot (epoch ms): the prewarmed pool refills in quiet moments. */
  private lastCallAt = 0;
  /** Container starts in progress: a container created while the pool closes is removed by its own start. */
  private readonly starting = new Set<Promise<void>>();
  private readonly starter: ContainerStarter;
  private readonly prewarm: PrewarmPool;
  private readonly freezer: ContainerFreezer;

  constructor(private readonly options: ContainerPoolOptions) {
    this.clock = options.clock ?? Date.now;
    this.log = options.log ?? silentLog;
    this.starter = new ContainerStarter(options);
    this.freezer = new ContainerFreezer({ driver: options.driver, move: (entry, event) => this.move(entry, event), log: this.log });
    this.prewarm = new PrewarmPool({
      starter: this.starter,
      count: options.prewarmCount ?? 0,
      memoryMb: options.prewarmMemoryMb ?? 128,
      hasRoom: (memoryMb) => freeMemoryMb(this.contents()) >= memoryMb,
      clock: this.clock,
      remove: (entries, entry, reason) => this.removeEntry(entries, entry, reason),
      log: this.log,
      lastCallAt: () => this.lastCallAt,
    });
  }

  /** Every phase change goes through the state machine; one that does not apply is logged, never thrown. */
  private move(entry: Entry, event: ContainerEvent): void {
    applyEvent(entry, event, (err) => this.log.warn({ fn: entry.fn, containerId: entry.id, err: err.message }, 'container state machine'));
  }

  /**
   * A version's limits: minScale only while an alias routes calls to it (keepsWarm), else 0 (it scales to
   * zero); maxScale is the function's, less the containers its other versions have working (busy or
   * starting), so calls to several versions (`name@1`, `name@2`, …) never run more than maxScale at once.
   */
  private limitsOf(spec: FunctionSpec): FunctionLimits {
    let othersWorking = 0;
    for (const other of this.versionsOf.get(spec.name) ?? []) {
      if (other.spec.version === spec.version) continue;
      for (const e of other.containers.values()) if (e.phase === 'starting' || e.active > 0) othersWorking += 1;
    }
    return { ...limitsOf(spec, this.options.pauseAfterMs), minScale: this.minScaleOf(spec), maxScale: Math.max(0, spec.maxScale - othersWorking) };
  }

  /** A container of another version of this function freed up: its waiting calls may start one now. */
  private dispatchSiblings(state: FunctionState): void {
    for (const other of this.versionsOf.get(state.spec.name) ?? []) if (other !== state && other.queue.length > 0) this.dispatch(other);
  }

  /** Live containers (not being removed) of one version here. */
  liveCount(fn: string, version: number): number {
    const state = this.functions.get(keyOf(fn, version));
    if (!state || state.deleted) return 0;
    let live = 0;
    for (const e of state.containers.values()) if (e.phase !== 'removing' && !this.stale.has(e)) live += 1;
    return live;
  }

  /**
   * Starts `count` containers of a version ahead of its calls (an alias moved to it from a version warm here:
   * its first calls need not wait for a cold start), within its maxScale and the pool's memory.
   */
  warmUp(spec: FunctionSpec, count: number): void {
    if (this.closing) return;
    this.setFunction(spec);
    const key = keyOf(spec.name, spec.version);
    const state = this.functions.get(key)!;
    const missing = count - this.liveCount(spec.name, spec.version);
    if (missing <= 0) return;
    this.scaleUp(state, planScaleUp(this.viewOf(state), this.limitsOf(state.spec), this.hostView(key), missing * spec.concurrency));
  }

  /** Containers to take no new call, e.g. after a secret they hold changed: the idle ones go now, the busy ones when done. */
  recycle(name: string, reason: string): void {
    for (const state of this.versionsOf.get(name) ?? []) this.retireAll(state, reason);
  }

  private retireAll(state: FunctionState, reason: string): void {
    for (const entry of state.containers.values()) {
      if (entry.phase === 'removing') continue;
      this.stale.add(entry);
      if (entry.active === 0 && entry.phase !== 'starting') void this.removeEntry(state.containers, entry, reason);
    }
  }

  private minScaleOf(spec: FunctionSpec): number {
    return spec.minScale > 0 && (this.options.keepsWarm?.(spec.name, spec.version) ?? true) ? spec.minScale : 0;
  }

  /** Removes containers this owner left behind (a crash or kill of an earlier run), then starts reaping. */
  async start(): Promise<number> {
    const leftovers = await this.starter.clearLeftovers();
    if (leftovers > 0) this.log.info({ removed: leftovers }, 'removed containers left behind');
    this.reaper = setInterval(() => this.reapAll(), this.options.reapIntervalMs ?? 250);
    this.reaper.unref();
    this.prewarm.fill();
    return leftovers;
  }

  /** A version is deployed, or its function's routing changed (minScale follows the aliases), or the pool first hears of it. */
  setFunction(spec: FunctionSpec): void {
    const key = keyOf(spec.name, spec.version);
    const state = this.functions.get(key);
    if (!state) {
      const created: FunctionState = { spec, containers: new Map(), queue: new WaitingQueue<Lease>(), deleted: false };
      this.functions.set(key, created);
      let versions = this.versionsOf.get(spec.name);
      if (!versions) this.versionsOf.set(spec.name, (versions = new Set()));
      versions.add(created);
      this.reapOne(key);
      return;
    }
    // Deleted, then deployed again under the same version number: the old containers hold the old code.
    if (state.deleted) this.retireAll(state, 'function deployed again');
    state.spec = spec;
    state.deleted = false;
    this.reapOne(key);
    this.dispatch(state);
  }

  /**
   * The function was deleted (every version), or only the versions not in `kept`: their queued requests fail,
   * their containers go as soon as they are idle.
   */
  removeFunction(name: string, kept?: readonly number[]): void {
    for (const state of this.versionsOf.get(name) ?? []) {
      if (state.deleted || kept?.includes(state.spec.version)) continue;
      state.deleted = true;
      state.queue.rejectAll(new FunctionNotFoundError(kept ? `${name}@${state.spec.version}` : name));
      for (const entry of state.containers.values())
        if (entry.active === 0) this.removeEntry(state.containers, entry, kept ? 'version deleted' : 'function deleted');
    }
  }

  /** Resolves with a container slot for one invocation of spec (waiting in the FIFO queue when needed). */
  acquire(spec: FunctionSpec, enqueuedAt: number = this.clock()): Promise<Lease> {
    if (this.closing) return Promise.reject(new CapacityError('the invoker is shutting down'));
    this.lastCallAt = this.clock();
    const key = keyOf(spec.name, spec.version);
    const current = this.functions.get(key);
    if (!current || current.deleted) this.setFunction(spec);
    const state = this.functions.get(key)!;
    const decision = decide(this.viewOf(state), this.limitsOf(state.spec), this.hostView(key), this.options.maxQueue);
    switch (decision.kind) {
      case 'warm':
        return Promise.resolve(this.lease(state.containers.get(decision.containerId)!, enqueuedAt));
      case 'reject':
        return Promise.reject(new QueueFullError(`function ${spec.name} has ${state.queue.length} requests waiting already (the limit); retry later`));
      case 'quota': {
        const tenant = splitFunctionId(spec.name).tenant;
        return Promise.reject(
          new QuotaExceededError(
            `tenant "${tenant}" runs ${this.options.tenantLimit?.(tenant)} containers, its maxContainers quota (${this.options.tenantElsewhere?.(tenant) ?? 0} of them on other invokers), all busy; retry later or ask an admin to raise it (faas tenant set ${tenant} --max-containers N)`,
          ),
        );
      }
      case 'queue': {
        const wait = this.options.maxQueueWaitMs;
        const promise = state.queue.wait(enqueuedAt, wait, () => new QueueTimeoutError(`function ${spec.name} had no free container within ${wait} ms`));
        this.scaleUp(state, decision);
        return promise;
      }
      default:
        return assertNever(decision);
    }
  }

  /** The invocation finished normally: the slot is free again. */
  release(lease: Lease): void {
    const state = this.functions.get(keyOf(lease.fn, lease.version));
    const entry = state?.containers.get(lease.containerId);
    if (!state || !entry) return;
    this.move(entry, 'release');
    entry.lastUsedAt = this.clock();
    this.endBusy(entry);
    if (entry.active === 0 && (state.deleted || this.stale.has(entry) || entry.version !== state.spec.version)) {
      this.removeEntry(state.containers, entry, state.deleted ? 'function deleted' : 'replaced');
    }
    this.dispatch(state);
    this.dispatchSiblings(state);
    this.pauseWhenIdle(entry);
  }

  /**
   * Freezes a container left with no call in flight once pauseAfterMs passed (at once for 0), so work a
   * function leaves running after it answers does not go on unbilled between calls. The reap checks too.
   */
  private pauseWhenIdle(entry: Entry): void {
    const afterMs = this.options.pauseAfterMs;
    if (afterMs === undefined || entry.phase !== 'idle' || entry.active > 0) return;
    if (afterMs === 0) {
      this.freezer.freeze(entry);
      return;
    }
    if (entry.pauseTimer) {
      entry.pauseTimer.refresh();
      return;
    }
    entry.pauseTimer = setTimeout(() => {
      entry.pauseTimer = undefined;
      this.freezer.freeze(entry);
    }, afterMs).unref();
  }

  /** The container must not serve again (timeout, crash, OOM, init failure): kill and remove it. */
  discard(lease: Lease, reason: string): void {
    const state = this.functions.get(keyOf(lease.fn, lease.version));
    const entry = state?.containers.get(lease.containerId);
    if (!state || !entry) return;
    void this.removeEntry(state.containers, entry, reason);
    this.move(entry, 'release');
    this.endBusy(entry);
    this.dispatch(state);
    this.dispatchSiblings(state);
  }

  private endBusy(entry: Entry): void {
    if (entry.active > 0 || entry.busySince === undefined) return;
    entry.busyMs += this.clock() - entry.busySince;
    entry.busySince = undefined;
  }

  /** Reports a function container's life before it goes; never fails the removal. */
  private async retire(entry: Entry): Promise<void> {
    if (!this.options.onRetired || !entry.fn || entry.readyAt === undefined) return;
    const removedAt = this.clock();
    // Containers of concurrency 1 had each call measured; the others are measured once, here.
    const usage = entry.concurrency > 1 ? await measureLife(this.options.driver, entry) : undefined;
    const spec = this.functions.get(keyOf(entry.fn, entry.version))?.spec;
    const record = retirementOf(entry, removedAt, spec !== undefined && this.minScaleOf(spec) > 0, usage);
    if (record) this.options.onRetired(record);
  }

  /** Containers by state; of one tenant's functions only when given (prewarmed runtimes belong to no tenant). */
  counts(tenant?: string): Record<ContainerState, number> {
    return countContainers(this.listed(), this.prewarm.entries.values(), tenant);
  }

  /** Every container, or one tenant's functions' (prewarmed runtimes belong to no tenant), oldest first. */
  list(tenant?: string): Array<Omit<ContainerInfo, 'invoker'>> {
    return listContainers(this.listed(), this.prewarm.entries.values(), tenant);
  }

  /** Live containers (not being removed) per tenant; prewarmed runtimes belong to no tenant. */
  liveByTenant(): Map<string, number> {
    return liveByTenant(this.listed());
  }

  private listed(): ListedFunction[] {
    return [...this.functions.values()].map((state) => ({ tenant: splitFunctionId(state.spec.name).tenant, containers: state.containers.values() }));
  }

  /** Stops taking requests, waits (up to drainMs) for in-flight ones, then removes every container. */
  async close(drainMs = 10_000): Promise<void> {
    this.closing = true;
    if (this.reaper) clearInterval(this.reaper);
    for (const state of this.functions.values()) state.queue.rejectAll(new CapacityError('the invoker is shutting down'));
    const deadline = this.clock() + drainMs;
    while (this.clock() < deadline && [...this.functions.values()].some((s) => [...s.containers.values()].some((e) => e.active > 0))) {
      await new Promise((r) => setTimeout(r, 20));
    }
    const removals: Promise<void>[] = [];
    for (const state of this.functions.values()) {
      for (const entry of state.containers.values()) removals.push(this.removeEntry(state.containers, entry, 'invoker closing'));
    }
    removals.push(this.prewarm.close());
    await Promise.all(removals);
    await Promise.allSettled([...this.starting]);
  }

  /** Takes a slot of the container; resolves once a paused one has been resumed. */
  private lease(entry: Entry, enqueuedAt: number): Lease | Promise<Lease> {
    return this.freezer.acquire(entry, () => this.take(entry, enqueuedAt));
  }

  private take(entry: Entry, enqueuedAt: number): Lease {
    if (entry.active === 0) entry.busySince = this.clock();
    this.move(entry, 'acquire');
    const driver = this.options.driver;
    const coldStart = entry.served === 0 && (entry.readyAt ?? 0) >= enqueuedAt;
    entry.served += 1;
    return {
      containerId: entry.id,
      fn: entry.fn,
      version: entry.version,
      connection: entry.connection!,
      coldStart,
      ...(coldStart && entry.initMs !== undefined ? { initMs: entry.initMs } : {}),
      ...(coldStart && entry.initCpuMs !== undefined ? { initCpuMs: entry.initCpuMs } : {}),
      queueWaitMs: Math.max(0, this.clock() - enqueuedAt),
      measure: () => measureCall(driver, entry),
      diagnose: () => diagnoseCrash(driver, entry),
    };
  }

  /** Hands free slots of ready current-version containers to queued requests in FIFO order, then scales up for the rest. */
  private dispatch(state: FunctionState): void {
    while (state.queue.length > 0) {
      const entry = this.freeSlot(state);
      if (!entry) break;
      const waiter = state.queue.next()!;
      waiter.resolve(this.lease(entry, waiter.enqueuedAt));
    }
    if (state.queue.length > 0 && !state.deleted && !this.closing) {
      this.scaleUp(
        state,
        planScaleUp(this.viewOf(state), this.limitsOf(state.spec), this.hostView(keyOf(state.spec.name, state.spec.version)), state.queue.length),
      );
    }
  }

  private freeSlot(state: FunctionState): Entry | undefined {
    const view = this.viewOf(state);
    const warm = pickWarm(view, state.spec.concurrency);
    return warm && state.containers.get(warm.id);
  }

  private scaleUp(state: FunctionState, plan: ScaleUp): void {
    for (const id of plan.evict) {
      const prewarmed = this.prewarm.entries.get(id);
      if (prewarmed) void this.removeEntry(this.prewarm.entries, prewarmed, 'evicted for memory');
      for (const other of this.functions.values()) {
        const victim = other.containers.get(id);
        if (victim) void this.removeEntry(other.containers, victim, 'evicted for memory');
      }
    }
    for (let i = 0; i < plan.start; i++) this.track(this.startContainer(state));
  }

  /** Keeps a container start in view until it settles, so close() can wait for it. */
  private track(start: Promise<void>): void {
    this.starting.add(start);
    void start.finally(() => this.starting.delete(start));
  }

  private async startContainer(state: FunctionState, usePrewarmed = true): Promise<void> {
    const spec = state.spec;
    const runtime = spec.runtime ?? DEFAULT_RUNTIME;
    const stem = usePrewarmed && this.starter.fitsPrewarmed(spec) ? this.prewarm.take(runtime) : undefined;
    const id = stem?.id ?? this.starter.newId();
    const entry = newEntry(
      { id, fn: spec.name, version: spec.version, memoryMb: spec.memoryMb, concurrency: spec.concurrency, socketDir: this.starter.socketDirOf(id) },
      this.clock(),
    );
    state.containers.set(id, entry);
    try {
      if (stem) {
        entry.dockerId = stem.dockerId;
        entry.ownCodeDir = stem.ownCodeDir;
        if (stem.listener) entry.listener = stem.listener;
        // The runtime's boot so far was the platform's: the function's CPU time counts from here.
        await markAssigned(this.options.driver, entry);
        await this.starter.assign(entry, spec, stem.memoryMb);
      } else if (!(await this.starter.startFunction(entry, spec))) {
        return;
      }
      if (entry.phase !== 'starting') return;
      await markReady(this.options.driver, entry);
      if (entry.phase !== 'starting') return;
      entry.readyAt = this.clock();
      entry.initMs = entry.readyAt - entry.createdAt;
      this.move(entry, 'ready');
      entry.lastUsedAt = entry.readyAt;
      this.log.info({ fn: spec.name, version: spec.version, containerId: id, initMs: entry.initMs, prewarmed: !!stem }, 'container ready');
      // The next cold start on this runtime (another than the default) finds a container of it prewarmed.
      if (!stem && this.starter.fitsPrewarmed(spec)) this.prewarm.use(runtime);
      this.dispatch(state);
    } catch (err) {
      this.log.warn({ fn: spec.name, containerId: id, prewarmed: !!stem, err: (err as Error).message }, 'container failed to start');
      // The runtime took the code but its init never finished: the function's time, billed (once) and told to
      // every waiter; another start would only spin the same init again.
      const initTimedOut = err instanceof RuntimeTimeoutError && entry.phase === 'starting';
      const usage = initTimedOut ? await measureLife(this.options.driver, entry) : undefined;
      await this.removeEntry(state.containers, entry, initTimedOut ? 'init timed out' : 'start failed');
      if (initTimedOut) {
        const initMs = this.clock() - entry.createdAt;
        state.queue.rejectAll(
          new FunctionInitTimeoutError(`function ${spec.name} did not finish loading within ${Math.round(initMs)} ms: its top-level code runs too long`, {
            version: spec.version,
            initMs,
            ...(usage ? { initCpuMs: usage.cpuMs } : {}),
          }),
        );
        return;
      }
      // A prewarmed container that could not take the function (e.g. a limit it cannot shrink to): start a fresh one.
      if (stem && state.queue.length > 0) return this.startContainer(state, false);
      // Waiters nothing else will serve get the failure now rather than a queue timeout.
      const live = [...state.containers.values()].some((e) => e.phase !== 'removing');
      if (!live) state.queue.rejectAll(new CapacityError(`could not start a container for ${spec.name}: ${(err as Error).message}`));
    } finally {
      // The stem's replacement (an engine create and start: about half a second of CPU for dockerd,
      // containerd and runc on this 2-core host) waits for a quiet moment, not beside the first calls.
      if (stem) this.prewarm.replaceTaken(runtime);
    }
  }

  private removeEntry(entries: Map<string, Entry>, entry: Entry, reason: string): Promise<void> {
    if (entry.removal) return entry.removal;
    // Marked before any await, so no decision picks it while it goes.
    this.move(entry, 'remove');
    this.log.info({ fn: entry.fn, version: entry.version, containerId: entry.id, reason }, 'removing container');
    // After a pause or resume in progress, so the container is not frozen again once killed.
    entry.removal = this.freezer
      .settled(entry)
      .then(() => this.retire(entry))
      .catch((err: Error) => this.log.warn({ containerId: entry.id, err: err.message }, 'container usage not reported'))
      .then(() => this.starter.remove(entry, (err) => this.log.warn({ containerId: entry.id, err: err.message }, 'container removal failed')))
      .finally(() => entries.delete(entry.id));
    return entry.removal;
  }

  private reapAll(): void {
    for (const key of this.functions.keys()) this.reapOne(key);
  }

  private reapOne(key: string): void {
    const state = this.functions.get(key);
    if (!state || this.closing) return;
    if (state.deleted) {
      if (state.containers.size === 0) {
        this.functions.delete(key);
        const versions = this.versionsOf.get(state.spec.name);
        versions?.delete(state);
        if (versions?.size === 0) this.versionsOf.delete(state.spec.name);
      }
      return;
    }
    // Replaced containers that were starting or busy when they were retired go once idle.
    for (const entry of state.containers.values()) {
      if (entry.active === 0 && entry.phase !== 'starting' && entry.phase !== 'removing' && this.stale.has(entry))
        void this.removeEntry(state.containers, entry, 'replaced');
    }
    const limits = this.limitsOf(state.spec);
    // Nothing to pause, remove or keep up: the common case with thousands of functions deployed, most idle.
    if (state.containers.size === 0 && limits.minScale === 0) return;
    // minScale starts only into free memory and the tenant's room (the host view is built only when needed).
    const plan = reap(this.viewOf(state), limits, this.clock(), limits.minScale > 0 ? this.hostView(key) : undefined);
    for (const id of plan.remove) {
      const entry = state.containers.get(id);
      if (entry) void this.removeEntry(state.containers, entry, entry.version === state.spec.version ? 'idle timeout' : 'old version');
    }
    for (const id of plan.pause) {
      const entry = state.containers.get(id);
      if (entry) this.freezer.freeze(entry);
    }
    if (plan.start > 0) this.scaleUp(state, { start: plan.start, evict: [] });
  }

  private viewOf(state: FunctionState): FunctionView {
    return {
      fn: state.spec.name,
      version: state.spec.version,
      containers: [...state.containers.values()].filter((e) => !this.stale.has(e)),
      queued: state.queue.length,
    };
  }

  /** The pool's containers as the pure host-view builder reads them. */
  private contents(): PoolContents {
    // By version: another version's idle containers may be evicted for this one's (a dev loop's every save).
    const functions = [...this.functions.values()].map((state) => ({
      fn: keyOf(state.spec.name, state.spec.version),
      tenant: splitFunctionId(state.spec.name).tenant,
      containers: [...state.containers.values()],
    }));
    return { poolMemoryMb: this.options.poolMemoryMb, functions, prewarmed: [...this.prewarm.entries.values()] };
  }

  /** The host as a request of one version (its pool key) sees it. */
  private hostView(key: string): HostView {
    const tenant = splitFunctionId(key).tenant;
    const limit = this.options.tenantLimit?.(tenant);
    return buildHostView(this.contents(), key, tenant, limit, limit === undefined ? 0 : (this.options.tenantElsewhere?.(tenant) ?? 0));
  }
}
