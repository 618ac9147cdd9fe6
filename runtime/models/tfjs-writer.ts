/**
 * Builds the canonical LSTM as a tfjs LayersModel and saves it through tfjs's own IO (model.save with
 * a tf.io save handler), as model.json plus 4 MB weight shards: the layout tfjs-converter writes.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type * as TfNamespace from '@tensorflow/tfjs';
import type { Tf } from '../backends/tfjs-runtime.js';
import type { LstmModelSpec, LstmWeights } from './spec.js';

export const TFJS_SHARD_BYTES = 4 * 1024 * 1024;

/** [rows, cols] row-major → [cols, rows] row-major. */
function transpose(data: Float32Array, rows: number, cols: number): Float32Array {
  const out = new Float32Array(data.length);
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < cols; c++) out[c * rows + r] = data[r * cols + c] ?? 0;
  }
  return out;
}

export function buildLayersModel(tf: Tf, spec: LstmModelSpec, weights: LstmWeights): TfNamespace.LayersModel {
  const h = spec.hiddenSize;
  const model = tf.sequential({ name: spec.name });
  if (spec.inputKind === 'tokens') {
    model.add(tf.layers.embedding({
      name: 'embedding', embeddingsInitializer: 'zeros', inputDim: spec.vocabSize ?? 0, outputDim: spec.featureSize, inputShape: [null],
    }));
  }
  weights.layers.forEach((_, l) => {
    model.add(tf.layers.lstm({
      name: `lstm${l}`,
      units: h,
      activation: 'tanh',
      recurrentActivation: 'sigmoid',
      // The weights are overwritten below; the default orthogonal initialiser takes minutes at 300×1200.
      kernelInitializer: 'zeros',
      recurrentInitializer: 'zeros',
      returnSequences: l < weights.layers.length - 1,
      ...(l === 0 && spec.inputKind === 'floats' ? { inputShape: [null, spec.featureSize] } : {}),
    }));
  });
  model.add(tf.layers.dense({ name: 'head', units: spec.outputSize, kernelInitializer: 'zeros' }));

  tf.tidy(() => {
    if (spec.inputKind === 'tokens') {
      model.getLayer('embedding').setWeights([tf.tensor2d(weights.embedding ?? new Float32Array(0), [spec.vocabSize ?? 0, spec.featureSize])]);
    }
    weights.layers.forEach((layer, l) => {
      model.getLayer(`lstm${l}`).setWeights([
        tf.tensor2d(transpose(layer.kernel, 4 * h, layer.inputSize), [layer.inputSize, 4 * h]),
        tf.tensor2d(transpose(layer.recurrent, 4 * h, h), [h, 4 * h]),
        tf.tensor1d(layer.bias),
      ]);
    });
    model.getLayer('head').setWeights([
      tf.tensor2d(transpose(weights.dense, spec.outputSize, h), [h, spec.outputSize]),
      tf.tensor1d(weights.denseBias),
    ]);
  });
  return model;
}

function toBytes(data: ArrayBuffer | ArrayBuffer[] | undefined): Uint8Array {
  const parts = data === undefined ? [] : Array.isArray(data) ? data : [data];
  const total = parts.reduce((sum, p) => sum + p.byteLength, 0);
  const out = new Uint8Array(total);
  let offset = 0;
  for (const p of parts) {
    out.set(new Uint8Array(p), offset);
    offset += p.byteLength;
  }
  return out;
}

/** Saves through model.save(tf.io.withSaveHandler(...)); returns the model.json path. */
export async function saveTfjsModel(tf: Tf, model: TfNamespace.LayersModel, dir: string): Promise<string> {
  await mkdir(dir, { recursive: true });
  const modelJsonPath = join(dir, 'model.json');
  await model.save(tf.io.withSaveHandler(async (artifacts) => {
    const weights = toBytes(artifacts.weightData);
    const shardCount = Math.max(1, Math.ceil(weights.length / TFJS_SHARD_BYTES));
    const paths: string[] = [];
    for (let s = 0; s < shardCount; s++) {
      const name = `group1-shard${s + 1}of${shardCount}.bin`;
      paths.push(name);
      await writeFile(join(dir, name), weights.subarray(s * TFJS_SHARD_BYTES, (s + 1) * TFJS_SHARD_BYTES));
    }
    const modelJson = {
      format: artifacts.format ?? 'layers-model',
      generatedBy: artifacts.generatedBy,
      convertedBy: artifacts.convertedBy ?? null,
      modelTopology: artifacts.modelTopology,
      weightsManifest: [{ paths, weights: artifacts.weightSpecs ?? [] }],
    };
    await writeFile(modelJsonPath, JSON.stringify(modelJson));
    return { modelArtifactsInfo: tf.io.getModelArtifactsInfoForJSON(artifacts) };
  }));
  return modelJsonPath;
}
