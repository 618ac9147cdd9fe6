import assert from 'node:assert/strict';
import { test } from 'node:test';
import { CrimeError } from '../errors.js';
import { checkInput, probeInput, sampleInput } from './input.js';
import type { ModelInfo } from './types.js';

const floats: ModelInfo = { name: 'm', format: 'onnx', inputKind: 'floats', featureSize: 3, outputSize: 2 };
const tokens: ModelInfo = { name: 't', format: 'onnx', inputKind: 'tokens', featureSize: 1, vocabSize: 10, outputSize: 2 };

function code(fn: () => void): string | undefined {
  try {
    fn();
    return undefined;
  } catch (err) {
    return err instanceof CrimeError ? err.code : 'not a CrimeError';
  }
}

test('valid inputs pass', () => {
  checkInput(floats, sampleInput(floats, 4), 10);
  checkInput(tokens, sampleInput(tokens, 4), 10);
  checkInput(tokens, probeInput(tokens, 10), 10);
});

test('bad shapes, values and lengths are typed errors', () => {
  assert.equal(code(() => checkInput(floats, { kind: 'floats', data: new Float32Array(0), steps: 0 }, 10)), 'INVALID_INPUT');
  assert.equal(code(() => checkInput(floats, { kind: 'floats', data: new Float32Array(5), steps: 2 }, 10)), 'INVALID_INPUT');
  assert.equal(code(() => checkInput(floats, { kind: 'floats', data: Float32Array.of(1, 2, NaN), steps: 1 }, 10)), 'INVALID_INPUT');
  assert.equal(code(() => checkInput(floats, { kind: 'floats', data: Float32Array.of(1, Infinity, 0), steps: 1 }, 10)), 'INVALID_INPUT');
  assert.equal(code(() => checkInput(floats, probeInput(floats, 11), 10)), 'INPUT_TOO_LONG');
  assert.equal(code(() => checkInput(floats, probeInput(tokens, 2), 10)), 'INVALID_INPUT');
  assert.equal(code(() => checkInput(tokens, { kind: 'tokens', data: Int32Array.of(1, 10), steps: 2 }, 10)), 'INVALID_INPUT');
  assert.equal(code(() => checkInput(tokens, { kind: 'tokens', data: Int32Array.of(-1), steps: 1 }, 10)), 'INVALID_INPUT');
});
