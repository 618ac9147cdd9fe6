/**
 * The runtime's queue: requests wait here for a run, and run in batches (batch-plan.ts says which
 * and when) on at most `concurrency` runs at once. At most `maxQueue` requests wait; more are
 * refused with OVERLOADED and a Retry-After estimate. With maxBatch 1 and concurrency 1 (the
 * default) it serves one request after another, as a queue without batching would.
 */
import { batchingOf, defaultClock, runBatch, type Backend, type BatchResult, type Clock, type ModelInput } from '../backends/types.js';
import { CrimeError } from '../errors.js';
import { RUNTIME_DEFAULTS } from '../defaults.js';
import { planBatch, type PlanPolicy } from './batch-plan.js';

/** Starts a timer; returns what cancels it. Injected so tests control time. */
export type SetTimer = (callback: () => void, ms: number) => () => void;

const realTimer: SetTimer = (callback, ms) => {
  const t = setTimeout(callback, Math.max(0, ms));
  return () => clearTimeout(t);
};

export interface InferenceQueueOptions {
  /** runs at once (default 1) */
  concurrency?: number;
  /** requests that may wait (default 16) */
  maxQueue?: number;
  /** most requests in one run, as configured (default 1); the backend may allow fewer */
  maxBatch?: number;
  /** longest a request is held for companions while a run could start (default 0) */
  maxDelayMs?: number;
  clock?: Clock;
  setTimer?: SetTimer;
}

/** What runs a batch: the backend, as the server attaches it once the model is loaded. */
export interface BatchExecutor {
  /** most sequences one run takes, and whether they may differ in length */
  maxBatch: number;
  mixedLengths: boolean;
  /** numbers per step (feature size, or 1 for tokens): bounds a batch's size */
  width: number;
  run(inputs: readonly ModelInput[]): Promise<BatchResult>;
}

/** A backend as the queue runs it. */
export function executorOf(backend: Backend): BatchExecutor {
  const { maxBatch, mixedLengths } = batchingOf(backend);
  return {
    maxBatch,
    mixedLengths,
    width: backend.info.inputKind === 'tokens' ? 1 : backend.info.featureSize,
    run: (inputs) => runBatch(backend, inputs),
  };
}

/** The batch a request ran in: its size and its (padded) length. */
export interface BatchInfo {
  size: number;
  steps: number;
}

export interface QueuedResult {
  outputs: Float32Array;
  /** the run's wall time (the whole batch's) */
  computeMs: number;
  /** time from arrival to the run's start */
  queueMs: number;
  batch: BatchInfo;
}

interface Waiting {
  input: ModelInput;
  steps: number;
  enqueuedAt: number;
  deadline: number | undefined;
  resolve: (r: QueuedResult) => void;
  reject: (e: Error) => void;
}

export class InferenceQueue {
  readonly concurrency: number;
  readonly maxQueue: number;
  /** as configured; `policy.maxBatch` is what runs (at most what the backend takes) */
  readonly maxBatch: number;
  readonly maxDelayMs: number;
  private readonly clock: Clock;
  private readonly setTimer: SetTimer;
  private executor: BatchExecutor | undefined;
  private policy: PlanPolicy;
  private waiting: Waiting[] = [];
  private running = 0;
  private cancelTimer: (() => void) | undefined;
  private idleWaiters: (() => void)[] = [];
  /** Exponentially weighted mean run time, ms; feeds the Retry-After estimate. */
  private meanServiceMs = 0;

  constructor(options: InferenceQueueOptions = {}) {
    this.concurrency = options.concurrency ?? 1;
    this.maxQueue = options.maxQueue ?? RUNTIME_DEFAULTS.maxQueue;
    this.maxBatch = options.maxBatch ?? 1;
    this.maxDelayMs = options.maxDelayMs ?? 0;
    this.clock = options.clock ?? defaultClock;
    this.setTimer = options.setTimer ?? realTimer;
    if (!Number.isInteger(this.concurrency) || this.concurrency < 1) throw new RangeError('concurrency must be a positive integer');
    if (!Number.isInteger(this.maxQueue) || this.maxQueue < 0) throw new RangeError('maxQueue must be a non-negative integer');
    if (!Number.isInteger(this.maxBatch) || this.maxBatch < 1) throw new RangeError('maxBatch must be a positive integer');
    if (!(this.maxDelayMs >= 0)) throw new RangeError('maxDelayMs must be ≥ 0');
    this.policy = { maxBatch: 1, maxDelayMs: this.maxDelayMs, mixedLengths: false, width: 1 };
  }

  /** The backend runs batches from now on, up to what both it and the configuration allow. */
  attach(executor: BatchExecutor): void {
    this.executor = executor;
    this.policy = {
      maxBatch: Math.max(1, Math.min(this.maxBatch, executor.maxBatch)),
      maxDelayMs: this.maxDelayMs,
      mixedLengths: executor.mixedLengths,
      width: executor.width,
    };
    this.pump();
  }

  /** Most requests one run takes now (1 until a batching backend is attached). */
  get effectiveMaxBatch(): number {
    return this.policy.maxBatch;
  }

  /** Requests waiting for a run. */
  get depth(): number {
    return this.waiting.length;
  }

  /** Runs in progress. */
  get active(): number {
    return this.running;
  }

  /** Expected wait of a request arriving now, ms. */
  expectedWaitMs(): number {
    const batches = Math.ceil(this.waiting.length / this.policy.maxBatch);
    return (this.meanServiceMs * (batches + this.running)) / this.concurrency;
  }

  /**
   * Runs `input` in the next batch it fits. `deadline` (the queue's clock): a request whose caller
   * has given up by the time its run would start is not run (TIMEOUT), so a backlog of abandoned
   * requests drains at once instead of delaying the live ones behind it.
   */
  submit(input: ModelInput, options: { deadline?: number } = {}): Promise<QueuedResult> {
    if (this.waiting.length >= this.maxQueue && !(this.waiting.length === 0 && this.running < this.concurrency)) {
      return Promise.reject(new CrimeError('OVERLOADED', `inference queue is full (${this.maxQueue} waiting)`, {
        retryAfterSec: Math.max(1, Math.ceil(this.expectedWaitMs() / 1000)),
      }));
    }
    return new Promise((resolve, reject) => {
      this.waiting.push({ input, steps: input.steps, enqueuedAt: this.clock(), deadline: options.deadline, resolve, reject });
      this.pump();
    });
  }

  /** Starts every batch that is due while a run slot is free; otherwise sets a timer for the next. */
  private pump(): void {
    this.cancelTimer?.();
    this.cancelTimer = undefined;
    const executor = this.executor;
    if (executor === undefined) return;
    while (this.running < this.concurrency && this.waiting.length > 0) {
      const now = this.clock();
      this.dropExpired(now);
      const plan = planBatch(this.waiting, now, this.policy);
      if (plan === undefined) break;
      if ('wakeAt' in plan) {
        this.cancelTimer = this.setTimer(() => this.pump(), plan.wakeAt - now);
        break;
      }
      const taken = new Set(plan.take);
      const batch = plan.take.map((i) => this.waiting[i] as Waiting);
      this.waiting = this.waiting.filter((_, i) => !taken.has(i));
      this.dispatch(executor, batch, now);
    }
    this.checkIdle();
  }

  private dropExpired(now: number): void {
    const expired = this.waiting.filter((w) => w.deadline !== undefined && now >= w.deadline);
    if (expired.length === 0) return;
    this.waiting = this.waiting.filter((w) => !expired.includes(w));
    for (const w of expired) w.reject(new CrimeError('TIMEOUT', `the request waited ${Math.round(now - w.enqueuedAt)} ms, past its deadline`));
  }

  private dispatch(executor: BatchExecutor, batch: Waiting[], started: number): void {
    this.running++;
    const info: BatchInfo = { size: batch.length, steps: batch.reduce((m, w) => Math.max(m, w.steps), 0) };
    let run: Promise<BatchResult>;
    try {
      run = executor.run(batch.map((w) => w.input));
    } catch (err) {
      run = Promise.reject(err as Error);
    }
    run.then(
      (result) => {
        batch.forEach((w, i) => {
          const outputs = result.outputs[i];
          if (outputs === undefined) w.reject(new CrimeError('INTERNAL', `the backend returned ${result.outputs.length} outputs for a batch of ${batch.length}`));
          else w.resolve({ outputs, computeMs: result.computeMs, queueMs: started - w.enqueuedAt, batch: info });
        });
      },
      (err: unknown) => {
        for (const w of batch) w.reject(err instanceof Error ? err : new Error(String(err)));
      },
    ).finally(() => {
      const serviceMs = this.clock() - started;
      this.meanServiceMs = this.meanServiceMs === 0 ? serviceMs : 0.8 * this.meanServiceMs + 0.2 * serviceMs;
      this.running--;
      this.pump();
    });
  }

  private checkIdle(): void {
    if (this.running > 0 || this.waiting.length > 0) return;
    const waiters = this.idleWaiters;
    this.idleWaiters = [];
    for (const w of waiters) w();
  }

  /** Resolves when nothing runs and nothing waits. */
  async idle(): Promise<void> {
    if (this.running === 0 && this.waiting.length === 0) return;
    await new Promise<void>((resolve) => this.idleWaiters.push(resolve));
  }
}
