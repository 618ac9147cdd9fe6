/**
 * Dynamic batching through the real server, a real generated model and onnxruntime in worker
 * threads: batched requests answer exactly what they answer alone, and the reply says which batch
 * a request ran in. No timing is asserted: batches are made full (a long maxDelayMs) so they form
 * however fast the machine is.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { sampleInput } from '../backends/input.js';
import type { ModelInput } from '../backends/types.js';
import { fixtureFixedBatchModel, fixtureModel, removeFixtures } from '../testing/fixtures.js';
import { LONGEST_BUCKET_STEPS } from './batch-plan.js';
import { RuntimeClient, type RuntimeInferResult } from './client.js';
import { startRuntimeServer, type RuntimeServer } from './server.js';

after(removeFixtures);

const MAX_STEPS = 2000;
const info = { inputKind: 'floats', featureSize: 16 } as const;
/** Different lengths of one bucket, and different values, so a mixed-up row would show. */
const inputs: ModelInput[] = [40, 38, 44, 41].map((n, k) => {
  const input = sampleInput(info, n);
  input.data.forEach((v, i) => (input.data[i] = v * (1 + k / 10)));
  return input;
});

async function started(options: Parameters<typeof startRuntimeServer>[0]): Promise<{ server: RuntimeServer; client: RuntimeClient }> {
  const server = await startRuntimeServer({ defaultMetrics: false, ...options });
  await server.ready;
  return { server, client: new RuntimeClient({ baseUrl: server.url }) };
}

describe('a batching runtime (tiny2x24, a dynamic batch with sequence lengths)', () => {
  let alone: Awaited<ReturnType<typeof started>>;
  let batching: Awaited<ReturnType<typeof started>>;
  let expected: Float32Array[];

  before(async () => {
    const { onnx } = await fixtureModel('tiny2x24');
    alone = await started({ model: { location: onnx, backend: 'onnx-cpu' }, maxSteps: MAX_STEPS });
    batching = await started({ model: { location: onnx, backend: 'onnx-cpu' }, maxSteps: MAX_STEPS, serving: { maxBatch: 4, maxDelayMs: 1000, concurrency: 2 } });
    expected = [];
    for (const input of inputs) expected.push((await alone.client.infer(input)).outputs);
  });
  after(async () => {
    for (const s of [alone, batching]) {
      s?.client.close();
      await s?.server.close();
    }
  });

  test('GET /v1/model says how it serves: the batch, the delay, the worker threads', async () => {
    const model = await batching.client.model();
    assert.equal(model.backend, 'onnx-cpu');
    assert.deepEqual(model.serving, { maxBatch: 4, maxDelayMs: 1000, concurrency: 2, mixedLengths: true, workers: 2 });
  });

  test('requests of different lengths run as one batch, each answered what it is answered alone', async () => {
    const replies = await Promise.all(inputs.map((input) => batching.client.infer(input)));
    replies.forEach((r: RuntimeInferResult, k) => {
      assert.deepEqual(r.batch, { size: 4, steps: 44 }, `request ${k}`);
      const want = expected[k] as Float32Array;
      r.outputs.forEach((v, i) => assert.ok(Math.abs(v - (want[i] as number)) <= 1e-5, `request ${k}, output ${i}: ${v} vs ${want[i]}`));
    });
    // Every request of a batch reports the batch's run time.
    assert.equal(new Set(replies.map((r) => r.computeMs)).size, 1);
  });

  test('a request longer than every bucket runs alone, at once (no companion to wait for)', async () => {
    const long = sampleInput(info, LONGEST_BUCKET_STEPS + 1);
    const replies = await Promise.all([batching.client.infer(long), batching.client.infer(long)]);
    for (const r of replies) assert.deepEqual(r.batch, { size: 1, steps: LONGEST_BUCKET_STEPS + 1 });
    assert.ok(replies.every((r) => r.queueMs < 1000), `they did not wait out maxDelayMs: ${replies.map((r) => r.queueMs).join(', ')}`);
  });

  test('JSON replies carry the batch too', async () => {
    const replies = await Promise.all(inputs.map((input) => batching.client.infer(input, { encoding: 'json' })));
    for (const r of replies) assert.equal(r.batch.size, 4);
  });
});

test('a model with a fixed batch of one still serves, one request per run, and says why', async () => {
  const onnx = await fixtureFixedBatchModel('tiny2x24');
  const { server, client } = await started({ model: { location: onnx, backend: 'onnx-cpu' }, maxSteps: MAX_STEPS, serving: { maxBatch: 8, maxDelayMs: 0, concurrency: 1 } });
  try {
    const model = await client.model();
    assert.equal(model.serving?.maxBatch, 1);
    assert.match(model.serving?.note ?? '', /maxBatch 8 asked for, 1 possible: the model's batch dimension is fixed at 1/);
    const replies = await Promise.all(inputs.map((input) => client.infer(input)));
    for (const [k, r] of replies.entries()) assert.deepEqual(r.batch, { size: 1, steps: inputs[k]?.steps });
  } finally {
    client.close();
    await server.close();
  }
});
