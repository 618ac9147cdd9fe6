import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { buildLstmOnnx } from './onnx-writer.js';
import { generateWeights, MODEL_PRESETS } from './spec.js';

test('the committed demo model equals what the generator writes (a dynamic batch, with sequence lengths)', async () => {
  const committed = await readFile(fileURLToPath(new URL('../../../examples/models/imdb1x128.onnx', import.meta.url)));
  const spec = MODEL_PRESETS.imdb1x128;
  assert.ok(Buffer.from(buildLstmOnnx(spec, generateWeights(spec))).equals(committed));
});
