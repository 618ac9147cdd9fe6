/**
 * Generates a model preset (or any spec) as files: ONNX (one .onnx file) and/or tfjs (a directory with
 * model.json and weight shards). Deterministic: the same spec gives byte-identical ONNX files.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { buildLstmOnnx } from './onnx-writer.js';
import { generateWeights, type LstmModelSpec } from './spec.js';
import type { Tf } from '../backends/tfjs-runtime.js';
import { buildLayersModel, saveTfjsModel } from './tfjs-writer.js';

export type GenerateFormat = 'onnx' | 'tfjs';

export interface GenerateOptions {
  spec: LstmModelSpec;
  formats: readonly GenerateFormat[];
  outDir: string;
  /** the ONNX model's batch dimension (default dynamic, with a sequence-lengths input; see onnx-writer.ts) */
  batch?: 'dynamic' | 'fixed';
}

export interface GeneratedModel {
  /** `<outDir>/<name>.onnx` when ONNX was requested. */
  onnx?: string;
  /** `<outDir>/<name>.tfjs/model.json` when tfjs was requested. */
  tfjs?: string;
}

/** Plain @tensorflow/tfjs on whatever backend is active: building and saving needs no speed. */
async function loadTfForWriting(): Promise<Tf> {
  const tf = await import('@tensorflow/tfjs');
  await tf.ready();
  return tf;
}

export async function generateModel(options: GenerateOptions): Promise<GeneratedModel> {
  const { spec, outDir } = options;
  const weights = generateWeights(spec);
  await mkdir(outDir, { recursive: true });
  const result: GeneratedModel = {};
  if (options.formats.includes('onnx')) {
    const path = join(outDir, `${spec.name}.onnx`);
    await writeFile(path, buildLstmOnnx(spec, weights, { batch: options.batch ?? 'dynamic' }));
    result.onnx = path;
  }
  if (options.formats.includes('tfjs')) {
    const tf = await loadTfForWriting();
    const model = buildLayersModel(tf, spec, weights);
    try {
      result.tfjs = await saveTfjsModel(tf, model, join(outDir, `${spec.name}.tfjs`));
    } finally {
      model.dispose();
    }
  }
  return result;
}
