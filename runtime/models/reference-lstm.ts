/**
 * A plain TypeScript LSTM forward pass over the canonical weights: the numerical reference that the
 * ONNX and tfjs models are tested against. Clear rather than fast.
 */
import type { LstmModelSpec, LstmWeights } from './spec.js';

function sigmoid(x: number): number {
  return 1 / (1 + Math.exp(-x));
}

/** One layer over a whole sequence; returns every step's hidden state, [n, hidden]. */
function runLayer(
  x: Float32Array, n: number, inputSize: number, hidden: number, w: LstmWeights['layers'][number],
): Float32Array {
  const out = new Float32Array(n * hidden);
  const h = new Float64Array(hidden);
  const c = new Float64Array(hidden);
  const z = new Float64Array(4 * hidden);
  for (let t = 0; t < n; t++) {
    const xt = t * inputSize;
    for (let r = 0; r < 4 * hidden; r++) {
      let acc = w.bias[r] ?? 0;
      const kRow = r * inputSize;
      for (let j = 0; j < inputSize; j++) acc += (w.kernel[kRow + j] ?? 0) * (x[xt + j] ?? 0);
      const rRow = r * hidden;
      for (let j = 0; j < hidden; j++) acc += (w.recurrent[rRow + j] ?? 0) * (h[j] ?? 0);
      z[r] = acc;
    }
    for (let j = 0; j < hidden; j++) {
      const i = sigmoid(z[j] ?? 0);
      const f = sigmoid(z[hidden + j] ?? 0);
      const g = Math.tanh(z[2 * hidden + j] ?? 0);
      const o = sigmoid(z[3 * hidden + j] ?? 0);
      const cj = f * (c[j] ?? 0) + i * g;
      c[j] = cj;
      h[j] = o * Math.tanh(cj);
      out[t * hidden + j] = h[j] ?? 0;
    }
  }
  return out;
}

/**
 * Runs the model on one sequence: `input` is n × featureSize floats, or n token ids for a "tokens"
 * model. Returns the dense head applied to the last layer's final hidden state.
 */
export function referenceForward(
  spec: LstmModelSpec, weights: LstmWeights, input: Float32Array | Int32Array, n: number,
): Float32Array {
  let x: Float32Array;
  if (spec.inputKind === 'tokens') {
    const table = weights.embedding ?? new Float32Array(0);
    x = new Float32Array(n * spec.featureSize);
    for (let t = 0; t < n; t++) {
      const id = input[t] ?? 0;
      x.set(table.subarray(id * spec.featureSize, (id + 1) * spec.featureSize), t * spec.featureSize);
    }
  } else {
    x = Float32Array.from(input);
  }
  let inputSize = spec.featureSize;
  for (const layer of weights.layers) {
    x = runLayer(x, n, inputSize, spec.hiddenSize, layer);
    inputSize = spec.hiddenSize;
  }
  const last = x.subarray((n - 1) * spec.hiddenSize, n * spec.hiddenSize);
  const out = new Float32Array(spec.outputSize);
  for (let k = 0; k < spec.outputSize; k++) {
    let acc = weights.denseBias[k] ?? 0;
    for (let j = 0; j < spec.hiddenSize; j++) acc += (weights.dense[k * spec.hiddenSize + j] ?? 0) * (last[j] ?? 0);
    out[k] = acc;
  }
  return out;
}
