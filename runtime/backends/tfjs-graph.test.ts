import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { createBackend } from './select.js';

// A tiny hand-written tfjs GraphModel (what tensorflowjs_converter writes for a SavedModel):
// y = mean over steps of x [1, steps, 4], times W [4, 2]. Not an RNN; it exercises the GraphModel path.
const W = Float32Array.of(1, 2, 3, 4, 5, 6, 7, 8);
const AXIS = Int32Array.of(1);

function dims(...sizes: number[]): { dim: { size: string }[] } {
  return { dim: sizes.map((s) => ({ size: String(s) })) };
}

const modelJson = {
  format: 'graph-model',
  generatedBy: 'crime-k8s test',
  convertedBy: null,
  modelTopology: {
    node: [
      { name: 'x', op: 'Placeholder', attr: { dtype: { type: 'DT_FLOAT' }, shape: { shape: dims(-1, -1, 4) } } },
      { name: 'axis', op: 'Const', attr: { dtype: { type: 'DT_INT32' }, value: { tensor: { dtype: 'DT_INT32', tensorShape: dims(1) } } } },
      { name: 'w', op: 'Const', attr: { dtype: { type: 'DT_FLOAT' }, value: { tensor: { dtype: 'DT_FLOAT', tensorShape: dims(4, 2) } } } },
      { name: 'mean', op: 'Mean', input: ['x', 'axis'], attr: { T: { type: 'DT_FLOAT' }, Tidx: { type: 'DT_INT32' }, keep_dims: { b: false } } },
      { name: 'y', op: 'MatMul', input: ['mean', 'w'], attr: { T: { type: 'DT_FLOAT' }, transpose_a: { b: false }, transpose_b: { b: false } } },
    ],
    versions: { producer: 1 },
  },
  weightsManifest: [{ paths: ['group1-shard1of1.bin'], weights: [{ name: 'axis', shape: [1], dtype: 'int32' }, { name: 'w', shape: [4, 2], dtype: 'float32' }] }],
};

let dir: string;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'crime-graph-'));
  await writeFile(join(dir, 'model.json'), JSON.stringify(modelJson));
  await writeFile(join(dir, 'group1-shard1of1.bin'), Buffer.concat([Buffer.from(AXIS.buffer), Buffer.from(W.buffer)]));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

test('a tfjs GraphModel loads, is described from its placeholder, and runs through executeAsync', async () => {
  const backend = await createBackend({ location: join(dir, 'model.json'), backend: 'tfjs-wasm', name: 'graph' });
  try {
    assert.deepEqual(backend.info, { name: 'graph', format: 'tfjs', inputKind: 'floats', featureSize: 4, outputSize: 2 });
    // Two steps: mean = [2, 3, 4, 5]; y = mean · W = [2+9+20+35, 4+12+24+40].
    const { outputs } = await backend.infer({ kind: 'floats', data: Float32Array.of(1, 2, 3, 4, 3, 4, 5, 6), steps: 2 });
    assert.deepEqual(Array.from(outputs), [66, 80]);
  } finally {
    await backend.dispose();
  }
});
