/**
 * tfjs backend: loads a tfjs model (model.json + weight shards, LayersModel or GraphModel) from a path
 * or URL through tfjs's own IO, on one of the tfjs flavours. LSTM LayersModels run on the fast path of
 * tfjs-lstm.ts; any other model runs through predict/executeAsync.
 */
import type * as TfNamespace from '@tensorflow/tfjs';
import { CrimeError } from '../errors.js';
import { readModelBytes, siblingOf, type FetchOptions } from '../models/source.js';
import { probeInput } from './input.js';
import { disposePlan, planLstm, runLstmPlan, type LstmPlan } from './tfjs-lstm.js';
import { loadTfjsRuntime, type Tf, type TfjsBackendName, type TfjsRuntime } from './tfjs-runtime.js';
import { defaultClock, type Backend, type Clock, type InferResult, type ModelInfo, type ModelInput } from './types.js';

export type TfjsLstmPath = 'fast' | 'predict';

export interface TfjsBackendOptions {
  /** Path or http(s) URL of model.json; weight shards are read from beside it. */
  location: string;
  name: string;
  backend: TfjsBackendName;
  /** "fast" (default) uses the fused LSTM path when the model allows it; "predict" always uses tfjs-layers. */
  lstmPath?: TfjsLstmPath;
  clock?: Clock;
  fetch?: FetchOptions;
}

type LoadedModel =
  | { kind: 'layers'; model: TfNamespace.LayersModel }
  | { kind: 'graph'; model: TfNamespace.GraphModel };

async function loadArtifacts(tf: Tf, location: string, fetchOptions: FetchOptions): Promise<TfNamespace.io.ModelArtifacts> {
  let json: TfNamespace.io.ModelJSON;
  try {
    json = JSON.parse(new TextDecoder().decode(await readModelBytes(location, fetchOptions))) as TfNamespace.io.ModelJSON;
  } catch (err) {
    if (err instanceof CrimeError) throw err;
    throw new CrimeError('MODEL_LOAD_FAILED', `${location} is not a tfjs model.json: ${(err as Error).message}`, { cause: err });
  }
  if (typeof json !== 'object' || json === null || typeof json.modelTopology !== 'object') {
    throw new CrimeError('MODEL_LOAD_FAILED', `${location} has no modelTopology: not a tfjs model.json`);
  }
  return tf.io.getModelArtifactsForJSON(json, async (manifest) => {
    const buffers: ArrayBuffer[] = [];
    for (const group of manifest) {
      for (const path of group.paths) {
        const bytes = await readModelBytes(siblingOf(location, path), fetchOptions);
        buffers.push(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer);
      }
    }
    return [manifest.flatMap((g) => g.weights), buffers];
  });
}

async function loadModel(tf: Tf, artifacts: TfNamespace.io.ModelArtifacts): Promise<LoadedModel> {
  const handler = tf.io.fromMemory(artifacts);
  try {
    if (artifacts.format === 'graph-model') return { kind: 'graph', model: await tf.loadGraphModel(handler) };
    return { kind: 'layers', model: await tf.loadLayersModel(handler) };
  } catch (err) {
    throw new CrimeError('MODEL_LOAD_FAILED', `tfjs cannot build the model: ${(err as Error).message}`, { cause: err });
  }
}

function describe(loaded: LoadedModel, name: string): Omit<ModelInfo, 'outputSize'> {
  if (loaded.kind === 'layers') {
    const first = loaded.model.layers.find((l) => l.getClassName() !== 'InputLayer');
    if (first?.getClassName() === 'Embedding') {
      const vocabSize = Number((first.getConfig() as Record<string, unknown>).inputDim);
      return { name, format: 'tfjs', inputKind: 'tokens', featureSize: 1, vocabSize };
    }
  }
  const input = loaded.model.inputs[0];
  const shape = input?.shape ?? [];
  if (input?.dtype === 'int32' && shape.length === 2) return { name, format: 'tfjs', inputKind: 'tokens', featureSize: 1 };
  const featureSize = shape[2];
  if (shape.length === 3 && typeof featureSize === 'number' && featureSize > 0) {
    return { name, format: 'tfjs', inputKind: 'floats', featureSize };
  }
  throw new CrimeError('MODEL_LOAD_FAILED', `tfjs model input must be [batch, steps, featureSize] floats or [batch, steps] int32 tokens, got [${shape.join(', ')}]`);
}

export class TfjsBackend implements Backend {
  readonly name: TfjsBackendName;
  /** "fast" when the fused LSTM path runs this model, else the generic tfjs path. */
  readonly path: TfjsLstmPath;
  /** Why the fast path was not used, when it was not. */
  readonly fallbackReason: string | undefined;
  readonly runtime: TfjsRuntime;
  #info: ModelInfo;
  private readonly loaded: LoadedModel;
  private readonly plan: LstmPlan | undefined;
  private readonly clock: Clock;

  private constructor(runtime: TfjsRuntime, loaded: LoadedModel, info: ModelInfo, plan: LstmPlan | undefined, fallbackReason: string | undefined, clock: Clock) {
    this.name = runtime.name;
    this.runtime = runtime;
    this.loaded = loaded;
    this.#info = info;
    this.plan = plan;
    this.path = plan === undefined ? 'predict' : 'fast';
    this.fallbackReason = fallbackReason;
    this.clock = clock;
  }

  static async create(options: TfjsBackendOptions): Promise<TfjsBackend> {
    const runtime = await loadTfjsRuntime(options.backend);
    const { tf } = runtime;
    const loaded = await loadModel(tf, await loadArtifacts(tf, options.location, options.fetch ?? {}));
    const partial: ModelInfo = { ...describe(loaded, options.name), outputSize: 0 };
    let plan: LstmPlan | undefined;
    let fallbackReason: string | undefined;
    if (options.lstmPath === 'predict') fallbackReason = 'predict path requested';
    else if (loaded.kind === 'graph') fallbackReason = 'GraphModel';
    else {
      const planned = planLstm(tf, loaded.model);
      if ('plan' in planned) plan = planned.plan;
      else fallbackReason = planned.unsupported;
    }
    const backend = new TfjsBackend(runtime, loaded, partial, plan, fallbackReason, options.clock ?? defaultClock);
    const probe = await backend.infer(probeInput(partial));
    backend.#info = { ...partial, outputSize: probe.outputs.length };
    return backend;
  }

  get info(): ModelInfo {
    return this.#info;
  }

  private async run(input: ModelInput): Promise<Float32Array> {
    const { tf } = this.runtime;
    if (this.plan !== undefined) return runLstmPlan(tf, this.plan, input);
    const x = input.kind === 'tokens'
      ? tf.tensor2d(input.data, [1, input.steps], this.loaded.kind === 'graph' ? 'int32' : 'float32')
      : tf.tensor3d(input.data, [1, input.steps, this.#info.featureSize]);
    try {
      const y = this.loaded.kind === 'graph'
        ? await this.loaded.model.executeAsync(x)
        : this.loaded.model.predict(x);
      const first = Array.isArray(y) ? y[0] : y;
      if (first === undefined) throw new CrimeError('INTERNAL', 'tfjs model returned no output');
      const data = (await first.data()) as Float32Array;
      tf.dispose(y);
      return data;
    } finally {
      x.dispose();
    }
  }

  async infer(input: ModelInput): Promise<InferResult> {
    const { tf, engineBackend } = this.runtime;
    // Several tfjs backends can share one engine (the benchmark); make sure ours is the active one.
    if (tf.getBackend() !== engineBackend) await tf.setBackend(engineBackend);
    const start = this.clock();
    const outputs = await this.run(input);
    return { outputs, computeMs: this.clock() - start };
  }

  async dispose(): Promise<void> {
    if (this.plan !== undefined) disposePlan(this.plan);
    this.loaded.model.dispose();
  }
}
