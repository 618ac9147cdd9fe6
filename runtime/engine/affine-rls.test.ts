import { test } from 'node:test';
import assert from 'node:assert/strict';
import { AffineRls } from './affine-rls.js';
import { Random } from '../../stats/random.js';

const close = (actual: number, expected: number, rel: number, what: string): void =>
  assert.ok(Math.abs(actual - expected) <= rel * Math.abs(expected), `${what}: ${actual} not within ${rel * 100}% of ${expected}`);

test('converges to the true parameters under 5% noise', () => {
  const rnd = new Random(1);
  const rls = new AffineRls({ forgetting: 0.999, xScale: 100 });
  for (let i = 0; i < 3000; i++) {
    const x = rnd.int(1, 200);
    rls.learn(x, (3 * x + 2) * (1 + 0.05 * rnd.normal()));
  }
  close(rls.slope, 3.0, 0.01, 'slope');
  assert.ok(Math.abs(rls.intercept - 2) < 1, `intercept ${rls.intercept}`);
});

test('is exact from the first two samples without a prior', () => {
  const rls = new AffineRls({ forgetting: 0.98, xScale: 100 });
  rls.learn(10, 32);
  close(rls.predict(10), 32, 0.02, 'after one sample');
  rls.learn(100, 302);
  close(rls.predict(50), 152, 0.02, 'interpolated');
});

test('a weighted sample counts as several', () => {
  const once = new AffineRls({ forgetting: 1, xScale: 100, prior: { slope: 1, intercept: 0 } });
  const thrice = new AffineRls({ forgetting: 1, xScale: 100, prior: { slope: 1, intercept: 0 } });
  once.learn(50, 100, { weight: 3 });
  for (let i = 0; i < 3; i++) thrice.learn(50, 100);
  close(once.predict(50), thrice.predict(50), 1e-9, 'T(50)');
});

test('a clipped sample moves the fit by a bounded amount', () => {
  const a = new AffineRls({ forgetting: 0.98, xScale: 100, prior: { slope: 1, intercept: 5 }, priorWeight: 50 });
  const b = new AffineRls({ forgetting: 0.98, xScale: 100, prior: { slope: 1, intercept: 5 }, priorWeight: 50 });
  a.learn(100, 10_000, { clip: 10 });
  b.learn(100, 115);
  close(a.predict(100), b.predict(100), 1e-9, 'clipped like an innovation of 10');
});

test('uncertainty grows where no sample has been seen and falls where samples land', () => {
  const rls = new AffineRls({ forgetting: 0.98, xScale: 100 });
  const rnd = new Random(2);
  for (let i = 0; i < 200; i++) rls.learn(rnd.int(1, 200), 100);
  const spread = rls.uncertainty(128);
  assert.ok(spread < 0.2, `after spread samples: ${spread}`);
  for (let i = 0; i < 300; i++) rls.learn(rnd.int(1, 5), 100);
  assert.ok(rls.uncertainty(3) < 0.2, `at the lengths served: ${rls.uncertainty(3)}`);
  assert.ok(rls.uncertainty(128) > 1, `far from them: ${rls.uncertainty(128)}`);
});

test('restarting keeps the old shape scaled to the new level', () => {
  const rls = new AffineRls({ forgetting: 0.98, xScale: 100, prior: { slope: 1, intercept: 5 }, priorWeight: 100 });
  rls.restartFrom([
    [20, 75],
    [20, 75],
  ]);
  close(rls.slope, 3, 0.01, 'slope');
  close(rls.intercept, 15, 0.01, 'intercept');
});

test('never predicts a negative slope or time', () => {
  const rls = new AffineRls({ forgetting: 0.9, xScale: 100 });
  rls.learn(10, 100);
  rls.learn(100, 1); // a decreasing pair would fit a negative slope
  for (let i = 0; i < 50; i++) rls.learn(200, 0.5);
  assert.ok(rls.slope >= 0);
  assert.ok(rls.intercept >= 0);
  assert.ok(rls.predict(1) >= 0);
});

test('no wind-up when the input never varies', () => {
  const rnd = new Random(5);
  const rls = new AffineRls({ forgetting: 0.95, xScale: 100 });
  for (let i = 0; i < 50; i++) {
    const x = rnd.int(1, 200);
    rls.learn(x, (2 * x + 1) * (1 + 0.02 * rnd.normal()));
  }
  for (let i = 0; i < 5000; i++) rls.learn(20, 41 * (1 + 0.02 * rnd.normal()));
  close(rls.predict(20), 41, 0.03, 'T(20)');
  assert.ok(Number.isFinite(rls.slope) && Number.isFinite(rls.intercept));
  rls.learn(150, 301);
  assert.ok(rls.predict(150) > 100 && rls.predict(150) < 600, `T(150) = ${rls.predict(150)}`);
});

test('rejects invalid options', () => {
  assert.throws(() => new AffineRls({ forgetting: 0, xScale: 1 }), /forgetting/);
  assert.throws(() => new AffineRls({ forgetting: 1.5, xScale: 1 }), /forgetting/);
  assert.throws(() => new AffineRls({ forgetting: 0.9, xScale: 0 }), /xScale/);
});
