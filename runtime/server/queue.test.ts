import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { BatchResult, ModelInput } from '../backends/types.js';
import { CrimeError } from '../errors.js';
import { InferenceQueue, type BatchExecutor, type SetTimer } from './queue.js';

/** An executor whose runs finish when the test says; outputs echo each input's first number. */
class GatedExecutor implements BatchExecutor {
  readonly width = 1;
  readonly runs: Array<{ steps: number[]; finish: (computeMs?: number) => void; fail: (err: Error) => void }> = [];
  constructor(readonly maxBatch = 64, readonly mixedLengths = true) {}

  run(inputs: readonly ModelInput[]): Promise<BatchResult> {
    return new Promise((resolve, reject) => {
      this.runs.push({
        steps: inputs.map((i) => i.steps),
        finish: (computeMs = 5) => resolve({ outputs: inputs.map((i) => Float32Array.of(i.data[0] ?? -1)), computeMs }),
        fail: reject,
      });
    });
  }
}

const input = (steps: number, tag = steps): ModelInput => ({ kind: 'floats', data: Float32Array.from({ length: steps }, () => tag), steps });

/** Timers the test fires by hand. */
function manualTimers(): { setTimer: SetTimer; pending: () => Array<{ ms: number }>; fire: () => void } {
  let timers: Array<{ callback: () => void; ms: number }> = [];
  return {
    setTimer: (callback, ms) => {
      const t = { callback, ms };
      timers.push(t);
      return () => { timers = timers.filter((x) => x !== t); };
    },
    pending: () => timers.map((t) => ({ ms: t.ms })),
    fire: () => {
      const due = timers;
      timers = [];
      for (const t of due) t.callback();
    },
  };
}

const tick = (): Promise<void> => new Promise((r) => setImmediate(r));

test('without batching: one request at a time, queue time from the injected clock, full → OVERLOADED', async () => {
  let now = 0;
  const queue = new InferenceQueue({ concurrency: 1, maxQueue: 1, clock: () => now });
  const exec = new GatedExecutor();
  queue.attach(exec);
  const first = queue.submit(input(3, 1));
  const second = queue.submit(input(3, 2));
  assert.equal(queue.active, 1);
  assert.equal(queue.depth, 1);
  await assert.rejects(queue.submit(input(3)), (err: unknown) => err instanceof CrimeError && err.code === 'OVERLOADED' && (err.retryAfterSec ?? 0) >= 1);
  now = 40;
  exec.runs[0]?.finish();
  assert.deepEqual(await first, { outputs: Float32Array.of(1), computeMs: 5, queueMs: 0, batch: { size: 1, steps: 3 } });
  await tick();
  exec.runs[1]?.finish();
  assert.deepEqual(await second, { outputs: Float32Array.of(2), computeMs: 5, queueMs: 40, batch: { size: 1, steps: 3 } });
  assert.deepEqual(exec.runs.map((r) => r.steps), [[3], [3]]);
  await queue.idle();
  assert.equal(queue.active, 0);
});

test('batching with no delay: a request finding the queue idle runs at once; those behind a busy run go together', async () => {
  let now = 0;
  const timers = manualTimers();
  const queue = new InferenceQueue({ concurrency: 1, maxBatch: 8, maxDelayMs: 0, clock: () => now, setTimer: timers.setTimer });
  const exec = new GatedExecutor();
  queue.attach(exec);
  const first = queue.submit(input(10, 1));
  assert.deepEqual(exec.runs.map((r) => r.steps), [[10]], 'no added delay when the queue is empty');
  now = 1;
  const behind = [queue.submit(input(10, 2)), queue.submit(input(11, 3)), queue.submit(input(10, 4))];
  assert.equal(queue.depth, 3);
  now = 6;
  exec.runs[0]?.finish(6);
  await first;
  await tick();
  assert.deepEqual(exec.runs.map((r) => r.steps), [[10], [10, 11, 10]]);
  exec.runs[1]?.finish(7);
  const results = await Promise.all(behind);
  assert.deepEqual(results.map((r) => [r.outputs[0], r.computeMs, r.queueMs, r.batch]), [
    [2, 7, 5, { size: 3, steps: 11 }], [3, 7, 5, { size: 3, steps: 11 }], [4, 7, 5, { size: 3, steps: 11 }],
  ]);
  assert.deepEqual(timers.pending(), []);
});

test('requests are grouped by length bucket, oldest group first; maxBatch caps a batch', async () => {
  const queue = new InferenceQueue({ concurrency: 1, maxBatch: 2 });
  const exec = new GatedExecutor();
  queue.attach(exec);
  const all = [input(100), input(40), input(98), input(41), input(101), input(42)].map((i) => queue.submit(i));
  exec.runs[0]?.finish();
  for (let k = 1; k <= 3; k++) {
    await tick();
    exec.runs[k]?.finish();
  }
  await Promise.all(all);
  assert.deepEqual(exec.runs.map((r) => r.steps), [[100], [40, 41], [98, 101], [42]]);
});

test('a model without lengths batches only equal lengths; a request longer than every bucket runs alone', async () => {
  const queue = new InferenceQueue({ concurrency: 1, maxBatch: 8 });
  const exec = new GatedExecutor(8, false);
  queue.attach(exec);
  const all = [input(1), input(20), input(21), input(20), input(1500), input(1500)].map((i) => queue.submit(i));
  for (let k = 0; k < 5; k++) {
    exec.runs[k]?.finish();
    await tick();
  }
  await Promise.all(all);
  assert.deepEqual(exec.runs.map((r) => r.steps), [[1], [20, 20], [21], [1500], [1500]]);
});

test('maxDelayMs holds a request for companions while a slot is free, up to the delay or a full batch', async () => {
  let now = 0;
  const timers = manualTimers();
  const queue = new InferenceQueue({ concurrency: 1, maxBatch: 3, maxDelayMs: 2, clock: () => now, setTimer: timers.setTimer });
  const exec = new GatedExecutor();
  queue.attach(exec);
  const a = queue.submit(input(10));
  assert.equal(exec.runs.length, 0);
  assert.deepEqual(timers.pending(), [{ ms: 2 }]);
  now = 1;
  const b = queue.submit(input(10));
  assert.deepEqual(timers.pending(), [{ ms: 1 }], 'the oldest request decides when the batch goes');
  now = 2;
  timers.fire();
  assert.deepEqual(exec.runs.map((r) => r.steps), [[10, 10]]);
  exec.runs[0]?.finish();
  await Promise.all([a, b]);
  // A full batch goes without waiting.
  const full = [queue.submit(input(7)), queue.submit(input(7)), queue.submit(input(7))];
  assert.deepEqual(exec.runs.map((r) => r.steps), [[10, 10], [7, 7, 7]]);
  exec.runs[1]?.finish();
  await Promise.all(full);
});

test('concurrency runs several batches at once; a failed run fails its requests only and frees its slot', async () => {
  const queue = new InferenceQueue({ concurrency: 2, maxBatch: 4 });
  const exec = new GatedExecutor();
  queue.attach(exec);
  const a = queue.submit(input(10));
  const b = queue.submit(input(10));
  assert.equal(queue.active, 2);
  exec.runs[0]?.fail(new Error('boom'));
  await assert.rejects(a, /boom/);
  exec.runs[1]?.finish();
  await b;
  await queue.idle();
  assert.equal(queue.active, 0);
});

test('the backend may allow less than configured; a request past its deadline is dropped, not run', async () => {
  let now = 0;
  const queue = new InferenceQueue({ concurrency: 1, maxBatch: 16, clock: () => now });
  const exec = new GatedExecutor(1);
  queue.attach(exec);
  assert.equal(queue.effectiveMaxBatch, 1);
  const running = queue.submit(input(3));
  const late = queue.submit(input(3), { deadline: 10 });
  const fine = queue.submit(input(3), { deadline: 100 });
  now = 20;
  exec.runs[0]?.finish();
  await running;
  await assert.rejects(late, (err: unknown) => err instanceof CrimeError && err.code === 'TIMEOUT');
  await tick();
  assert.deepEqual(exec.runs.map((r) => r.steps), [[3], [3]]);
  exec.runs[1]?.finish();
  await fine;
});
