/**
 * Expected queue wait of this device's own runtime, from the work the mapper has handed it.
 *
 * The runtime serves `concurrency` requests at a time in FIFO order. The mapper knows when it sent
 * each request and the estimated compute time of each; the wait for a new request is the
 * estimated work still ahead of it. Estimates are replaced by actual times as requests finish.
 */
export interface LocalTicket {
  readonly id: number;
  readonly n: number;
  readonly estimateMs: number;
  readonly enqueuedAt: number;
}

export class LocalQueue {
  private readonly concurrency: number;
  private readonly outstanding: LocalTicket[] = [];
  private readonly startedAt = new Map<number, number>();
  private nextId = 1;

  constructor(concurrency = 1) {
    if (!(concurrency >= 1)) throw new RangeError('concurrency must be at least 1');
    this.concurrency = Math.floor(concurrency);
  }

  get length(): number {
    return this.outstanding.length;
  }

  enqueue(n: number, estimateMs: number, now: number): LocalTicket {
    const ticket: LocalTicket = { id: this.nextId++, n, estimateMs, enqueuedAt: now };
    this.outstanding.push(ticket);
    this.fillSlots(now);
    return ticket;
  }

  /** Removes a finished or failed request; the next one in line starts now. */
  finish(ticket: LocalTicket, now: number): void {
    const i = this.outstanding.findIndex((t) => t.id === ticket.id);
    if (i < 0) return;
    this.outstanding.splice(i, 1);
    this.startedAt.delete(ticket.id);
    this.fillSlots(now);
  }

  /** Where a request arriving now would run: after waitMs, alone (no batching here). */
  outlook(now: number): { waitMs: number; batch: number } {
    return { waitMs: this.waitMs(now), batch: 1 };
  }

  /** Expected ms a request enqueued now waits before its compute starts. */
  waitMs(now: number): number {
    if (this.outstanding.length < this.concurrency) return 0;
    let work = 0;
    for (const t of this.outstanding) {
      const started = this.startedAt.get(t.id);
      work += started === undefined ? t.estimateMs : Math.max(0, t.estimateMs - (now - started));
    }
    return work / this.concurrency;
  }

  private fillSlots(now: number): void {
    const slots = Math.min(this.concurrency, this.outstanding.length);
    for (let i = 0; i < slots; i++) {
      const t = this.outstanding[i] as LocalTicket;
      if (!this.startedAt.has(t.id)) this.startedAt.set(t.id, now);
    }
  }
}
