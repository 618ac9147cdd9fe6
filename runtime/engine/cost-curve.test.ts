import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { evalCurve, evalPiece, lowerEnvelope, shiftCurve, type Piece } from './cost-curve.js';

const piece = fc.record({
  slope: fc.double({ min: 0, max: 10, noNaN: true }),
  intercept: fc.double({ min: 0, max: 500, noNaN: true }),
});

test('the envelope equals the minimum of all pieces everywhere on the range', () => {
  fc.assert(
    fc.property(fc.array(piece, { minLength: 1, maxLength: 12 }), fc.integer({ min: 1, max: 2000 }), (pieces, n) => {
      const env = lowerEnvelope(pieces, { maxSteps: 2000, maxPieces: 16 });
      const want = evalCurve(pieces, n);
      assert.ok(Math.abs(evalCurve(env, n) - want) <= 1e-9 * Math.max(1, want));
    }),
  );
});

test('the envelope keeps only pieces that win somewhere, sorted by decreasing slope', () => {
  fc.assert(
    fc.property(fc.array(piece, { minLength: 1, maxLength: 12 }), (pieces) => {
      const env = lowerEnvelope(pieces, { maxSteps: 2000, maxPieces: 16 });
      assert.ok(env.length >= 1 && env.length <= pieces.length);
      for (let i = 1; i < env.length; i++) assert.ok((env[i - 1] as Piece).slope >= (env[i] as Piece).slope);
    }),
  );
});

test('dominated and duplicate pieces are dropped', () => {
  const env = lowerEnvelope(
    [
      { slope: 3, intercept: 2 },
      { slope: 3, intercept: 2 },
      { slope: 4, intercept: 5 }, // above the first everywhere
      { slope: 0.02, intercept: 90 },
    ],
    { maxSteps: 1000 },
  );
  assert.deepEqual(env, [
    { slope: 3, intercept: 2 },
    { slope: 0.02, intercept: 90 },
  ]);
});

test('a piece that only wins outside [1, maxSteps] is dropped', () => {
  const env = lowerEnvelope(
    [
      { slope: 1, intercept: 0 },
      { slope: 0, intercept: 5000 }, // wins only beyond n = 5000
    ],
    { maxSteps: 2000 },
  );
  assert.deepEqual(env, [{ slope: 1, intercept: 0 }]);
});

test('maxPieces keeps the pieces that win on the widest stretches', () => {
  const pieces: Piece[] = [];
  for (let k = 0; k < 10; k++) pieces.push({ slope: 10 - k, intercept: k * k * 10 });
  const env = lowerEnvelope(pieces, { maxSteps: 2000, maxPieces: 3 });
  assert.equal(env.length, 3);
  // The cheapest slope wins on the longest stretch and must survive.
  assert.ok(env.some((p) => p.slope === 1));
});

test('non-finite pieces are ignored and an empty curve costs infinity', () => {
  assert.deepEqual(lowerEnvelope([{ slope: Infinity, intercept: 1 }], { maxSteps: 10 }), []);
  assert.equal(evalCurve([], 5), Infinity);
});

test('shifting a curve adds the same affine function to every piece', () => {
  const curve = [
    { slope: 2, intercept: 1 },
    { slope: 0.5, intercept: 30 },
  ];
  const shifted = shiftCurve(curve, { slope: 0.1, intercept: 8 });
  for (const n of [1, 10, 100]) assert.ok(Math.abs(evalCurve(shifted, n) - (evalCurve(curve, n) + 0.1 * n + 8)) < 1e-9);
  assert.equal(evalPiece({ slope: 2, intercept: 1 }, 3), 7);
});
