/**
 * ONNX backend on onnxruntime-node: CPU everywhere, the CUDA execution provider where its libraries are
 * installed. Input layout ([steps, 1, F] or [1, steps, F]; int32 or int64 tokens) comes from the model.
 */
import type * as Ort from 'onnxruntime-node';
import { CrimeError } from '../errors.js';
import { inspectOnnx } from '../models/onnx-inspect.js';
import { probeInput } from './input.js';
import { defaultClock, type Backend, type Clock, type InferResult, type ModelInfo, type ModelInput } from './types.js';

export type OrtModule = (typeof Ort)['default'];

export interface OnnxBackendOptions {
  model: Uint8Array;
  name: string;
  device: 'cpu' | 'cuda';
  /** intra-op threads; 1 suits batch-1 RNNs (the steps are sequential anyway). */
  threads?: number;
  clock?: Clock;
}

/** The fixed facts about the graph input that infer() needs to build tensors. */
interface InputBinding {
  name: string;
  outputName: string;
  dtype: 'float32' | 'int32' | 'int64';
  /** Index of the steps dimension (0 for [steps, 1, …], 1 for [1, steps, …]). */
  stepsAxis: 0 | 1;
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

function describeInput(session: Ort.InferenceSession, name: string): { binding: InputBinding; info: Omit<ModelInfo, 'outputSize' | 'vocabSize'> } {
  const meta = session.inputMetadata[0];
  const outputName = session.outputNames[0];
  if (session.inputNames.length !== 1 || meta === undefined || !meta.isTensor || outputName === undefined) {
    throw new CrimeError('MODEL_LOAD_FAILED', 'ONNX model must have exactly one tensor input and at least one output');
  }
  const shape = meta.shape;
  const stepsAxis: 0 | 1 = shape[0] === 1 && shape[1] !== 1 ? 1 : 0;
  if (meta.type === 'float32') {
    const featureSize = shape[2];
    if (shape.length !== 3 || typeof featureSize !== 'number') {
      throw new CrimeError('MODEL_LOAD_FAILED', `ONNX float input must be [steps, 1, featureSize] or [1, steps, featureSize], got [${shape.join(', ')}]`);
    }
    return { binding: { name: meta.name, outputName, dtype: 'float32', stepsAxis }, info: { name, format: 'onnx', inputKind: 'floats', featureSize } };
  }
  if (meta.type === 'int32' || meta.type === 'int64') {
    if (shape.length !== 2) {
      throw new CrimeError('MODEL_LOAD_FAILED', `ONNX token input must be [steps, 1] or [1, steps], got [${shape.join(', ')}]`);
    }
    return { binding: { name: meta.name, outputName, dtype: meta.type, stepsAxis }, info: { name, format: 'onnx', inputKind: 'tokens', featureSize: 1 } };
  }
  throw new CrimeError('MODEL_LOAD_FAILED', `ONNX input type ${meta.type} is not supported (float32, int32 or int64)`);
}

export class OnnxBackend implements Backend {
  readonly name: 'onnx-cpu' | 'onnx-cuda';
  #info: ModelInfo;
  private readonly ort: OrtModule;
  private readonly session: Ort.InferenceSession;
  private readonly binding: InputBinding;
  private readonly clock: Clock;

  private constructor(ort: OrtModule, session: Ort.InferenceSession, binding: InputBinding, info: ModelInfo, options: OnnxBackendOptions) {
    this.name = options.device === 'cuda' ? 'onnx-cuda' : 'onnx-cpu';
    this.ort = ort;
    this.session = session;
    this.binding = binding;
    this.#info = info;
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
    const { binding, info } = describeInput(session, options.name);
    const vocabSize = info.inputKind === 'tokens' ? inspectOnnx(options.model).gatheredTableRows.get(binding.name) : undefined;
    const partial: ModelInfo = { ...info, outputSize: 0, ...(vocabSize === undefined ? {} : { vocabSize }) };
    const backend = new OnnxBackend(ort, session, binding, partial, options);
    const probe = await backend.infer(probeInput(partial));
    backend.#info = { ...partial, outputSize: probe.outputs.length };
    return backend;
  }

  get info(): ModelInfo {
    return this.#info;
  }

  private tensor(input: ModelInput): Ort.Tensor {
    const { steps } = input;
    const lead = this.binding.stepsAxis === 0 ? [steps, 1] : [1, steps];
    if (input.kind === 'floats') return new this.ort.Tensor('float32', input.data, [...lead, this.info.featureSize]);
    if (this.binding.dtype === 'int64') return new this.ort.Tensor('int64', BigInt64Array.from(input.data, (v) => BigInt(v)), lead);
    return new this.ort.Tensor('int32', input.data, lead);
  }

  async infer(input: ModelInput): Promise<InferResult> {
    const feeds = { [this.binding.name]: this.tensor(input) };
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
