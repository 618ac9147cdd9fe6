/**
 * A batching runtime, as the mapping engine models it: how much a batch costs against one request
 * run alone (learned from the batch each reply says it ran in), and when a request arriving now
 * would start and in how large a batch (from the work outstanding there). Pure.
 *
 * The cost of a batch of B requests whose longest has N steps is T(N, B) = T1(N) · (1 + r·(B − 1)):
 * T1 is the compute model of a lone run (a·N + b, learned from batches of one), r the marginal cost
 * of each further request as a share of a lone run: about 0 on a GPU (a batch of 64 costs what one
 * does, docs/reference.md), about 0.5 on a CPU core whose GEMMs run better on several rows, 1 when
 * batching gains nothing.
 */

/** How a device's runtime serves (the serving settings of its topology device). */
export interface ServingModel {
  maxBatch: number;
  maxDelayMs: number;
  concurrency: number;
}

/** Marginal cost of a further request before any batch was seen: as if batching gained nothing. */
export const BATCH_MARGINAL_PRIOR = 1;

/**
 * Learns r from batched runs: each gives (T / T1(N) − 1) = r·(B − 1) plus noise; a least-squares
 * fit through the origin, exponentially forgetting, kept within [0, 1.5].
 */
export class BatchGain {
  private sxy: number;
  private sxx: number;
  private readonly forgetting: number;

  constructor(forgetting: number, prior = BATCH_MARGINAL_PRIOR, priorWeight = 1) {
    this.forgetting = forgetting;
    // The prior counts as priorWeight batches of two.
    this.sxx = priorWeight;
    this.sxy = prior * priorWeight;
  }

  /** The marginal cost of a further request in a batch, as a share of a lone run. */
  get marginal(): number {
    return Math.min(1.5, Math.max(0, this.sxy / this.sxx));
  }

  /** T(N, B) / T1(N). */
  factor(batch: number): number {
    return 1 + this.marginal * Math.max(0, batch - 1);
  }

  /** A batch of `batch` requests took `ratio` times what a lone run of its longest would (per T1). */
  observe(batch: number, ratio: number): void {
    if (!(batch > 1) || !Number.isFinite(ratio) || ratio <= 0) return;
    const x = batch - 1;
    this.sxx = this.forgetting * this.sxx + x * x;
    this.sxy = this.forgetting * this.sxy + x * (ratio - 1);
  }
}

export interface Outlook {
  /** until the request's run starts, ms */
  waitMs: number;
  /** requests in that run, itself included */
  batch: number;
}

export interface OutlookInput {
  now: number;
  /** when each busy run slot frees (absolute ms); fewer entries than concurrency: the rest are free */
  busyUntil: readonly number[];
  /** steps of the requests waiting for a run, oldest first (a request arriving now waits behind them all) */
  waiting: readonly number[];
  serving: ServingModel;
  /** T(N, B): the run time of a batch of B requests, the longest N steps */
  service: (steps: number, batch: number) => number;
}

/**
 * Where a request arriving now would run: the waiting requests go, oldest first, in batches of up
 * to maxBatch to whichever run slot frees first (lengths are not bucketed here: the runtime groups
 * them by length, so with widely spread lengths its batches are smaller and the waits a little
 * longer than this says). A request that would start a batch of its own at once on a free slot is
 * held maxDelayMs for companions (none assumed to come).
 */
export function batchOutlook(o: OutlookInput): Outlook {
  const { serving, now } = o;
  const slots = o.busyUntil.map((t) => Math.max(t, now));
  while (slots.length < serving.concurrency) slots.push(now);
  slots.sort((a, b) => a - b);
  // The newcomer's own length does not move its start: only the runs ahead of it count.
  const queue = [...o.waiting, 0];
  const size = Math.max(1, serving.maxBatch);
  for (let i = 0; i < queue.length; i += size) {
    const batch = queue.slice(i, i + size);
    const start = slots.shift() as number;
    if (i + size >= queue.length) {
      const held = start <= now && batch.length < size ? serving.maxDelayMs : 0;
      return { waitMs: start - now + held, batch: batch.length };
    }
    slots.push(start + o.service(Math.max(...batch), batch.length));
    slots.sort((a, b) => a - b);
  }
  return { waitMs: 0, batch: 1 };
}
