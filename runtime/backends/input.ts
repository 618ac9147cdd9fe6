/**
 * Checks a decoded input against a model before it reaches a backend, and builds valid synthetic
 * inputs (warm-up, probes, benchmarks). Backends trust what passed checkInput.
 */
import { CrimeError } from '../errors.js';
import type { ModelInfo, ModelInput } from './types.js';

export function checkInput(info: ModelInfo, input: ModelInput, maxSteps: number): void {
  if (input.kind !== info.inputKind) {
    throw new CrimeError('INVALID_INPUT', `model "${info.name}" takes ${info.inputKind}, got ${input.kind}`);
  }
  const { steps } = input;
  if (!Number.isInteger(steps) || steps < 1) throw new CrimeError('INVALID_INPUT', 'the sequence is empty');
  if (steps > maxSteps) {
    throw new CrimeError('INPUT_TOO_LONG', `the sequence has ${steps} steps; this model accepts at most ${maxSteps}`);
  }
  if (input.kind === 'floats') {
    if (input.data.length !== steps * info.featureSize) {
      throw new CrimeError('INVALID_INPUT', `expected ${steps} × ${info.featureSize} floats, got ${input.data.length}`);
    }
    for (let k = 0; k < input.data.length; k++) {
      if (!Number.isFinite(input.data[k])) {
        throw new CrimeError('INVALID_INPUT', `step ${Math.floor(k / info.featureSize)} holds a non-finite value`);
      }
    }
    return;
  }
  if (input.data.length !== steps) throw new CrimeError('INVALID_INPUT', `expected ${steps} token ids, got ${input.data.length}`);
  const limit = info.vocabSize ?? 2 ** 31;
  for (let k = 0; k < steps; k++) {
    const id = input.data[k] ?? -1;
    if (id < 0 || id >= limit) throw new CrimeError('INVALID_INPUT', `token ${k} (${id}) is outside [0, ${limit})`);
  }
}

/** A valid input of `steps` steps: zeros, or token 0. */
export function probeInput(info: Pick<ModelInfo, 'inputKind' | 'featureSize'>, steps = 1): ModelInput {
  return info.inputKind === 'tokens'
    ? { kind: 'tokens', data: new Int32Array(steps), steps }
    : { kind: 'floats', data: new Float32Array(steps * info.featureSize), steps };
}

/** A deterministic, non-trivial input of `steps` steps (benchmarks and tests). */
export function sampleInput(info: Pick<ModelInfo, 'inputKind' | 'featureSize' | 'vocabSize'>, steps: number): ModelInput {
  if (info.inputKind === 'tokens') {
    const vocab = info.vocabSize ?? 2;
    return { kind: 'tokens', data: Int32Array.from({ length: steps }, (_, k) => (k * 7919 + 13) % vocab), steps };
  }
  return { kind: 'floats', data: Float32Array.from({ length: steps * info.featureSize }, (_, k) => Math.sin(k * 0.37)), steps };
}
