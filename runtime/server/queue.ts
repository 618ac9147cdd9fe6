/**
 * Runs at most `concurrency` inferences at once (1 by default: batch-1 RNN latency), holds at most
 * `maxQueue` more waiting, and refuses the rest with OVERLOADED + a Retry-After estimate.
 */
import { defaultClock, type Clock } from '../backends/types.js';
import { CrimeError } from '../errors.js';
import { RUNTIME_DEFAULTS } from '../defaults.js';

export interface InferenceQueueOptions {
  concurrency?: number;
  maxQueue?: number;
  clock?: Clock;
}

export interface Queued<T> {
  value: T;
  /** Time spent waiting for a slot, in ms. */
  queueMs: number;
}

interface Waiter {
  start: () => void;
}

export class InferenceQueue {
  readonly concurrency: number;
  readonly maxQueue: number;
  private readonly clock: Clock;
  private readonly waiting: Waiter[] = [];
  private running = 0;
  private idleWaiters: (() => void)[] = [];
  /** Exponentially weighted mean service time, ms; feeds the Retry-After estimate. */
  private meanServiceMs = 0;

  constructor(options: InferenceQueueOptions = {}) {
    this.concurrency = options.concurrency ?? 1;
    this.maxQueue = options.maxQueue ?? RUNTIME_DEFAULTS.maxQueue;
    this.clock = options.clock ?? defaultClock;
    if (!Number.isInteger(this.concurrency) || this.concurrency < 1) throw new RangeError('concurrency must be a positive integer');
    if (!Number.isInteger(this.maxQueue) || this.maxQueue < 0) throw new RangeError('maxQueue must be a non-negative integer');
  }

  /** Requests waiting for a slot. */
  get depth(): number {
    return this.waiting.length;
  }

  get active(): number {
    return this.running;
  }

  /** Expected wait of a request arriving now, ms. */
  expectedWaitMs(): number {
    return (this.meanServiceMs * (this.waiting.length + this.running)) / this.concurrency;
  }

  /**
   * Runs `task` when a slot is free. `deadline` (the queue's clock): a task whose caller has given up
   * by the time its turn comes is not run (TIMEOUT), so a backlog of abandoned requests drains at
   * once instead of delaying the live ones behind it.
   */
  async run<T>(task: () => Promise<T>, options: { deadline?: number } = {}): Promise<Queued<T>> {
    const enqueued = this.clock();
    if (this.running >= this.concurrency) {
      if (this.waiting.length >= this.maxQueue) {
        throw new CrimeError('OVERLOADED', `inference queue is full (${this.maxQueue} waiting)`, {
          retryAfterSec: Math.max(1, Math.ceil(this.expectedWaitMs() / 1000)),
        });
      }
      await new Promise<void>((resolve) => this.waiting.push({ start: resolve }));
    } else {
      this.running++;
    }
    const started = this.clock();
    if (options.deadline !== undefined && started >= options.deadline) {
      this.release();
      throw new CrimeError('TIMEOUT', `the request waited ${Math.round(started - enqueued)} ms, past its deadline`);
    }
    try {
      return { value: await task(), queueMs: started - enqueued };
    } finally {
      const serviceMs = this.clock() - started;
      this.meanServiceMs = this.meanServiceMs === 0 ? serviceMs : 0.8 * this.meanServiceMs + 0.2 * serviceMs;
      this.release();
    }
  }

  private release(): void {
    const next = this.waiting.shift();
    if (next !== undefined) {
      next.start();
      return;
    }
    this.running--;
    if (this.running === 0) {
      const waiters = this.idleWaiters;
      this.idleWaiters = [];
      for (const w of waiters) w();
    }
  }

  /** Resolves when nothing runs and nothing waits. */
  async idle(): Promise<void> {
    if (this.running === 0 && this.waiting.length === 0) return;
    await new Promise<void>((resolve) => this.idleWaiters.push(resolve));
  }
}
