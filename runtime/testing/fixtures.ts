/** Test helpers: generate real models into a temp directory (once per process per preset and format). */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateModel, type GeneratedModel } from '../models/generate.js';
import { MODEL_PRESETS, type ModelPresetName } from '../models/spec.js';

let dirPromise: Promise<string> | undefined;
const generated = new Map<string, Promise<GeneratedModel>>();

export function fixtureDir(): Promise<string> {
  dirPromise ??= mkdtemp(join(tmpdir(), 'crime-models-'));
  return dirPromise;
}

/** Generates a preset in both formats into the process's fixture directory (cached). */
export async function fixtureModel(preset: ModelPresetName): Promise<Required<GeneratedModel>> {
  let p = generated.get(preset);
  if (p === undefined) {
    p = fixtureDir().then((outDir) => generateModel({ spec: MODEL_PRESETS[preset], formats: ['onnx', 'tfjs'], outDir }));
    generated.set(preset, p);
  }
  const g = await p;
  if (g.onnx === undefined || g.tfjs === undefined) throw new Error('fixture generation produced no files');
  return { onnx: g.onnx, tfjs: g.tfjs };
}

export async function removeFixtures(): Promise<void> {
  if (dirPromise !== undefined) await rm(await dirPromise, { recursive: true, force: true });
}

/** A preset's ONNX model with the batch-1 layout (no batch dimension, no lengths input), cached too. */
export async function fixtureFixedBatchModel(preset: ModelPresetName): Promise<string> {
  const key = `${preset}/fixed`;
  let p = generated.get(key);
  if (p === undefined) {
    p = fixtureDir().then((dir) => generateModel({ spec: MODEL_PRESETS[preset], formats: ['onnx'], outDir: join(dir, 'fixed'), batch: 'fixed' }));
    generated.set(key, p);
  }
  const g = await p;
  if (g.onnx === undefined) throw new Error('fixture generation produced no file');
  return g.onnx;
}
