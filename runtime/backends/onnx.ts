/**
 * ONNX backend on onnxruntime-node: CPU everywhere, the CUDA execution provider where its libraries are
 * installed. Input layout (onnx-layout.ts) comes from the model; a model with a symbolic batch
 * dimension runs batches, once a batched run at load has reproduced the single runs.
 *
 * onnxruntime-node runs a session synchronously on the calling thread: here, the event loop is
 * blocked while the model runs. onnx-pool.ts runs this same class in worker threads instead.
 */
import type * as Ort from 'onnxruntime-node';
import { CrimeError } from '../errors.js';
import { inspectOnnx } from '../models/onnx-inspect.js';
import { probeInput, sampleInput } from './input.js';
import { describeInputs, feedsOf, splitRows, type OnnxBinding, type OrtModule } from './onnx-layout.js';
import { defaultClock, type Backend, type BatchCapability, type BatchResult, type Clock, type InferResult, type ModelInfo, type ModelInput } from './types.js';

export type { OrtModule } from './onnx-layout.js';

/** Most sequences in one run of a batchable model (the largest serving.maxBatch). */
export const ONNX_MAX_BATCH = 1024;

export interface OnnxBackendOptions {
  model: Uint8Array;
  name: string;
  device: 'cpu' | 'cuda';
  /** intra-op threads; 1 suits batch-1 RNNs (the steps are sequential anyway). */
  threads?: number;
  clock?: Clock;
}

export async function loadOrt(): Promise<OrtModule> {
  try {
    // A CommonJS package: its default export is module.exports.
    const ort = (await import('onnxruntime-node')).default;
    // Failures reach us as thrown errors; without this, probing for CUDA prints a scary stderr line.
    ort.env.logLevel = 'fatal';
    return ort;
  } catch (err) {
    throw new CrimeError('BACKEND_UNAVAILABLE', `onnxruntime-node cannot be loaded: ${(err as Error).message}`, { cause: err });
  }
}

export function sessionOptions(device: 'cpu' | 'cuda', threads: number): Ort.InferenceSession.SessionOptions {
  return {
    executionProviders: [device],
    intraOpNumThreads: threads,
    interOpNumThreads: 1,
    executionMode: 'sequential',
    graphOptimizationLevel: 'all',
    // A missing CUDA provider is reported by the thrown error; keep onnxruntime's own stderr quiet.
    logSeverityLevel: 4,
  };
}

export class OnnxBackend implements Backend {
  readonly name: 'onnx-cpu' | 'onnx-cuda';
  #info: ModelInfo;
  #batching: BatchCapability;
  private readonly ort: OrtModule;
  private readonly session: Ort.InferenceSession;
  private readonly binding: OnnxBinding;
  private readonly clock: Clock;

  private constructor(ort: OrtModule, session: Ort.InferenceSession, binding: OnnxBinding, info: ModelInfo, options: OnnxBackendOptions) {
    this.name = options.device === 'cuda' ? 'onnx-cuda' : 'onnx-cpu';
    this.ort = ort;
    this.session = session;
    this.binding = binding;
    this.#info = info;
    this.#batching = { maxBatch: 1, mixedLengths: false, parallelRuns: 1 };
    this.clock = options.clock ?? defaultClock;
  }

  static async create(options: OnnxBackendOptions): Promise<OnnxBackend> {
    const ort = await loadOrt();
    let session: Ort.InferenceSession;
    try {
      session = await ort.InferenceSession.create(options.model, sessionOptions(options.device, options.threads ?? 1));
    } catch (err) {
      const code = options.device === 'cuda' && /provider|cuda|shared library/i.test((err as Error).message) ? 'BACKEND_UNAVAILABLE' : 'MODEL_LOAD_FAILED';
      throw new CrimeError(code, `onnxruntime (${options.device}) cannot load the model: ${(err as Error).message}`, { cause: err });
    }
    const { binding, info } = describeInputs(session, options.name);
    const vocabSize = info.inputKind === 'tokens' ? inspectOnnx(options.model).gatheredTableRows.get(binding.name) : undefined;
    const partial: ModelInfo = { ...info, outputSize: 0, ...(vocabSize === undefined ? {} : { vocabSize }) };
    const backend = new OnnxBackend(ort, session, binding, partial, options);
    const probe = await backend.infer(probeInput(partial));
    backend.#info = { ...partial, outputSize: probe.outputs.length };
    backend.#batching = await backend.checkBatching();
    return backend;
  }

  get info(): ModelInfo {
    return this.#info;
  }

  get batching(): BatchCapability {
    return this.#batching;
  }

  /**
   * Whether batches reproduce single runs: two different sequences (of different lengths where the
   * model takes lengths) run together must give what each gives alone. A model whose symbolic
   * dimensions are not [steps, batch] (a batch-major one, say) fails here and serves one at a time.
   */
  private async checkBatching(): Promise<BatchCapability> {
    const mixedLengths = this.binding.seqLens !== undefined;
    if (!this.binding.dynamicBatch) {
      return { maxBatch: 1, mixedLengths: false, parallelRuns: 1, reason: 'the model\'s batch dimension is fixed at 1 (a batchable model is [steps, batch, …] with a symbolic batch)' };
    }
    const a = sampleInput(this.#info, 3);
    const b = probeInput(this.#info, mixedLengths ? 2 : 3);
    let same: boolean;
    try {
      const together = await this.inferBatch([a, b]);
      const alone = [(await this.infer(a)).outputs, (await this.infer(b)).outputs];
      same = together.outputs.length === 2 && alone.every((row, i) => {
        const other = together.outputs[i];
        return other !== undefined && other.length === row.length && row.every((v, k) => Math.abs(v - (other[k] as number)) <= 1e-4 * (1 + Math.abs(v)));
      });
    } catch {
      same = false;
    }
    if (!same) return { maxBatch: 1, mixedLengths: false, parallelRuns: 1, reason: 'a batched run did not reproduce single runs (is the input batch-major?): serving one sequence per run' };
    return { maxBatch: ONNX_MAX_BATCH, mixedLengths, parallelRuns: 1, reason: 'runs on the calling thread: one at a time' };
  }

  async infer(input: ModelInput): Promise<InferResult> {
    const { outputs, computeMs } = await this.run([input]);
    return { outputs, computeMs };
  }

  async inferBatch(inputs: readonly ModelInput[]): Promise<BatchResult> {
    const { outputs, computeMs } = await this.run(inputs);
    return { outputs: splitRows(outputs, inputs.length), computeMs };
  }

  private async run(inputs: readonly ModelInput[]): Promise<InferResult> {
    const feeds = feedsOf(this.ort, this.binding, this.#info.featureSize, inputs);
    const start = this.clock();
    const result = await this.session.run(feeds, [this.binding.outputName]);
    const computeMs = this.clock() - start;
    const out = result[this.binding.outputName];
    if (out === undefined || out.type !== 'float32') {
      throw new CrimeError('INTERNAL', 'ONNX model did not return a float32 output');
    }
    return { outputs: out.data as Float32Array, computeMs };
  }

  async dispose(): Promise<void> {
    await this.session.release();
  }
}
