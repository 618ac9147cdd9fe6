/**
 * The ONNX backend on worker threads: each worker holds its own session (onnx-worker.ts), so a run
 * no longer blocks the event loop (onnxruntime-node runs a session synchronously on its caller's
 * thread), requests are read and decoded while a batch computes, and `workers` runs proceed at once
 * on as many cores. The cost: one message each way per run (the inputs are copied, tens of µs for
 * a long sequence), and the model's memory once per worker.
 */
import { Worker } from 'node:worker_threads';
import { CrimeError, isErrorCode } from '../errors.js';
import type { OnnxBackendOptions } from './onnx.js';
import type { WorkerReply, WorkerRequest, WorkerStart } from './onnx-worker.js';
import type { Backend, BatchCapability, BatchResult, InferResult, ModelInfo, ModelInput } from './types.js';

export interface OnnxPoolOptions extends Omit<OnnxBackendOptions, 'clock'> {
  /** worker threads, each running one batch at a time */
  workers: number;
}

interface Slot {
  worker: Worker;
  busy: boolean;
}

interface Pending {
  resolve: (r: BatchResult) => void;
  reject: (e: Error) => void;
}

function crimeError(e: { code: string; message: string }): CrimeError {
  return new CrimeError(isErrorCode(e.code) ? e.code : 'INTERNAL', e.message);
}

function start(options: OnnxBackendOptions): Promise<{ worker: Worker; started: Extract<WorkerStart, { ready: true }> }> {
  const worker = new Worker(new URL('./onnx-worker.js', import.meta.url), { workerData: options });
  return new Promise((resolve, reject) => {
    const fail = (err: Error): void => {
      void worker.terminate();
      reject(err);
    };
    worker.once('error', fail);
    worker.once('exit', (code) => reject(new CrimeError('MODEL_LOAD_FAILED', `the onnxruntime worker exited (code ${code}) while loading the model`)));
    worker.once('message', (m: WorkerStart) => {
      worker.off('error', fail);
      worker.removeAllListeners('exit');
      if ('failed' in m) fail(crimeError(m.failed));
      else resolve({ worker, started: m });
    });
  });
}

export class OnnxPoolBackend implements Backend {
  readonly name: 'onnx-cpu' | 'onnx-cuda';
  readonly info: ModelInfo;
  readonly batching: BatchCapability;
  private readonly slots: Slot[];
  private readonly pending = new Map<number, Pending>();
  /** runs asked for while every worker was busy */
  private readonly backlog: Array<{ inputs: readonly ModelInput[] } & Pending> = [];
  private nextId = 1;
  private failure: CrimeError | undefined;

  private constructor(options: OnnxPoolOptions, workers: Array<Awaited<ReturnType<typeof start>>>) {
    const first = workers[0]?.started as Extract<WorkerStart, { ready: true }>;
    this.name = options.device === 'cuda' ? 'onnx-cuda' : 'onnx-cpu';
    this.info = first.info;
    const { reason: _reason, ...batching } = first.batching;
    this.batching = { ...batching, parallelRuns: workers.length, ...(first.batching.maxBatch === 1 ? { reason: first.batching.reason } : {}) };
    this.slots = workers.map(({ worker }) => ({ worker, busy: false }));
    for (const slot of this.slots) {
      slot.worker.on('message', (m: WorkerReply) => this.answered(slot, m));
      slot.worker.on('error', (err) => this.broken(err));
      slot.worker.on('exit', (code) => this.broken(new Error(`exited with code ${code}`)));
    }
  }

  static async create(options: OnnxPoolOptions): Promise<OnnxPoolBackend> {
    if (!Number.isInteger(options.workers) || options.workers < 1) throw new RangeError('an ONNX pool needs at least one worker');
    const { workers, ...backend } = options;
    const started = await Promise.allSettled(Array.from({ length: workers }, () => start(backend)));
    const failed = started.find((s): s is PromiseRejectedResult => s.status === 'rejected');
    if (failed) {
      await Promise.all(started.map((s) => (s.status === 'fulfilled' ? s.value.worker.terminate() : undefined)));
      throw failed.reason;
    }
    return new OnnxPoolBackend(options, started.map((s) => (s as PromiseFulfilledResult<Awaited<ReturnType<typeof start>>>).value));
  }

  async infer(input: ModelInput): Promise<InferResult> {
    const { outputs, computeMs } = await this.inferBatch([input]);
    return { outputs: outputs[0] as Float32Array, computeMs };
  }

  inferBatch(inputs: readonly ModelInput[]): Promise<BatchResult> {
    if (this.failure) return Promise.reject(this.failure);
    return new Promise((resolve, reject) => {
      const slot = this.slots.find((s) => !s.busy);
      if (slot === undefined) this.backlog.push({ inputs, resolve, reject });
      else this.post(slot, inputs, { resolve, reject });
    });
  }

  private post(slot: Slot, inputs: readonly ModelInput[], pending: Pending): void {
    const id = this.nextId++;
    slot.busy = true;
    this.pending.set(id, pending);
    slot.worker.postMessage({ id, inputs: [...inputs] } satisfies WorkerRequest);
  }

  private answered(slot: Slot, m: WorkerReply): void {
    const pending = this.pending.get(m.id);
    this.pending.delete(m.id);
    slot.busy = false;
    const next = this.backlog.shift();
    if (next) this.post(slot, next.inputs, next);
    if (pending === undefined) return;
    if ('error' in m) pending.reject(crimeError(m.error));
    else pending.resolve({ outputs: m.outputs, computeMs: m.computeMs });
  }

  /** A worker died (out of memory, a native crash): every run in flight fails, and every later one. */
  private broken(err: Error): void {
    if (this.failure) return;
    this.failure = new CrimeError('INTERNAL', `an onnxruntime worker failed: ${err.message}`);
    for (const p of [...this.pending.values(), ...this.backlog]) p.reject(this.failure);
    this.pending.clear();
    this.backlog.length = 0;
  }

  async dispose(): Promise<void> {
    this.failure ??= new CrimeError('NOT_READY', 'the model was released');
    await Promise.all(this.slots.map(async ({ worker }) => {
      worker.removeAllListeners('exit');
      const exited = new Promise<void>((resolve) => worker.once('exit', () => resolve()));
      worker.postMessage('dispose');
      await Promise.race([exited, new Promise<void>((resolve) => setTimeout(resolve, 2000).unref())]);
      await worker.terminate();
    }));
  }
}
