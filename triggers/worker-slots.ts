// Which queues have a live BullMQ worker in this process. Each worker holds a Redis connection of its own,
// so there are at most `max`, however many functions are deployed: a queue with work takes a free slot or
// waits for one, first come first served. A worker that ran nothing for `idleMs` is closed; so is one that
// has been live past `fairShareMs` while other queues wait (it is still wanted, so it goes to the back of
// the line). Pure: the dispatcher tells it what happened and when, and applies what it answers.

export interface SlotPolicy {
  /** Live workers at most (FAAS_ASYNC_MAX_WORKERS). */
  max: number;
  /** A worker with no job for this long is closed (ms). */
  idleMs: number;
  /** A worker live this long is closed when other queues wait for a slot (ms). */
  fairShareMs: number;
}

interface Slot {
  since: number;
  lastBusy: number;
  running: number;
  closing: boolean;
}

export type Wanted = 'start' | 'live' | 'waiting';

export class WorkerSlots {
  private readonly live = new Map<string, Slot>();
  /** Queues waiting for a slot; insertion order is the line. */
  private readonly waiting = new Set<string>();

  constructor(private readonly policy: SlotPolicy) {}

  /** The queue has work: 'start' (a slot is taken for it now), 'live' (it has a worker) or 'waiting'. */
  want(queue: string, now: number): Wanted {
    if (this.live.has(queue)) return 'live';
    if (this.live.size >= this.policy.max) {
      this.waiting.add(queue);
      return 'waiting';
    }
    this.waiting.delete(queue);
    this.live.set(queue, { since: now, lastBusy: now, running: 0, closing: false });
    return 'start';
  }

  jobStarted(queue: string, now: number): void {
    const slot = this.live.get(queue);
    if (!slot) return;
    slot.running += 1;
    slot.lastBusy = now;
  }

  jobEnded(queue: string, now: number): void {
    const slot = this.live.get(queue);
    if (!slot) return;
    slot.running = Math.max(0, slot.running - 1);
    slot.lastBusy = now;
  }

  /** Workers to close now (each marked closing): idle ones, then the longest-lived past their fair share while queues wait. */
  toClose(now: number): string[] {
    const out: string[] = [];
    for (const [queue, slot] of this.live) {
      if (!slot.closing && slot.running === 0 && now - slot.lastBusy >= this.policy.idleMs) out.push(queue);
    }
    // Slots already closing (this time or earlier) will go to waiting queues: only the rest need a turn.
    let closing = 0;
    for (const slot of this.live.values()) if (slot.closing) closing += 1;
    const stillWaiting = this.waiting.size - out.length - closing;
    if (stillWaiting > 0) {
      const overdue = [...this.live]
        .filter(([queue, slot]) => !slot.closing && !out.includes(queue) && now - slot.since >= this.policy.fairShareMs)
        .sort(([, a], [, b]) => a.since - b.since)
        .slice(0, stillWaiting);
      for (const [queue] of overdue) out.push(queue);
    }
    for (const queue of out) this.live.get(queue)!.closing = true;
    return out;
  }

  /** A worker was closed (or never started): its slot goes to the first queue waiting, returned to be started. */
  closed(queue: string, now: number): string | undefined {
    if (!this.live.delete(queue)) return undefined;
    const [next] = this.waiting;
    if (next === undefined) return undefined;
    this.waiting.delete(next);
    this.live.set(next, { since: now, lastBusy: now, running: 0, closing: false });
    return next;
  }

  /** The queue has no consumer any more: it stops waiting. (A live worker is closed through toClose/closed.) */
  forget(queue: string): void {
    this.waiting.delete(queue);
  }

  /** Marks a live worker closing outside toClose (its function was deleted or redeployed without it). */
  markClosing(queue: string): boolean {
    const slot = this.live.get(queue);
    if (!slot || slot.closing) return false;
    slot.closing = true;
    return true;
  }

  isLive(queue: string): boolean {
    return this.live.has(queue);
  }

  get liveCount(): number {
    return this.live.size;
  }

  get waitingCount(): number {
    return this.waiting.size;
  }
}
