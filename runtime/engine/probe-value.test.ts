import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { expectedTimeChanged, probabilityChanged } from './probe-value.js';

test('nothing is expected over an empty or reversed span', () => {
  assert.equal(expectedTimeChanged(5000, 5000, [10_000], 60_000), 0);
  assert.equal(expectedTimeChanged(6000, 5000, [10_000], 60_000), 0);
});

test('with no change measured, the time changed is that of an exponential of the fallback mean (memoryless)', () => {
  const mean = 60_000;
  for (const [a0, a1] of [
    [0, 10_000],
    [30_000, 40_000],
    [100_000, 110_000],
  ] as const) {
    const span = a1 - a0;
    const expected = span - mean * (1 - Math.exp(-span / mean));
    const actual = expectedTimeChanged(a0, a1, [], mean);
    assert.ok(Math.abs(actual - expected) < 1e-6 * span, `[${a0}, ${a1}]: ${actual} vs ${expected}`);
  }
});

test('with regular past intervals, little is expected before the change is due and nearly all of it after', () => {
  const intervals = [10_000, 10_000, 10_000, 10_000];
  // Seconds 2-4 of a regime that lasts 10 s: only the memoryless share (10 %) counts.
  const early = expectedTimeChanged(2000, 4000, intervals, 60_000);
  assert.ok(early < 0.01 * 2000, `early: ${early} ms`);
  // Unchanged at 8 s, the change is due at 10 s: about 4 of the next 6 s are expected changed.
  const due = expectedTimeChanged(8000, 14_000, intervals, 60_000);
  assert.ok(due > 3500 && due < 4200, `due: ${due} ms`);
  // Longer regimes: at the same age, less is expected (probes come later).
  assert.ok(expectedTimeChanged(8000, 10_000, [40_000, 40_000], 60_000) < expectedTimeChanged(8000, 10_000, [10_000, 10_000], 60_000));
});

test('a link that outlived all its past intervals by far is memoryless, not stuck at zero', () => {
  // Regimes of about 0.5 s, none for 30 s since: the exponential of their mean is all that is left,
  // and it says the span is nearly all changed (a probe is due), not nothing (never probe again).
  const mean = 503;
  const span = 5000;
  const expected = span - mean * (1 - Math.exp(-span / mean));
  for (const a0 of [10_000, 30_000, 300_000]) {
    const actual = expectedTimeChanged(a0, a0 + span, [504, 502], 60_000);
    assert.ok(Math.abs(actual - expected) < 1, `at ${a0} ms: ${actual} vs ${expected}`);
  }
  // The same with the fallback mean when nothing was measured, far beyond it.
  const far = expectedTimeChanged(1e7, 1e7 + 1000, [], 1000);
  assert.ok(Math.abs(far - (1000 - 1000 * (1 - Math.exp(-1)))) < 1e-6, `${far}`);
});

test('the expected time changed lies in [0, a1 − a0] and grows with a1', () => {
  fc.assert(
    fc.property(
      fc.integer({ min: 0, max: 100_000 }),
      fc.integer({ min: 1, max: 50_000 }),
      fc.integer({ min: 1, max: 50_000 }),
      fc.array(fc.integer({ min: 500, max: 100_000 }), { maxLength: 8 }),
      (a0, span, more, intervals) => {
        const t1 = expectedTimeChanged(a0, a0 + span, intervals, 60_000);
        const t2 = expectedTimeChanged(a0, a0 + span + more, intervals, 60_000);
        assert.ok(t1 >= 0 && t1 <= span, `${t1} outside [0, ${span}]`);
        assert.ok(t2 >= t1 - 1e-6, `${t2} < ${t1}`);
      },
    ),
    { seed: 1, numRuns: 300 },
  );
});

test('probabilityChanged: memoryless without history, and the derivative of the expected time changed', () => {
  assert.equal(probabilityChanged(5000, 5000, [10_000], 60_000), 0);
  assert.ok(Math.abs(probabilityChanged(30_000, 40_000, [], 60_000) - (1 - Math.exp(-10_000 / 60_000))) < 1e-9);
  // d/da1 of expectedTimeChanged is the probability of having changed by a1.
  for (const [a0, a1] of [
    [0, 15_000],
    [18_000, 20_000],
    [19_000, 22_000],
    [25_000, 60_000],
  ] as const) {
    const h = 1;
    const derivative = (expectedTimeChanged(a0, a1 + h, [20_000, 21_000], 60_000) - expectedTimeChanged(a0, a1, [20_000, 21_000], 60_000)) / h;
    const p = probabilityChanged(a0, a1, [20_000, 21_000], 60_000);
    assert.ok(Math.abs(derivative - p) < 2e-3, `${a0}-${a1}: derivative ${derivative}, probability ${p}`);
  }
  // Regimes of about 20 s: unlikely to have changed at 10 s, likely at 25 s.
  assert.ok(probabilityChanged(0, 10_000, [20_000], 60_000) < 0.1);
  assert.ok(probabilityChanged(0, 25_000, [20_000], 60_000) > 0.85);
});
