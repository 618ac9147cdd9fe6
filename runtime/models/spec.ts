/**
 * Architecture and deterministic weights of the LSTM models the project generates for tests, demos and
 * benchmarks. One canonical weight layout; the ONNX and tfjs writers and the reference implementation
 * all read it, so every format of a model computes the same function.
 */
import type { InputKind } from '../backends/types.js';

export interface LstmModelSpec {
  /** Model name, also the default file name stem. */
  name: string;
  inputKind: InputKind;
  /** Floats per step ("floats"), or the embedding width ("tokens"). */
  featureSize: number;
  /** Vocabulary size of the embedding table; "tokens" models only. */
  vocabSize?: number;
  hiddenSize: number;
  layers: number;
  /** Width of the dense head applied to the last hidden state. */
  outputSize: number;
  /** Seed of the weight generator: same spec, same weights, every run. */
  seed: number;
}

export const MODEL_PRESETS = {
  /** CoVe-like encoder: 2-layer LSTM, 300 inputs / 300 hidden (GloVe vectors in), SNLI-style 3-way head. */
  cove2x300: {
    name: 'cove2x300', inputKind: 'floats', featureSize: 300, hiddenSize: 300, layers: 2, outputSize: 3, seed: 300,
  },
  /** IMDB-like sentiment model: embedding (vocabulary 1000, width 128) + 1-layer LSTM 128, 2-way head. */
  imdb1x128: {
    name: 'imdb1x128', inputKind: 'tokens', featureSize: 128, vocabSize: 1000, hiddenSize: 128, layers: 1,
    outputSize: 2, seed: 128,
  },
  /** A small floats model for quick tests: 2 layers, 16 inputs / 24 hidden. */
  tiny2x24: {
    name: 'tiny2x24', inputKind: 'floats', featureSize: 16, hiddenSize: 24, layers: 2, outputSize: 4, seed: 24,
  },
} as const satisfies Record<string, LstmModelSpec>;

export type ModelPresetName = keyof typeof MODEL_PRESETS;

export function isPresetName(name: string): name is ModelPresetName {
  return Object.hasOwn(MODEL_PRESETS, name);
}

/** Gate order of the canonical layout: input, forget, cell candidate, output (Keras order). */
export const GATES = ['i', 'f', 'g', 'o'] as const;

export interface LstmLayerWeights {
  inputSize: number;
  /** [4 · hidden, inputSize], row-major, gate blocks in GATES order. */
  kernel: Float32Array;
  /** [4 · hidden, hidden], row-major, gate blocks in GATES order. */
  recurrent: Float32Array;
  /** [4 · hidden], gate blocks in GATES order. */
  bias: Float32Array;
}

export interface LstmWeights {
  /** [vocabSize, featureSize] for "tokens" models. */
  embedding?: Float32Array;
  layers: LstmLayerWeights[];
  /** [outputSize, hidden], row-major. */
  dense: Float32Array;
  /** [outputSize]. */
  denseBias: Float32Array;
}

/** mulberry32: a tiny, fast, well-distributed 32-bit PRNG; returns floats in [0, 1). */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function uniform(random: () => number, size: number, scale: number): Float32Array {
  const out = new Float32Array(size);
  for (let k = 0; k < size; k++) out[k] = (random() * 2 - 1) * scale;
  return out;
}

/** Deterministic weights with the usual uniform(±1/√hidden) initialisation (as PyTorch's LSTM). */
export function generateWeights(spec: LstmModelSpec): LstmWeights {
  validateSpec(spec);
  const random = seededRandom(spec.seed);
  const h = spec.hiddenSize;
  const scale = 1 / Math.sqrt(h);
  const embedding = spec.inputKind === 'tokens'
    ? uniform(random, (spec.vocabSize ?? 0) * spec.featureSize, 1)
    : undefined;
  const layers: LstmLayerWeights[] = [];
  for (let l = 0; l < spec.layers; l++) {
    const inputSize = l === 0 ? spec.featureSize : h;
    layers.push({
      inputSize,
      kernel: uniform(random, 4 * h * inputSize, scale),
      recurrent: uniform(random, 4 * h * h, scale),
      bias: uniform(random, 4 * h, scale),
    });
  }
  const dense = uniform(random, spec.outputSize * h, scale);
  const denseBias = uniform(random, spec.outputSize, scale);
  return embedding === undefined ? { layers, dense, denseBias } : { embedding, layers, dense, denseBias };
}

export function validateSpec(spec: LstmModelSpec): void {
  const positive = ['featureSize', 'hiddenSize', 'layers', 'outputSize'] as const;
  for (const key of positive) {
    if (!Number.isInteger(spec[key]) || spec[key] < 1) throw new RangeError(`model spec: ${key} must be a positive integer`);
  }
  if (spec.inputKind === 'tokens' && !(Number.isInteger(spec.vocabSize) && (spec.vocabSize ?? 0) > 0)) {
    throw new RangeError('model spec: a "tokens" model needs a positive integer vocabSize');
  }
}
