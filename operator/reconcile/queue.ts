/**
 * A de-duplicating, rate-limited work queue of keys, as controller-runtime's: a key waits at most
 * once however often it is added; a key being processed is never handed out twice at once (added
 * again meanwhile, it is processed once more afterwards); failures come back after a per-key
 * exponential backoff (5 ms doubling up to ~15 min), successes reset it.
 */
import { backoffDelay } from '../../runtime/backoff.js';
import { unrefTimer, type SetTimer } from '../../runtime/timer.js';

export interface QueueOptions {
  baseDelayMs?: number;
  maxDelayMs?: number;
  /** injected for tests */
  setTimer?: SetTimer;
}

export class WorkQueue {
  private readonly queue: string[] = [];
  private readonly queued = new Set<string>();
  private readonly processing = new Set<string>();
  private readonly dirty = new Set<string>();
  private readonly failures = new Map<string, number>();
  private readonly delayed = new Map<string, { cancel(): void }>();
  private readonly waiters: Array<(key: string | undefined) => void> = [];
  private shuttingDown = false;

  constructor(private readonly o: QueueOptions = {}) {}

  /** Keys waiting now (not counting delayed ones). */
  get depth(): number {
    return this.queue.length;
  }

  add(key: string): void {
    if (this.shuttingDown) return;
    if (this.processing.has(key)) {
      this.dirty.add(key);
      return;
    }
    if (this.queued.has(key)) return;
    this.queued.add(key);
    const waiter = this.waiters.shift();
    if (waiter) {
      this.queued.delete(key);
      this.processing.add(key);
      waiter(key);
    } else {
      this.queue.push(key);
    }
  }

  /** Adds the key after `ms` (a sooner add wins; a later one replaces a pending one). */
  addAfter(key: string, ms: number): void {
    if (this.shuttingDown) return;
    this.delayed.get(key)?.cancel();
    const timer = (this.o.setTimer ?? unrefTimer)(() => {
      this.delayed.delete(key);
      this.add(key);
    }, ms);
    this.delayed.set(key, timer);
  }

  /** Adds the key after its backoff, which doubles with each consecutive failure. */
  addRateLimited(key: string): number {
    const n = (this.failures.get(key) ?? 0) + 1;
    this.failures.set(key, n);
    const delay = backoffDelay({ initialMs: this.o.baseDelayMs ?? 5, maxMs: this.o.maxDelayMs ?? 1000_000 }, n);
    this.addAfter(key, delay);
    return delay;
  }

  /** Forgets a key's failures (after a success). */
  forget(key: string): void {
    this.failures.delete(key);
  }

  /** The next key to process, or undefined once shut down. Call done(key) when finished with it. */
  get(): Promise<string | undefined> {
    if (this.shuttingDown) return Promise.resolve(undefined);
    const key = this.queue.shift();
    if (key !== undefined) {
      this.queued.delete(key);
      this.processing.add(key);
      return Promise.resolve(key);
    }
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  done(key: string): void {
    this.processing.delete(key);
    if (this.dirty.delete(key)) this.add(key);
  }

  shutDown(): void {
    this.shuttingDown = true;
    for (const t of this.delayed.values()) t.cancel();
    this.delayed.clear();
    for (const w of this.waiters.splice(0)) w(undefined);
  }
}
