/**
 * The inference backend contract. A backend owns one loaded model, knows its input kind and sizes,
 * and runs batch-1 inference on one sequence at a time. Everything above it (server, bench, mapper)
 * depends on this file only.
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

export interface Backend {
  readonly name: ConcreteBackendName;
  readonly info: ModelInfo;
  /** Runs one sequence. The input must already be validated against `info` (see validateInput). */
  infer(input: ModelInput): Promise<InferResult>;
  dispose(): Promise<void>;
}

/** Monotonic milliseconds; injected where timing matters so tests can control it. */
export type Clock = () => number;

export const defaultClock: Clock = () => performance.now();
