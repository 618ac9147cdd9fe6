/**
 * The work loop (controller-runtime's controller): keys from the event handlers wait on a
 * de-duplicating, rate-limited queue; `workers` reconciles run at once, never two of one key; a
 * failure comes back after the key's backoff, a success forgets it, and a result may ask to come
 * back later. stop() lets the reconciles in flight finish and takes no more.
 */
import type { Logger } from '../runtime/log.js';
import type { OperatorMetrics } from './metrics.js';
import { WorkQueue } from './reconcile/queue.js';
import type { Result } from './reconcile/types.js';

export interface ControllerOptions {
  reconciler: { reconcile(key: string): Promise<Result> };
  metrics: OperatorMetrics;
  logger: Logger;
  /** reconciles at once (default 4) */
  workers?: number;
  queue?: WorkQueue;
}

export class Controller {
  readonly queue: WorkQueue;
  private readonly workers: Promise<void>[] = [];
  private stopping = false;

  constructor(private readonly o: ControllerOptions) {
    this.queue = o.queue ?? new WorkQueue();
  }

  enqueue(key: string): void {
    this.queue.add(key);
    this.o.metrics.queueDepth.set(this.queue.depth);
  }

  /** Starts the workers (once). */
  start(): void {
    if (this.workers.length > 0 || this.stopping) return;
    for (let i = 0; i < (this.o.workers ?? 4); i++) this.workers.push(this.work());
  }

  /** Takes no more keys; resolves once the reconciles in flight have finished. */
  async stop(): Promise<void> {
    this.stopping = true;
    this.queue.shutDown();
    await Promise.all(this.workers);
  }

  private async work(): Promise<void> {
    const { metrics, logger, reconciler } = this.o;
    for (let key = await this.queue.get(); key !== undefined; key = await this.queue.get()) {
      metrics.queueDepth.set(this.queue.depth);
      const end = metrics.reconcileSeconds.startTimer();
      try {
        const result = await reconciler.reconcile(key);
        this.queue.forget(key);
        metrics.reconciles.inc({ result: 'ok' });
        if (result.requeueAfterMs !== undefined) this.queue.addAfter(key, result.requeueAfterMs);
      } catch (err) {
        metrics.reconciles.inc({ result: 'error' });
        if (!this.stopping) {
          const retryInMs = this.queue.addRateLimited(key);
          logger.warn('reconcile failed, retrying', { key, error: (err as Error).message, retryInMs });
        }
      } finally {
        end();
        this.queue.done(key);
      }
    }
  }
}
