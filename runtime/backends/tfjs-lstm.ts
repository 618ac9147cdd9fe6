/**
 * The fast tfjs path for LayersModels made of [Embedding] → LSTM+ → Dense*: instead of the layers'
 * generic per-step RNN loop, each LSTM layer computes all input projections in one matMul (one data
 * sync per layer), then runs only h·U + gates per step, disposing per step. On host-memory backends
 * the gates are one fused kernel (tfjs-lstm-kernel.ts). Same weights, same math.
 */
import type * as TfNamespace from '@tensorflow/tfjs';
import { fusedCell, fusedCellAvailable } from './tfjs-lstm-kernel.js';
import type { ModelInput } from './types.js';
import type { Tf } from './tfjs-runtime.js';

type Tensor2D = TfNamespace.Tensor2D;
type Layer = TfNamespace.LayersModel['layers'][number];

const DENSE_ACTIVATIONS = ['linear', 'relu', 'sigmoid', 'tanh', 'softmax'] as const;
type DenseActivation = (typeof DENSE_ACTIVATIONS)[number];

interface LstmStage {
  units: number;
  /** [in, 4·units], Keras gate order i, f, c, o. */
  kernel: Tensor2D;
  /** [units, 4·units]. */
  recurrent: Tensor2D;
  /** [1, 4·units]. */
  bias: Tensor2D;
}

interface DenseStage {
  kernel: Tensor2D;
  bias: Tensor2D | undefined;
  activation: DenseActivation;
}

export interface LstmPlan {
  embedding: Tensor2D | undefined;
  lstms: LstmStage[];
  dense: DenseStage[];
}

export type PlanResult = { plan: LstmPlan } | { unsupported: string };

function configOf(layer: Layer): Record<string, unknown> {
  return layer.getConfig() as Record<string, unknown>;
}

function lstmStage(tf: Tf, layer: Layer, isLast: boolean): LstmStage | string {
  const c = configOf(layer);
  if (c.activation !== 'tanh' || c.recurrentActivation !== 'sigmoid') return `${layer.name}: activations other than tanh/sigmoid`;
  if (c.goBackwards === true || c.stateful === true || c.returnState === true) return `${layer.name}: backwards, stateful or state-returning LSTM`;
  if ((c.returnSequences === true) === isLast) return `${layer.name}: only the last LSTM may return its final state alone`;
  const units = Number(c.units);
  const [kernel, recurrent, bias] = layer.getWeights();
  if (kernel === undefined || recurrent === undefined) return `${layer.name}: missing weights`;
  return {
    units,
    kernel: tf.clone(kernel) as Tensor2D,
    recurrent: tf.clone(recurrent) as Tensor2D,
    bias: (bias === undefined ? tf.zeros([1, 4 * units]) : bias.reshape([1, 4 * units])) as Tensor2D,
  };
}

/**
 * Recognises the architecture; anything else runs through model.predict instead. The plan holds its
 * own references to the weights (clones share storage), so it outlives neither more nor less than
 * disposePlan says.
 */
export function planLstm(tf: Tf, model: TfNamespace.LayersModel): PlanResult {
  const layers = model.layers.filter((l) => l.getClassName() !== 'InputLayer');
  const plan: LstmPlan = { embedding: undefined, lstms: [], dense: [] };
  let k = 0;
  const first = layers[0];
  if (first?.getClassName() === 'Embedding') {
    if (configOf(first).maskZero === true) return { unsupported: 'masked embedding' };
    plan.embedding = first.getWeights().map((w) => tf.clone(w))[0] as Tensor2D | undefined;
    k = 1;
  }
  const lstmLayers: Layer[] = [];
  while (layers[k]?.getClassName() === 'LSTM') lstmLayers.push(layers[k++] as Layer);
  if (lstmLayers.length === 0) return { unsupported: 'no LSTM layer' };
  for (const [i, layer] of lstmLayers.entries()) {
    const stage = lstmStage(tf, layer, i === lstmLayers.length - 1);
    if (typeof stage === 'string') return { unsupported: stage };
    plan.lstms.push(stage);
  }
  for (; k < layers.length; k++) {
    const layer = layers[k] as Layer;
    const c = configOf(layer);
    const activation = String(c.activation);
    if (layer.getClassName() !== 'Dense' || !(DENSE_ACTIVATIONS as readonly string[]).includes(activation)) {
      return { unsupported: `layer ${layer.name} (${layer.getClassName()})` };
    }
    const [kernel, bias] = layer.getWeights();
    if (kernel === undefined) return { unsupported: `${layer.name}: missing weights` };
    plan.dense.push({ kernel: tf.clone(kernel) as Tensor2D, bias: bias?.reshape([1, -1]) as Tensor2D | undefined, activation: activation as DenseActivation });
  }
  return { plan };
}

function runLstmLayer(tf: Tf, stage: LstmStage, x: Tensor2D, steps: number, keepSequence: boolean): Tensor2D {
  const width = 4 * stage.units;
  // One matMul for every step's input projection, one sync to read it back.
  const projected = tf.tidy(() => tf.add(tf.matMul(x, stage.kernel), stage.bias)).dataSync() as Float32Array;
  let h = tf.zeros([1, stage.units]) as Tensor2D;
  let c = tf.zeros([1, stage.units]) as Tensor2D;
  const sequence: Tensor2D[] = [];
  const fused = fusedCellAvailable(tf);
  for (let t = 0; t < steps; t++) {
    const [nextH, nextC] = tf.tidy(() => {
      const xt = tf.tensor2d(projected.subarray(t * width, (t + 1) * width), [1, width]);
      if (fused) return fusedCell(tf, tf.matMul(h, stage.recurrent), xt, c);
      const z = tf.add(tf.matMul(h, stage.recurrent), xt);
      const [i, f, g, o] = tf.split(z, 4, 1) as [Tensor2D, Tensor2D, Tensor2D, Tensor2D];
      const cNew = tf.add(tf.mul(tf.sigmoid(f), c), tf.mul(tf.sigmoid(i), tf.tanh(g))) as Tensor2D;
      return [tf.mul(tf.sigmoid(o), tf.tanh(cNew)) as Tensor2D, cNew];
    });
    c.dispose();
    if (keepSequence) sequence.push(nextH);
    else h.dispose();
    h = nextH;
    c = nextC;
  }
  c.dispose();
  if (!keepSequence) return h;
  const stacked = tf.concat(sequence, 0);
  for (const s of sequence) s.dispose();
  return stacked;
}

function applyDense(tf: Tf, stage: DenseStage, x: Tensor2D): Tensor2D {
  const product = tf.matMul(x, stage.kernel);
  const linear = (stage.bias === undefined ? product : tf.add(product, stage.bias)) as Tensor2D;
  switch (stage.activation) {
    case 'linear': return linear;
    case 'relu': return tf.relu(linear);
    case 'sigmoid': return tf.sigmoid(linear);
    case 'tanh': return tf.tanh(linear);
    case 'softmax': return tf.softmax(linear);
  }
}

/** Runs one sequence through the plan; returns the head's outputs. */
export function runLstmPlan(tf: Tf, plan: LstmPlan, input: ModelInput): Float32Array {
  const { steps } = input;
  let x: Tensor2D = tf.tidy(() => {
    if (input.kind === 'tokens') return tf.gather(plan.embedding ?? tf.zeros([1, 1]), tf.tensor1d(input.data, 'int32')) as Tensor2D;
    return tf.tensor2d(input.data, [steps, input.data.length / steps]);
  });
  plan.lstms.forEach((stage, l) => {
    const next = runLstmLayer(tf, stage, x, steps, l < plan.lstms.length - 1);
    x.dispose();
    x = next;
  });
  const out = plan.dense.length === 0 ? x : tf.tidy(() => plan.dense.reduce((acc, stage) => applyDense(tf, stage, acc), x));
  const data = out.dataSync() as Float32Array;
  out.dispose();
  x.dispose();
  return data;
}

export function disposePlan(plan: LstmPlan): void {
  plan.embedding?.dispose();
  for (const s of plan.lstms) [s.kernel, s.recurrent, s.bias].forEach((t) => t.dispose());
  for (const d of plan.dense) [d.kernel, d.bias].forEach((t) => t?.dispose());
}
