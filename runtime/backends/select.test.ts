import assert from 'node:assert/strict';
import { relative } from 'node:path';
import { after, test } from 'node:test';
import { CrimeError } from '../errors.js';
import type { LogFields, Logger } from '../log.js';
import { serveDirectory } from '../http/static-files.js';
import { fixtureDir, fixtureModel, removeFixtures } from '../testing/fixtures.js';
import { sampleInput } from './input.js';
import { createBackend, formatOf, modelNameOf } from './select.js';
import type { Backend } from './types.js';

after(removeFixtures);

function recordingLogger(): Logger & { lines: { message: string; fields: LogFields }[] } {
  const lines: { message: string; fields: LogFields }[] = [];
  const push = (message: string, fields: LogFields = {}): void => void lines.push({ message, fields });
  return { lines, error: push, warn: push, info: push, debug: push };
}

function assertClose(a: Float32Array, b: Float32Array, tolerance: number): void {
  assert.equal(a.length, b.length);
  a.forEach((v, k) => assert.ok(Math.abs(v - (b[k] ?? NaN)) <= tolerance, `output ${k}: ${v} vs ${b[k]}`));
}

async function withBackend<T>(backend: Backend, fn: (b: Backend) => Promise<T>): Promise<T> {
  try {
    return await fn(backend);
  } finally {
    await backend.dispose();
  }
}

test('format and name are derived from the location', () => {
  assert.equal(formatOf('/m/cove.onnx'), 'onnx');
  assert.equal(formatOf('http://h/m/model.json?x=1'), 'tfjs');
  assert.equal(formatOf('/m/model.bin'), undefined);
  assert.equal(modelNameOf('/m/cove2x300.onnx'), 'cove2x300');
  assert.equal(modelNameOf('http://h/m/cove2x300.tfjs/model.json'), 'cove2x300');
});

test('auto picks onnx-cpu for ONNX here and logs why, with the skipped backends', async () => {
  const logger = recordingLogger();
  const { onnx } = await fixtureModel('tiny2x24');
  await withBackend(await createBackend({ location: onnx, logger }), async (b) => {
    assert.ok(b.name === 'onnx-cpu' || b.name === 'onnx-cuda');
    assert.deepEqual(b.info, { name: 'tiny2x24', format: 'onnx', inputKind: 'floats', featureSize: 16, outputSize: 4 });
    const line = logger.lines.find((l) => l.message === 'backend selected');
    assert.equal(line?.fields.backend, b.name);
    assert.match(String(line?.fields.reason), /fastest available for onnx/);
  });
});

test('auto picks the fastest tfjs flavour available and the fast LSTM path', async () => {
  const logger = recordingLogger();
  const { tfjs } = await fixtureModel('tiny2x24');
  await withBackend(await createBackend({ location: tfjs, logger }), async (b) => {
    assert.ok(['tfjs-node-gpu', 'tfjs-node', 'tfjs-wasm'].includes(b.name), b.name);
    const line = logger.lines.find((l) => l.message === 'backend selected');
    assert.equal(line?.fields.tfjsPath, 'fast');
  });
});

for (const preset of ['tiny2x24', 'imdb1x128'] as const) {
  test(`${preset}: tfjs (fast and predict paths, wasm and cpu) agrees with onnx on the same weights`, async () => {
    const model = await fixtureModel(preset);
    const onnx = await createBackend({ location: model.onnx, backend: 'onnx-cpu' });
    const variants = [
      await createBackend({ location: model.tfjs, backend: 'tfjs-wasm' }),
      await createBackend({ location: model.tfjs, backend: 'tfjs-wasm', tfjsLstmPath: 'predict' }),
      await createBackend({ location: model.tfjs, backend: 'tfjs-cpu' }),
    ];
    try {
      assert.equal(variants[0]?.info.inputKind, onnx.info.inputKind);
      assert.equal(variants[0]?.info.outputSize, onnx.info.outputSize);
      assert.equal(variants[0]?.info.vocabSize, onnx.info.vocabSize);
      for (const n of [1, 9, 40]) {
        const input = sampleInput(onnx.info, n);
        const expected = (await onnx.infer(input)).outputs;
        for (const v of variants) assertClose((await v.infer(input)).outputs, expected, 1e-4);
      }
    } finally {
      for (const b of [onnx, ...variants]) await b.dispose();
    }
  });
}

test('models load from an http URL, including multi-shard tfjs weights', async () => {
  const cove = await fixtureModel('cove2x300');
  const root = await fixtureDir();
  const server = await serveDirectory(root);
  try {
    const url = (path: string): string => `${server.url}/${relative(root, path)}`;
    const fromUrl = await createBackend({ location: url(cove.onnx), backend: 'onnx-cpu' });
    const fromFile = await createBackend({ location: cove.onnx, backend: 'onnx-cpu' });
    const tfjs = await createBackend({ location: url(cove.tfjs), backend: 'tfjs-wasm' });
    try {
      assert.equal(fromUrl.info.featureSize, 300);
      assert.equal(tfjs.info.featureSize, 300);
      const input = sampleInput(fromFile.info, 3);
      const expected = (await fromFile.infer(input)).outputs;
      assertClose((await fromUrl.infer(input)).outputs, expected, 0);
      assertClose((await tfjs.infer(input)).outputs, expected, 1e-4);
    } finally {
      for (const b of [fromUrl, fromFile, tfjs]) await b.dispose();
    }
    await assert.rejects(
      createBackend({ location: `${server.url}/missing.onnx` }),
      (err: unknown) => err instanceof CrimeError && err.code === 'MODEL_LOAD_FAILED' && /404/.test(err.message),
    );
  } finally {
    await server.close();
  }
});

test('load failures are typed: missing file, wrong format for the backend, absent optional package', async () => {
  const { onnx, tfjs } = await fixtureModel('tiny2x24');
  const codeOf = async (p: Promise<unknown>): Promise<string> => p.then(
    () => 'resolved',
    (err: unknown) => (err instanceof CrimeError ? err.code : String(err)),
  );
  assert.equal(await codeOf(createBackend({ location: '/nonexistent/model.onnx' })), 'MODEL_LOAD_FAILED');
  assert.equal(await codeOf(createBackend({ location: onnx, backend: 'tfjs-wasm' })), 'BACKEND_UNAVAILABLE');
  assert.equal(await codeOf(createBackend({ location: onnx, format: 'tfjs' })), 'MODEL_LOAD_FAILED');
  assert.equal(await codeOf(createBackend({ location: '/x/model.bin' })), 'MODEL_LOAD_FAILED');
  // tfjs-node cannot install here; where it is installed this loads instead.
  const node = await codeOf(createBackend({ location: tfjs, backend: 'tfjs-node' }).then((b) => b.dispose()));
  assert.ok(node === 'resolved' || node === 'BACKEND_UNAVAILABLE', node);
});
