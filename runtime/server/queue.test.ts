import assert from 'node:assert/strict';
import { test } from 'node:test';
import { CrimeError } from '../errors.js';
import { InferenceQueue } from './queue.js';

function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve: () => void = () => undefined;
  const promise = new Promise<void>((r) => { resolve = r; });
  return { promise, resolve };
}

test('runs one task at a time, measures queue time with the injected clock, refuses when full', async () => {
  let now = 0;
  const queue = new InferenceQueue({ concurrency: 1, maxQueue: 1, clock: () => now });
  const gate = deferred();
  const order: string[] = [];
  const first = queue.run(async () => { order.push('a'); await gate.promise; return 'a'; });
  const second = queue.run(async () => { order.push('b'); return 'b'; });
  assert.equal(queue.active, 1);
  assert.equal(queue.depth, 1);
  await assert.rejects(queue.run(async () => 'c'), (err: unknown) =>
    err instanceof CrimeError && err.code === 'OVERLOADED' && (err.retryAfterSec ?? 0) >= 1);
  now = 40;
  gate.resolve();
  assert.deepEqual(await first, { value: 'a', queueMs: 0 });
  assert.deepEqual(await second, { value: 'b', queueMs: 40 });
  assert.deepEqual(order, ['a', 'b']);
  await queue.idle();
  assert.equal(queue.active, 0);
});

test('a failing task frees its slot', async () => {
  const queue = new InferenceQueue({ concurrency: 2, maxQueue: 0 });
  await assert.rejects(queue.run(async () => { throw new Error('boom'); }), /boom/);
  assert.equal(queue.active, 0);
  assert.equal((await queue.run(async () => 1)).value, 1);
});
