// Pure: which invokers a gateway sends calls to. An invoker that fails a call it never received (refused,
// unreachable, draining) or loses one mid-way is marked down at once and skipped; it is probed again after
// a backoff (250 ms, doubling to 5 s) and back in use from its first good probe. Time comes in as arguments.

export const FIRST_BACKOFF_MS = 250;
export const MAX_BACKOFF_MS = 5_000;

interface Down {
  /** When it may be probed next. */
  probeAt: number;
  backoffMs: number;
  /** A probe in flight: not probed twice at once. */
  probing: boolean;
}

export class InvokerHealth {
  private readonly down = new Map<string, Down>();

  /** A failure: down now; a repeated failure doubles the wait before the next probe. */
  markDown(id: string, now: number): void {
    const was = this.down.get(id);
    const backoffMs = was ? Math.min(MAX_BACKOFF_MS, was.backoffMs * 2) : FIRST_BACKOFF_MS;
    this.down.set(id, { probeAt: now + backoffMs, backoffMs, probing: false });
  }

  markUp(id: string): void {
    this.down.delete(id);
  }

  isUp(id: string): boolean {
    return !this.down.has(id);
  }

  /**
   * The ids to send a call to, in the order given (the function's ranking): those up; when none is, all
   * of them — a call is worth a try on an invoker marked down rather than failing unasked.
   */
  usable(ranked: readonly string[]): string[] {
    const up = ranked.filter((id) => this.isUp(id));
    return up.length > 0 ? up : [...ranked];
  }

  /** Down invokers whose next probe is due; each is returned once until probed() settles it. */
  dueForProbe(now: number): string[] {
    const due: string[] = [];
    for (const [id, d] of this.down) {
      if (!d.probing && d.probeAt <= now) {
        d.probing = true;
        due.push(id);
      }
    }
    return due;
  }

  /** A probe's outcome. */
  probed(id: string, ok: boolean, now: number): void {
    if (ok) this.markUp(id);
    else if (this.down.has(id)) this.markDown(id, now);
  }

  /** Forgets invokers no longer in the directory. */
  retain(ids: readonly string[]): void {
    const keep = new Set(ids);
    for (const id of this.down.keys()) if (!keep.has(id)) this.down.delete(id);
  }

  downIds(): string[] {
    return [...this.down.keys()];
  }
}
