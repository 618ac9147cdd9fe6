/**
 * The inference backend contract. A backend owns one loaded model, knows its input kind and sizes,
 * and runs one sequence, or (where the model has a dynamic batch dimension) several as one batch.
 * Everything above it (server, bench, mapper) depends on this file only.
 */

/** "floats": n steps of featureSize float32 each; "tokens": n int32 token ids. */
export type InputKind = 'floats' | 'tokens';

export type ModelFormat = 'onnx' | 'tfjs';

export const BACKEND_NAMES = [
  'auto', 'onnx-cpu', 'onnx-cuda', 'tfjs-node-gpu', 'tfjs-node', 'tfjs-wasm', 'tfjs-cpu',
] as const;

export type BackendName = (typeof BACKEND_NAMES)[number];
export type ConcreteBackendName = Exclude<BackendName, 'auto'>;

export function isBackendName(value: string): value is BackendName {
  return (BACKEND_NAMES as readonly string[]).includes(value);
}

/** One sequence to run. `data` holds steps × featureSize floats, or `steps` token ids. */
export type ModelInput =
  | { kind: 'floats'; data: Float32Array; steps: number }
  | { kind: 'tokens'; data: Int32Array; steps: number };

/** What a loaded model accepts and returns; derived from the model file, checked at load. */
export interface ModelInfo {
  name: string;
  format: ModelFormat;
  inputKind: InputKind;
  /** Floats per step for "floats"; 1 for "tokens" (one id per step). */
  featureSize: number;
  /** Exclusive upper bound of token ids, when the model reveals it. */
  vocabSize?: number;
  outputSize: number;
}

export interface InferResult {
  outputs: Float32Array;
  /** Wall time of the model run alone (no queueing, no (de)serialisation), in milliseconds. */
  computeMs: number;
}

/** What one run of a backend can take. */
export interface BatchCapability {
  /** most sequences in one run; 1 when the model's batch dimension is fixed (or the backend runs one at a time) */
  maxBatch: number;
  /** sequences of different lengths may share a run (the model takes each one's length); else only equal lengths */
  mixedLengths: boolean;
  /** runs that may execute at once and gain from it (separate threads); 1 when runs serialize */
  parallelRuns: number;
  /** why maxBatch or parallelRuns is 1, for the log and GET /v1/model */
  reason?: string;
}

/** One run of several sequences: one output per input, in order, and the run's wall time. */
export interface BatchResult {
  outputs: Float32Array[];
  computeMs: number;
}

export interface Backend {
  readonly name: ConcreteBackendName;
  readonly info: ModelInfo;
  /** What one run can take; absent: one sequence at a time, runs serialize (BATCH_OF_ONE). */
  readonly batching?: BatchCapability;
  /** Runs one sequence. The input must already be validated against `info` (see validateInput). */
  infer(input: ModelInput): Promise<InferResult>;
  /**
   * Runs up to batching.maxBatch sequences as one batch (of one length unless mixedLengths). Absent
   * on backends that run one sequence at a time.
   */
  inferBatch?(inputs: readonly ModelInput[]): Promise<BatchResult>;
  dispose(): Promise<void>;
}

export const BATCH_OF_ONE: BatchCapability = { maxBatch: 1, mixedLengths: false, parallelRuns: 1, reason: 'the backend runs one sequence at a time' };

export function batchingOf(backend: Backend): BatchCapability {
  return backend.batching ?? BATCH_OF_ONE;
}

/** Runs a batch on any backend: in one run where it batches, else one sequence after another. */
export async function runBatch(backend: Backend, inputs: readonly ModelInput[]): Promise<BatchResult> {
  if (inputs.length > 1 && backend.inferBatch) return backend.inferBatch(inputs);
  const outputs: Float32Array[] = [];
  let computeMs = 0;
  for (const input of inputs) {
    const r = await backend.infer(input);
    outputs.push(r.outputs);
    computeMs += r.computeMs;
  }
  return { outputs, computeMs };
}

/** Monotonic milliseconds; injected where timing matters so tests can control it. */
export type Clock = () => number;

export const defaultClock: Clock = () => performance.now();
