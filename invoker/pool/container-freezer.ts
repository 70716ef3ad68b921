// Freezing and thawing containers through the driver, one step at a time per container: a pause and a resume
// of the same container apply in the order asked, a removal waits for the step in progress, and each step
// moves the container through the state machine when it is done.
import type { ContainerDriver } from '../driver/container-driver.js';
import type { Entry } from './container-entry.js';
import type { ContainerEvent } from './container-state.js';
import { isFrozen } from './container-state.js';

export interface ContainerFreezerOptions {
  driver: Pick<ContainerDriver, 'pause' | 'resume' | 'stopPausing'>;
  move(entry: Entry, event: ContainerEvent): void;
  log: { warn(obj: object, msg: string): void };
}

export class ContainerFreezer {
  constructor(private readonly options: ContainerFreezerOptions) {}

  /** Freezes an idle container (no call in it); anything else is left as it is. */
  freeze(entry: Entry): void {
    const dockerId = entry.dockerId;
    if (!dockerId || entry.phase !== 'idle' || entry.active > 0) return;
    this.options.move(entry, 'pause');
    this.step(entry, 'pause', () => this.options.driver.pause(dockerId));
  }

  /**
   * Takes a slot of the container for a call through `take` (which moves it to busy, or to resuming when
   * frozen), resuming it first when frozen; resolves with the result once it can serve.
   */
  acquire<T>(entry: Entry, take: () => T): T | Promise<T> {
    const frozen = isFrozen(entry);
    const pausing = entry.phase === 'pausing';
    const taken = take();
    if (frozen) {
      const dockerId = entry.dockerId!;
      // Back to back calls find it still being frozen: the call waits for the freeze's write, not for every
      // process of the container to stop (milliseconds for a young runtime whose threads are compiling).
      if (pausing) this.options.driver.stopPausing?.(dockerId);
      this.step(entry, 'resume', () => this.options.driver.resume(dockerId));
    }
    return entry.transition ? entry.transition.then(() => taken) : taken;
  }

  /** Resolves once the pause or resume in progress (if any) is done. */
  settled(entry: Entry): Promise<void> {
    return entry.transition ?? Promise.resolve();
  }

  /**
   * Runs a pause or resume after the one in progress, and moves the container on when done. A pause that
   * fails leaves it idle and running; a resume that fails lets the call find out.
   */
  private step(entry: Entry, kind: 'pause' | 'resume', run: () => Promise<void>): void {
    const next = (entry.transition ?? Promise.resolve()).then(run).then(
      () => this.options.move(entry, kind === 'pause' ? 'paused' : 'resumed'),
      (err: Error) => {
        this.options.log.warn({ fn: entry.fn, containerId: entry.id, err: err.message }, `container not ${kind}d`);
        this.options.move(entry, kind === 'pause' ? 'pauseFailed' : 'resumed');
      },
    );
    entry.transition = next;
    void next.finally(() => {
      if (entry.transition === next) entry.transition = undefined;
    });
  }
}
