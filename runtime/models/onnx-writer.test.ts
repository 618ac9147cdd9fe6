import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { after, test } from 'node:test';
import { sampleInput } from '../backends/input.js';
import { loadOrt } from '../backends/onnx.js';
import { fixtureModel, removeFixtures } from '../testing/fixtures.js';
import { inspectOnnx } from './onnx-inspect.js';
import { buildLstmOnnx, ONNX_OPSET } from './onnx-writer.js';
import { referenceForward } from './reference-lstm.js';
import { generateWeights, MODEL_PRESETS, type LstmModelSpec, type ModelPresetName } from './spec.js';

after(removeFixtures);

function assertClose(actual: Float32Array, expected: Float32Array, tolerance: number): void {
  assert.equal(actual.length, expected.length);
  actual.forEach((v, k) => assert.ok(Math.abs(v - (expected[k] ?? NaN)) <= tolerance, `output ${k}: ${v} vs ${expected[k]}`));
}

for (const preset of ['tiny2x24', 'imdb1x128', 'cove2x300'] as const satisfies readonly ModelPresetName[]) {
  test(`${preset}: onnxruntime runs the written ONNX model and matches the reference LSTM`, async () => {
    const spec: LstmModelSpec = MODEL_PRESETS[preset];
    const weights = generateWeights(spec);
    const ort = await loadOrt();
    const { onnx } = await fixtureModel(preset);
    const session = await ort.InferenceSession.create(onnx);
    for (const n of [1, 5, 17]) {
      const input = sampleInput(spec, n);
      const feeds: Record<string, InstanceType<typeof ort.Tensor>> = input.kind === 'tokens'
        ? { tokens: new ort.Tensor('int32', input.data, [n, 1]) }
        : { x: new ort.Tensor('float32', input.data, [n, 1, spec.featureSize]) };
      const out = await session.run(feeds);
      assertClose(out.y?.data as Float32Array, referenceForward(spec, weights, input.data, n), 1e-5);
    }
    await session.release();
  });
}

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
