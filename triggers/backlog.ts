// How many jobs wait for a function, estimated so that a submission far below its maxBacklog costs no
// Redis read: the count is read again when it is older than the TTL or the estimate nears the limit
// (past half of it, every submission reads). Pure: time comes in as an argument.
export class BacklogEstimate {
  private count = 0;
  private readAt = Number.NEGATIVE_INFINITY;
  private added = 0;

  constructor(private readonly ttlMs = 250) {}

  /** True when the count must be read before one more job is admitted. */
  needsRead(now: number, max: number): boolean {
    return now - this.readAt > this.ttlMs || this.count + this.added + 1 > max / 2;
  }

  update(count: number, now: number): void {
    this.count = count;
    this.readAt = now;
    this.added = 0;
  }

  /** One more job added since the last read. */
  admitted(): void {
    this.added += 1;
  }

  estimate(): number {
    return this.count + this.added;
  }
}
