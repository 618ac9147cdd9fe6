/**
 * The queue of this device's own batching runtime, as its mapper sees it: the requests it handed
 * the runtime and has no answer for, grouped the way the runtime groups them (oldest first, up to
 * maxBatch a run, `concurrency` runs at once), each run lasting what the batch model predicts. A
 * run's slot frees when every request of it is answered. The non-batching counterpart is
 * LocalQueue; both answer `outlook` for a request arriving now.
 */
import { batchOutlook, type Outlook, type ServingModel } from './batching.js';
import type { LocalTicket } from './local-queue.js';

interface Run {
  tickets: Set<number>;
  /** when the model expects it to end */
  until: number;
}

export class BatchQueue {
  private readonly serving: ServingModel;
  private readonly service: (steps: number, batch: number) => number;
  private waiting: LocalTicket[] = [];
  private runs: Run[] = [];
  private outstanding = 0;
  private nextId = 1;

  /** `service`: T(N, B), the expected time of a run of B requests whose longest has N steps. */
  constructor(serving: ServingModel, service: (steps: number, batch: number) => number) {
    if (!(serving.maxBatch >= 1) || !(serving.concurrency >= 1)) throw new RangeError('maxBatch and concurrency must be at least 1');
    this.serving = serving;
    this.service = service;
  }

  get length(): number {
    return this.outstanding;
  }

  enqueue(n: number, estimateMs: number, now: number): LocalTicket {
    const ticket: LocalTicket = { id: this.nextId++, n, estimateMs, enqueuedAt: now };
    this.waiting.push(ticket);
    this.outstanding++;
    this.dispatch(now);
    return ticket;
  }

  /** A request answered (or failed): it leaves its run; a run with none left frees its slot. */
  finish(ticket: LocalTicket, now: number): void {
    const i = this.waiting.findIndex((t) => t.id === ticket.id);
    if (i >= 0) {
      this.waiting.splice(i, 1);
      this.outstanding--;
      return;
    }
    const run = this.runs.find((r) => r.tickets.has(ticket.id));
    if (!run) return;
    run.tickets.delete(ticket.id);
    this.outstanding--;
    if (run.tickets.size === 0) {
      this.runs = this.runs.filter((r) => r !== run);
      this.dispatch(now);
    }
  }

  /** Where a request arriving now would run. */
  outlook(now: number): Outlook {
    return batchOutlook({
      now,
      busyUntil: this.runs.map((r) => r.until),
      waiting: this.waiting.map((t) => t.n),
      serving: this.serving,
      service: this.service,
    });
  }

  private dispatch(now: number): void {
    while (this.runs.length < this.serving.concurrency && this.waiting.length > 0) {
      const batch = this.waiting.splice(0, this.serving.maxBatch);
      const steps = Math.max(...batch.map((t) => t.n));
      this.runs.push({ tickets: new Set(batch.map((t) => t.id)), until: now + this.service(steps, batch.length) });
    }
  }
}
