import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, test } from 'node:test';
import type { Backend, InferResult, ModelInfo } from '../backends/types.js';
import { silentLogger } from '../log.js';
import { createRuntimeApp, type RuntimeState } from './app.js';
import { RuntimeMetrics } from './metrics.js';
import { executorOf, InferenceQueue } from './queue.js';

/** A backend whose inferences finish only when the test says so. */
class GatedBackend implements Backend {
  readonly name = 'onnx-cpu' as const;
  readonly info: ModelInfo = { name: 'gated', format: 'onnx', inputKind: 'floats', featureSize: 2, outputSize: 1 };
  private releases: (() => void)[] = [];
  failNext = false;

  get pending(): number {
    return this.releases.length;
  }

  async infer(): Promise<InferResult> {
    if (this.failNext) {
      this.failNext = false;
      throw new Error('native backend exploded');
    }
    await new Promise<void>((resolve) => this.releases.push(resolve));
    return { outputs: Float32Array.of(1), computeMs: 1 };
  }

  releaseAll(): void {
    const r = this.releases;
    this.releases = [];
    for (const f of r) f();
  }

  async dispose(): Promise<void> {}
}

const backend = new GatedBackend();
const state: RuntimeState = { backend: undefined, ready: false };
const queue = new InferenceQueue({ concurrency: 1, maxQueue: 2 });
let server: Server;
let url: string;

before(async () => {
  const app = createRuntimeApp({
    state, queue, metrics: new RuntimeMetrics({ defaultMetrics: false }),
    maxSteps: 10, logger: silentLogger,
  });
  server = createServer(app);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
after(async () => {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

const infer = (): Promise<Response> => fetch(`${url}/v1/infer`, {
  method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ inputs: [[1, 2]] }),
});

async function until(cond: () => boolean): Promise<void> {
  for (let k = 0; k < 500 && !cond(); k++) await new Promise((r) => setTimeout(r, 2));
  assert.ok(cond(), 'condition not reached');
}

test('not ready: readyz, model and infer answer 503 NOT_READY; healthz is fine', async () => {
  assert.equal((await fetch(`${url}/healthz`)).status, 200);
  for (const res of [await fetch(`${url}/readyz`), await fetch(`${url}/v1/model`), await infer()]) {
    assert.equal(res.status, 503);
    assert.equal(((await res.json()) as { error: { code: string } }).error.code, 'NOT_READY');
    assert.equal(res.headers.get('retry-after'), '1');
  }
});

test('a full queue answers 503 OVERLOADED with Retry-After; accepted requests all complete', async () => {
  state.backend = backend;
  queue.attach(executorOf(backend));
  state.ready = true;
  const accepted = [infer(), infer(), infer()];
  await until(() => backend.pending === 1 && queue.depth === 2);
  // 1 running + 2 waiting: the next one is refused at once.
  const refused = await infer();
  assert.equal(refused.status, 503);
  assert.equal(((await refused.json()) as { error: { code: string } }).error.code, 'OVERLOADED');
  assert.ok(Number(refused.headers.get('retry-after')) >= 1);
  for (let k = 0; k < 3; k++) {
    await until(() => backend.pending === 1);
    backend.releaseAll();
  }
  const statuses = await Promise.all(accepted.map(async (p) => (await p).status));
  assert.deepEqual(statuses, [200, 200, 200]);
  const queued = Number((await Promise.all(accepted))[2]?.headers.get('crime-queue-ms'));
  assert.ok(queued >= 0);
});

test('a backend failure answers 500 INTERNAL and the server keeps serving', async () => {
  backend.failNext = true;
  const failed = await infer();
  assert.equal(failed.status, 500);
  assert.deepEqual(await failed.json(), { error: { code: 'INTERNAL', message: 'native backend exploded' } });
  const next = infer();
  await until(() => backend.pending === 1);
  backend.releaseAll();
  assert.equal((await next).status, 200);
});
