/**
 * How an ONNX model's input is laid out, read from the session's metadata, and the tensors for one
 * sequence or a batch of them. Shared by the in-thread backend and its worker threads.
 *
 * Accepted: one tensor input, float32 [steps, batch, featureSize] / [1, steps, featureSize] (floats)
 * or int32/int64 [steps, batch] / [1, steps] (tokens). A symbolic batch dimension of a time-major
 * input ([steps, batch, …], the ONNX LSTM's default layout) makes the model batchable; a fixed 1
 * serves one sequence per run. A second input, int32 rank 1 ([batch]), takes each sequence's length
 * (every LSTM's sequence_lens): then sequences of different lengths share a run, each padded at its
 * end and its result exactly its own; without it only sequences of one length are batched.
 */
import type * as Ort from 'onnxruntime-node';
import { CrimeError } from '../errors.js';
import type { ModelInfo, ModelInput } from './types.js';

export type OrtModule = (typeof Ort)['default'];

/** The fixed facts about the graph inputs that a run needs to build tensors. */
export interface OnnxBinding {
  name: string;
  outputName: string;
  dtype: 'float32' | 'int32' | 'int64';
  /** Index of the steps dimension (0 for [steps, batch, …], 1 for [1, steps, …]). */
  stepsAxis: 0 | 1;
  /** the batch dimension is symbolic (time-major inputs only) */
  dynamicBatch: boolean;
  /** the name of the int32 [batch] input taking each sequence's length, when the model has one */
  seqLens?: string;
}

type Metadata = Ort.InferenceSession['inputMetadata'][number];

function isLengths(meta: Metadata): boolean {
  return meta.isTensor && meta.type === 'int32' && meta.shape.length === 1;
}

export function describeInputs(session: Pick<Ort.InferenceSession, 'inputMetadata' | 'outputNames'>, name: string): { binding: OnnxBinding; info: Omit<ModelInfo, 'outputSize' | 'vocabSize'> } {
  const metas = session.inputMetadata;
  const outputName = session.outputNames[0];
  const lengths = metas.length === 2 ? metas.find(isLengths) : undefined;
  const meta = metas.length === 1 ? metas[0] : metas.find((m) => m !== lengths);
  if (meta === undefined || !meta.isTensor || outputName === undefined || (metas.length === 2 && lengths === undefined) || metas.length > 2) {
    throw new CrimeError('MODEL_LOAD_FAILED', 'ONNX model must have one tensor input (and optionally an int32 [batch] sequence-lengths input) and at least one output');
  }
  const shape = meta.shape;
  const stepsAxis: 0 | 1 = shape[0] === 1 && shape[1] !== 1 ? 1 : 0;
  const dynamicBatch = stepsAxis === 0 && typeof shape[1] === 'string';
  const common = { name: meta.name, outputName, stepsAxis, dynamicBatch, ...(lengths ? { seqLens: lengths.name } : {}) };
  if (meta.type === 'float32') {
    const featureSize = shape[2];
    if (shape.length !== 3 || typeof featureSize !== 'number') {
      throw new CrimeError('MODEL_LOAD_FAILED', `ONNX float input must be [steps, batch, featureSize] or [1, steps, featureSize], got [${shape.join(', ')}]`);
    }
    return { binding: { ...common, dtype: 'float32' }, info: { name, format: 'onnx', inputKind: 'floats', featureSize } };
  }
  if (meta.type === 'int32' || meta.type === 'int64') {
    if (shape.length !== 2) {
      throw new CrimeError('MODEL_LOAD_FAILED', `ONNX token input must be [steps, batch] or [1, steps], got [${shape.join(', ')}]`);
    }
    return { binding: { ...common, dtype: meta.type }, info: { name, format: 'onnx', inputKind: 'tokens', featureSize: 1 } };
  }
  throw new CrimeError('MODEL_LOAD_FAILED', `ONNX input type ${meta.type} is not supported (float32, int32 or int64)`);
}

/**
 * The feeds for one run: one sequence as it is, or several time-major ([steps, batch, …]) padded
 * with zeros (token 0) to the longest, with their lengths when the model takes them.
 */
export function feedsOf(ort: OrtModule, binding: OnnxBinding, featureSize: number, inputs: readonly ModelInput[]): Record<string, Ort.Tensor> {
  const batch = inputs.length;
  const first = inputs[0];
  if (first === undefined) throw new RangeError('a run needs at least one input');
  const steps = inputs.reduce((m, i) => Math.max(m, i.steps), 0);
  const width = first.kind === 'floats' ? featureSize : 1;
  let data: Float32Array | Int32Array;
  if (batch === 1) {
    data = first.data;
  } else {
    data = first.kind === 'floats' ? new Float32Array(steps * batch * width) : new Int32Array(steps * batch);
    inputs.forEach((input, b) => {
      for (let t = 0; t < input.steps; t++) data.set(input.data.subarray(t * width, (t + 1) * width), (t * batch + b) * width);
    });
  }
  const lead = binding.stepsAxis === 0 ? [steps, batch] : [batch, steps];
  const feeds: Record<string, Ort.Tensor> = {};
  if (first.kind === 'floats') feeds[binding.name] = new ort.Tensor('float32', data as Float32Array, [...lead, featureSize]);
  else if (binding.dtype === 'int64') feeds[binding.name] = new ort.Tensor('int64', BigInt64Array.from(data as Int32Array, (v) => BigInt(v)), lead);
  else feeds[binding.name] = new ort.Tensor('int32', data as Int32Array, lead);
  if (binding.seqLens !== undefined) feeds[binding.seqLens] = new ort.Tensor('int32', Int32Array.from(inputs, (i) => i.steps), [batch]);
  return feeds;
}

/** The rows of a [batch, outputSize] output, each its own array. */
export function splitRows(out: Float32Array, batch: number): Float32Array[] {
  const size = out.length / batch;
  return Array.from({ length: batch }, (_, b) => out.slice(b * size, (b + 1) * size));
}
