// The FIFO of requests waiting for a container of one function, each with its own deadline.

export interface Waiting<T> {
  readonly enqueuedAt: number;
  resolve(value: T | Promise<T>): void;
  reject(err: Error): void;
}

interface Entry<T> extends Waiting<T> {
  timer: NodeJS.Timeout;
}

export class WaitingQueue<T> {
  private readonly waiting: Array<Entry<T>> = [];

  get length(): number {
    return this.waiting.length;
  }

  /** Queues a request; it is rejected with `onTimeout()` if still waiting after `timeoutMs`. */
  wait(enqueuedAt: number, timeoutMs: number, onTimeout: () => Error): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const entry: Entry<T> = {
        enqueuedAt,
        resolve,
        reject,
        timer: setTimeout(() => {
          const at = this.waiting.indexOf(entry);
          if (at !== -1) this.waiting.splice(at, 1);
          reject(onTimeout());
        }, timeoutMs),
      };
      this.waiting.push(entry);
    });
  }

  /** The longest-waiting request, taken out of the queue (its deadline no longer applies). */
  next(): Waiting<T> | undefined {
    const entry = this.waiting.shift();
    if (entry) clearTimeout(entry.timer);
    return entry;
  }

  /** Fails every waiting request with `err`. */
  rejectAll(err: Error): void {
    for (const entry of this.waiting.splice(0)) {
      clearTimeout(entry.timer);
      entry.reject(err);
    }
  }
}
