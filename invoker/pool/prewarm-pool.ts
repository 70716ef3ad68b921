// Prewarmed runtimes (OpenWhisk's stem cells): containers already started with no function, so a cold
// start only loads the function's code instead of waiting for the engine to create and start a container.
// `count` of them per runtime in use (--runtime): the default runtime's from the start, another's from the
// first start of a function on it (OpenWhisk keeps stem cells per kind the same way).
import type { Entry } from './container-entry.js';
import { applyEvent, newEntry } from './container-entry.js';
import type { ContainerStarter } from './container-starter.js';
import { DEFAULT_RUNTIME, type RuntimeName } from '../../core/function-settings.js';
import { REFILL_TIMING, type RefillTiming, refillWaitMs } from './refill-timing.js';

export interface PrewarmPoolOptions {
  starter: ContainerStarter;
  /** Prewarmed runtimes kept ready. 0 turns prewarming off. */
  count: number;
  /** Memory limit they start with; a function with another limit gets it on assignment. */
  memoryMb: number;
  /** Whether the pool's memory has room for one more container of this size. */
  hasRoom: (memoryMb: number) => boolean;
  clock: () => number;
  remove: (entries: Map<string, Entry>, entry: Entry, reason: string) => Promise<void>;
  log: { warn(obj: object, msg: string): void };
  /**
   * How often the pool is topped up again once filling started: runtimes that found no memory, were
   * evicted for a function or failed to start are replaced as soon as there is room. Default 1 000.
   */
  retryMs?: number;
  /** Longest wait before another start after failed starts (the wait doubles from retryMs). Default 60 000. */
  maxBackoffMs?: number;
  /** When the last call started (epoch ms): a taken runtime's replacement waits for a quiet moment. Default: always quiet. */
  lastCallAt?: () => number;
  /** When a taken runtime is replaced (refill-timing.ts). */
  refillTiming?: RefillTiming;
}

export class PrewarmPool {
  readonly entries = new Map<string, Entry>();
  /** The runtime of each prewarmed container. */
  private readonly runtimeOf = new Map<string, RuntimeName>();
  /** Runtimes kept prewarmed: the default one, and each another function started on. */
  private readonly runtimes = new Set<RuntimeName>([DEFAULT_RUNTIME]);
  /** Starts in progress; close() waits for them, since a container created during close is removed by its start. */
  private readonly starting = new Set<Promise<unknown>>();
  private closed = false;
  /** Calls fill() every retryMs from the first fill() on, so a pool left short refills once room appears. */
  private refill: NodeJS.Timeout | undefined;
  /** Failed starts in a row, and no start before this epoch ms (backoff, so a broken engine is not hammered). */
  /** Per runtime: a broken image of one never holds back the others' prewarming. */
  private readonly backoff = new Map<RuntimeName, { failures: number; notBefore: number }>();
  /**
   * Runtimes whose taken container's replacement waits — for its assignment, then for a quiet moment (the
   * timer of the next look): fill() leaves them be.
   */
  private readonly deferred = new Map<RuntimeName, { since: number; timer?: NodeJS.Timeout }>();

  constructor(private readonly options: PrewarmPoolOptions) {}

  /** Containers of a runtime ready or starting (not those being removed, which are replaced). */
  private live(runtime: RuntimeName): number {
    let n = 0;
    for (const entry of this.entries.values()) if (entry.phase !== 'removing' && this.runtimeOf.get(entry.id) === runtime) n += 1;
    return n;
  }

  /** Keeps containers of this runtime prewarmed too, from now on. */
  use(runtime: RuntimeName): void {
    if (this.runtimes.has(runtime)) return;
    this.runtimes.add(runtime);
    this.fill();
  }

  /** Starts runtimes until `count` are ready or starting (as memory allows); tried again every retryMs. */
  fill(): void {
    if (this.closed || this.options.count <= 0) return;
    if (!this.refill) {
      this.refill = setInterval(() => this.fill(), this.options.retryMs ?? 1_000);
      this.refill.unref();
    }
    // Containers removed by others (evicted for memory) leave their runtime behind here.
    for (const id of this.runtimeOf.keys()) if (!this.entries.has(id)) this.runtimeOf.delete(id);
    for (const runtime of this.runtimes)
      if (!this.isDeferred(runtime) && this.options.clock() >= (this.backoff.get(runtime)?.notBefore ?? 0)) this.fillRuntime(runtime);
  }

  /**
   * Whether a taken runtime's replacement waits: while its assignment runs (bounded by maxWaitMs, so a long
   * init or an assignment never reported does not hold the pool empty) and while replaceTaken's look runs.
   */
  private isDeferred(runtime: RuntimeName): boolean {
    const waiting = this.deferred.get(runtime);
    if (!waiting) return false;
    return waiting.timer !== undefined || this.options.clock() - waiting.since < (this.options.refillTiming ?? REFILL_TIMING).maxWaitMs;
  }

  /**
   * A runtime taken by take() has had its function assigned: its replacement is created once the host is
   * quiet (refill-timing.ts), so it does not compete with the new function's first calls.
   */
  replaceTaken(runtime: RuntimeName): void {
    const waiting = this.deferred.get(runtime) ?? { since: this.options.clock() };
    if (this.closed || waiting.timer) return;
    this.deferred.set(runtime, waiting);
    const assignedAt = this.options.clock();
    const check = () => {
      const wait = refillWaitMs(
        this.options.clock(),
        { assignedAt, lastCallAt: this.options.lastCallAt?.() ?? 0, left: this.live(runtime) },
        this.options.refillTiming ?? REFILL_TIMING,
      );
      if (wait > 0) return void (waiting.timer = setTimeout(check, wait).unref());
      this.deferred.delete(runtime);
      this.fill();
    };
    check();
  }

  private fillRuntime(runtime: RuntimeName): void {
    for (let live = this.live(runtime); live < this.options.count && this.options.hasRoom(this.options.memoryMb); live++) {
      const id = this.options.starter.newId();
      const entry = newEntry(
        { id, fn: '', version: 0, memoryMb: this.options.memoryMb, concurrency: 1, socketDir: this.options.starter.socketDirOf(id) },
        this.options.clock(),
      );
      this.entries.set(id, entry);
      this.runtimeOf.set(id, runtime);
      const start = this.options.starter
        .startPrewarmed(entry, runtime)
        .then((running) => {
          if (running && entry.phase === 'starting') {
            applyEvent(entry, 'ready', (err) => this.options.log.warn({ containerId: entry.id, err: err.message }, 'container state'));
            entry.lastUsedAt = 0; // evicted before any function's container
          }
          if (running) this.backoff.delete(runtime);
        })
        .catch((err: Error) => {
          // Removed while it started (the pool closing): not a failure of the engine.
          if (this.closed || entry.removal) return this.options.remove(this.entries, entry, 'prewarm failed');
          const failures = (this.backoff.get(runtime)?.failures ?? 0) + 1;
          const backoff = Math.min(this.options.maxBackoffMs ?? 60_000, (this.options.retryMs ?? 1_000) * 2 ** (failures - 1));
          this.backoff.set(runtime, { failures, notBefore: this.options.clock() + backoff });
          this.options.log.warn({ err: err.message, retryInMs: backoff }, 'prewarmed container failed to start');
          return this.options.remove(this.entries, entry, 'prewarm failed');
        })
        .finally(() => this.starting.delete(start));
      this.starting.add(start);
    }
  }

  /**
   * Takes a ready prewarmed container out of the pool for the caller to assign; the caller calls
   * replaceTaken() once the assignment is done, so the replacement does not compete with it in the engine.
   */
  take(runtime: RuntimeName = DEFAULT_RUNTIME): Entry | undefined {
    for (const entry of this.entries.values()) {
      if (entry.phase !== 'idle' || this.runtimeOf.get(entry.id) !== runtime) continue;
      this.entries.delete(entry.id);
      this.runtimeOf.delete(entry.id);
      if (!this.isDeferred(runtime)) this.deferred.set(runtime, { since: this.options.clock() });
      return entry;
    }
    return undefined;
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.refill) clearInterval(this.refill);
    for (const { timer } of this.deferred.values()) clearTimeout(timer);
    this.deferred.clear();
    await Promise.all([...this.entries.values()].map((e) => this.options.remove(this.entries, e, 'invoker closing')));
    await Promise.allSettled([...this.starting]);
  }
}
