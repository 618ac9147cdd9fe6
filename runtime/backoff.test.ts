import assert from 'node:assert/strict';
import { test } from 'node:test';
import { backoffDelay } from './backoff.js';

test('doubles from the initial delay per failure in a row, up to the cap', () => {
  const policy = { initialMs: 5, maxMs: 1000 };
  assert.deepEqual([1, 2, 3, 4, 8, 9, 10, 500].map((n) => backoffDelay(policy, n)), [5, 10, 20, 40, 640, 1000, 1000, 1000]);
  assert.equal(backoffDelay(policy, 0), 5, 'no failure yet waits the initial delay');
  assert.equal(backoffDelay({ initialMs: 10_000, maxMs: 300_000 }, 1e9), 300_000, 'huge counts stay finite');
});

test('jitter spreads the delay by the given fraction either way', () => {
  const policy = { initialMs: 100, maxMs: 1000, jitter: 0.2 };
  assert.equal(backoffDelay(policy, 1, () => 0), 80);
  assert.equal(backoffDelay(policy, 1, () => 0.5), 100);
  assert.equal(Math.round(backoffDelay(policy, 1, () => 1)), 120);
});
