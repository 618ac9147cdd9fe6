import { test } from 'node:test';
import assert from 'node:assert/strict';
import { lengthSampler, parseLengthSpec } from './lengths.js';

test('length distributions parse from the command line', () => {
  assert.deepEqual(parseLengthSpec('list:5,50,500', 1000), { type: 'list', values: [5, 50, 500] });
  assert.deepEqual(parseLengthSpec('20', 1000), { type: 'list', values: [20] });
  assert.deepEqual(parseLengthSpec('uniform:1-200', 1000), { type: 'uniform', min: 1, max: 200 });
  assert.deepEqual(parseLengthSpec('lognormal:median=60,sigma=1,max=900', 1000), { type: 'lognormal', median: 60, sigma: 1, min: 1, max: 900 });
  assert.deepEqual(parseLengthSpec('lognormal:median=14', 300), { type: 'lognormal', median: 14, sigma: 0.5, min: 1, max: 300 });
});

test('bad specs say what is wrong', () => {
  assert.throws(() => parseLengthSpec('gamma:1', 100), /unknown length distribution "gamma"/);
  assert.throws(() => parseLengthSpec('list:5,x', 100), /integer ≥ 1/);
  assert.throws(() => parseLengthSpec('uniform:50-10', 100), /max must be ≥ min/);
  assert.throws(() => parseLengthSpec('list:5000', 100), /above the model's maxSteps 100/);
});

test('the sampler stays in range and is seeded', () => {
  const a = lengthSampler({ type: 'lognormal', median: 60, sigma: 1, min: 2, max: 300 }, 7);
  const b = lengthSampler({ type: 'lognormal', median: 60, sigma: 1, min: 2, max: 300 }, 7);
  for (let i = 0; i < 500; i++) {
    const n = a();
    assert.equal(n, b());
    assert.ok(n >= 2 && n <= 300 && Number.isInteger(n));
  }
});

test('a mixture draws from each part by its weight, within [min, max]', () => {
  const draw = lengthSampler({ type: 'mixture', parts: [{ weight: 3, median: 5, sigma: 0.2 }, { weight: 1, median: 200, sigma: 0.2 }], min: 2, max: 300 }, 3);
  let short = 0;
  for (let i = 0; i < 4000; i++) {
    const n = draw();
    assert.ok(n >= 2 && n <= 300 && Number.isInteger(n));
    assert.ok(n < 20 || n > 100, `${n} is in neither mode`);
    if (n < 20) short++;
  }
  assert.ok(short > 2800 && short < 3200, `${short} of 4000 short, expected about 3000`);
});
