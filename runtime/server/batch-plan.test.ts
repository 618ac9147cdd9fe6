import assert from 'node:assert/strict';
import { test } from 'node:test';
import { lengthBucket, LONGEST_BUCKET_STEPS, MAX_BATCH_NUMBERS, planBatch } from './batch-plan.js';

const policy = { maxBatch: 8, maxDelayMs: 0, mixedLengths: true, width: 300 };
const at = (steps: number, enqueuedAt = 0): { steps: number; enqueuedAt: number } => ({ steps, enqueuedAt });

test('length buckets: padding within a bucket stays under 20 %', () => {
  for (let n = 1; n <= LONGEST_BUCKET_STEPS; n++) {
    for (let m = n; m <= Math.min(LONGEST_BUCKET_STEPS, n * 2); m++) {
      if (lengthBucket(n, true) === lengthBucket(m, true)) assert.ok(n / m > 0.8 - 1e-9, `${n} and ${m} share a bucket`);
    }
  }
  assert.equal(lengthBucket(100, false), 100);
  assert.equal(lengthBucket(LONGEST_BUCKET_STEPS + 1, true), undefined);
});

test('the oldest group goes first, its members oldest first, up to maxBatch', () => {
  const waiting = [at(50), at(7), at(51), at(49), at(8)];
  assert.deepEqual(planBatch(waiting, 0, policy), { take: [0, 2, 3] });
  assert.deepEqual(planBatch(waiting, 0, { ...policy, maxBatch: 2 }), { take: [0, 2] });
  assert.equal(planBatch([], 0, policy), undefined);
});

test('with a delay, a group waits for companions until its oldest has waited maxDelayMs or it is full', () => {
  const delayed = { ...policy, maxDelayMs: 4 };
  assert.deepEqual(planBatch([at(10, 0), at(100, 1)], 2, delayed), { wakeAt: 4 });
  assert.deepEqual(planBatch([at(10, 0), at(100, 1)], 4, delayed), { take: [0] });
  // A full group goes at once, even if it is not the oldest.
  assert.deepEqual(planBatch([at(10, 0), at(100, 1), at(100, 1)], 2, { ...delayed, maxBatch: 2 }), { take: [1, 2] });
  // A request longer than every bucket has no companion to wait for.
  assert.deepEqual(planBatch([at(5000, 0)], 0, delayed), { take: [0] });
});

test('a batch never holds more than MAX_BATCH_NUMBERS numbers', () => {
  const steps = 1000;
  const fit = Math.floor(MAX_BATCH_NUMBERS / (steps * policy.width));
  const waiting = Array.from({ length: fit + 3 }, () => at(steps));
  const plan = planBatch(waiting, 0, { ...policy, maxBatch: 1024 });
  assert.ok(plan && 'take' in plan);
  assert.equal(plan.take.length, fit);
});
