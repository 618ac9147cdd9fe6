import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { after, test } from 'node:test';
import { sampleInput } from '../backends/input.js';
import { loadOrt } from '../backends/onnx.js';
import { fixtureModel, removeFixtures } from '../testing/fixtures.js';
import { inspectOnnx } from './onnx-inspect.js';
import { buildLstmOnnx, ONNX_OPSET, SEQ_LENS_INPUT } from './onnx-writer.js';
import { referenceForward } from './reference-lstm.js';
import { generateWeights, MODEL_PRESETS, type LstmModelSpec, type ModelPresetName } from './spec.js';

after(removeFixtures);

function assertClose(actual: Float32Array, expected: Float32Array, tolerance: number): void {
  assert.equal(actual.length, expected.length);
  actual.forEach((v, k) => assert.ok(Math.abs(v - (expected[k] ?? NaN)) <= tolerance, `output ${k}: ${v} vs ${expected[k]}`));
}

for (const preset of ['tiny2x24', 'imdb1x128', 'cove2x300'] as const satisfies readonly ModelPresetName[]) {
  test(`${preset}: onnxruntime runs the written ONNX model, one sequence or a batch of different lengths, and matches the reference LSTM`, async () => {
    const spec: LstmModelSpec = MODEL_PRESETS[preset];
    const weights = generateWeights(spec);
    const ort = await loadOrt();
    const { onnx } = await fixtureModel(preset);
    const session = await ort.InferenceSession.create(onnx);
    const lengths = [1, 5, 17];
    const inputs = lengths.map((n) => sampleInput(spec, n));
    // One at a time ...
    for (const input of inputs) {
      const n = input.steps;
      const feeds: Record<string, InstanceType<typeof ort.Tensor>> = input.kind === 'tokens'
        ? { tokens: new ort.Tensor('int32', input.data, [n, 1]) }
        : { x: new ort.Tensor('float32', input.data, [n, 1, spec.featureSize]) };
      feeds[SEQ_LENS_INPUT] = new ort.Tensor('int32', Int32Array.of(n), [1]);
      const out = await session.run(feeds);
      assertClose(out.y?.data as Float32Array, referenceForward(spec, weights, input.data, n), 1e-5);
    }
    // ... and all three in one batch, time-major, padded at the end: each row is its own sequence's.
    const steps = Math.max(...lengths);
    const width = spec.inputKind === 'tokens' ? 1 : spec.featureSize;
    const data = spec.inputKind === 'tokens' ? new Int32Array(steps * inputs.length) : new Float32Array(steps * inputs.length * width);
    inputs.forEach((input, b) => {
      for (let t = 0; t < input.steps; t++) data.set(input.data.subarray(t * width, (t + 1) * width), (t * inputs.length + b) * width);
    });
    const feeds: Record<string, InstanceType<typeof ort.Tensor>> = spec.inputKind === 'tokens'
      ? { tokens: new ort.Tensor('int32', data as Int32Array, [steps, inputs.length]) }
      : { x: new ort.Tensor('float32', data as Float32Array, [steps, inputs.length, width]) };
    feeds[SEQ_LENS_INPUT] = new ort.Tensor('int32', Int32Array.from(lengths), [lengths.length]);
    const out = (await session.run(feeds)).y?.data as Float32Array;
    inputs.forEach((input, b) => {
      const row = out.subarray(b * spec.outputSize, (b + 1) * spec.outputSize);
      assertClose(row, referenceForward(spec, weights, input.data, input.steps), 1e-5);
    });
    await session.release();
  });
}

test('the fixed layout: [steps, 1, …] in, [1, outputSize] out, no lengths input', async () => {
  const spec = MODEL_PRESETS.tiny2x24;
  const ort = await loadOrt();
  const session = await ort.InferenceSession.create(buildLstmOnnx(spec, generateWeights(spec), { batch: 'fixed' }));
  assert.deepEqual(session.inputNames, ['x']);
  assert.deepEqual((session.inputMetadata[0] as { shape: readonly unknown[] }).shape, ['steps', 1, spec.featureSize]);
  const input = sampleInput(spec, 4);
  const out = await session.run({ x: new ort.Tensor('float32', input.data, [4, 1, spec.featureSize]) });
  assertClose(out.y?.data as Float32Array, referenceForward(spec, generateWeights(spec), input.data, 4), 1e-5);
  await session.release();
});

test('the writer is deterministic and records IR version, opset and vocabulary', async () => {
  const spec = MODEL_PRESETS.imdb1x128;
  const a = buildLstmOnnx(spec, generateWeights(spec));
  const b = buildLstmOnnx(spec, generateWeights(spec));
  assert.deepEqual(a, b);
  const summary = inspectOnnx(new Uint8Array(await readFile((await fixtureModel('imdb1x128')).onnx)));
  assert.equal(summary.irVersion, 8);
  assert.equal(summary.opset, ONNX_OPSET);
  assert.equal(summary.graphName, 'imdb1x128');
  assert.equal(summary.gatheredTableRows.get('tokens'), 1000);
});
