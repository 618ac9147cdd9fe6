import assert from 'node:assert/strict';
import { test } from 'node:test';
import { WorkQueue } from './queue.js';

test('a key waits once however often it is added, and is never handed out twice at once', async () => {
  const q = new WorkQueue();
  q.add('a');
  q.add('a');
  q.add('b');
  assert.equal(q.depth, 2);
  const first = await q.get();
  assert.equal(first, 'a');
  q.add('a'); // while processing: comes back once after done()
  assert.equal(await q.get(), 'b');
  assert.equal(q.depth, 0);
  q.done('a');
  assert.equal(await q.get(), 'a');
});

test('failures back off exponentially per key and reset on forget; shutdown releases waiters', async () => {
  const delays: number[] = [];
  const q = new WorkQueue({ baseDelayMs: 5, maxDelayMs: 1000, setTimer: (fn, ms) => (delays.push(ms), fn(), { cancel: () => undefined }) });
  for (let i = 0; i < 10; i++) q.addRateLimited('k');
  assert.deepEqual(delays, [5, 10, 20, 40, 80, 160, 320, 640, 1000, 1000]);
  q.forget('k');
  q.addRateLimited('k');
  assert.equal(delays.at(-1), 5);
  const empty = new WorkQueue();
  const waiting = empty.get();
  empty.shutDown();
  assert.equal(await waiting, undefined);
});
