import { test } from 'node:test';
import assert from 'node:assert/strict';
import { AffineRls } from './affine-rls.js';
import { Random } from '../../stats/random.js';

const close = (actual: number, expected: number, rel: number, what: string): void =>
  assert.ok(Math.abs(actual - expected) <= rel * Math.abs(expected), `${what}: ${actual} not within ${rel * 100}% of ${expected}`);

function feed(rls: AffineRls, rnd: Random, count: number, slope: number, intercept: number, noise: number): void {
  for (let i = 0; i < count; i++) {
    const x = rnd.int(1, 200);
    rls.update(x, (slope * x + intercept) * (1 + noise * rnd.normal()));
  }
}

test('converges to the true parameters under 5% noise without a prior', () => {
  const rnd = new Random(1);
  const rls = new AffineRls({ forgetting: 0.999, xScale: 100 });
  feed(rls, rnd, 3000, 3.0, 2.0, 0.05);
  close(rls.slope, 3.0, 0.01, 'slope');
  assert.ok(Math.abs(rls.intercept - 2) < 1, `intercept ${rls.intercept}`);
  close(rls.relativeNoise, 0.05, 0.3, 'relative noise');
});

test('tracks the parameters closely with the default forgetting factor', () => {
  const rnd = new Random(11);
  const rls = new AffineRls({ forgetting: 0.98, xScale: 100 });
  feed(rls, rnd, 300, 3.0, 2.0, 0.05);
  close(rls.predict(14), 44, 0.05, 'T(14)');
  close(rls.predict(150), 452, 0.03, 'T(150)');
});

test('a wrong prior is overridden by the data', () => {
  const rnd = new Random(2);
  const rls = new AffineRls({ forgetting: 0.98, xScale: 100, prior: { slope: 0.5, intercept: 20 } });
  feed(rls, rnd, 100, 3.0, 2.0, 0.02);
  close(rls.predict(100), 302, 0.03, 'T(100)');
});

test('is sensible from the first samples', () => {
  const rls = new AffineRls({ forgetting: 0.98, xScale: 100 });
  rls.update(10, 32);
  close(rls.predict(10), 32, 0.02, 'after one sample');
  rls.update(100, 302);
  close(rls.predict(10), 32, 0.02, 'after two samples at 10');
  close(rls.predict(100), 302, 0.02, 'after two samples at 100');
  close(rls.predict(50), 152, 0.02, 'interpolated');
});

test('isolated outliers barely move the fit', () => {
  const rnd = new Random(3);
  const rls = new AffineRls({ forgetting: 0.98, xScale: 100 });
  feed(rls, rnd, 200, 1.0, 5.0, 0.03);
  const before = rls.predict(100);
  for (let i = 0; i < 20; i++) {
    rls.update(100, 1000); // one 10× spike...
    feed(rls, rnd, 10, 1.0, 5.0, 0.03); // ...then normal traffic
  }
  close(rls.predict(100), before, 0.05, 'T(100) after spikes');
  assert.equal(rls.changesDetected, 0);
});

test('adapts to a 3× slowdown within a few samples', () => {
  const rnd = new Random(4);
  const rls = new AffineRls({ forgetting: 0.98, xScale: 100 });
  feed(rls, rnd, 200, 1.0, 5.0, 0.03);
  let samples = 0;
  while (Math.abs(rls.predict(100) - 315) > 0.1 * 315) {
    const x = rnd.int(1, 200);
    rls.update(x, 3 * (x + 5) * (1 + 0.03 * rnd.normal()));
    samples++;
    assert.ok(samples <= 3, `still ${rls.predict(100)} after ${samples} samples`);
  }
  assert.equal(rls.changesDetected, 1);
});

test('never predicts a negative slope or time', () => {
  const rls = new AffineRls({ forgetting: 0.9, xScale: 100 });
  rls.update(10, 100);
  rls.update(100, 1); // a decreasing pair would fit a negative slope
  for (let i = 0; i < 50; i++) rls.update(200, 0.5);
  assert.ok(rls.slope >= 0);
  assert.ok(rls.intercept >= 0);
  assert.ok(rls.predict(1) >= 0);
});

test('no wind-up when the input never varies', () => {
  const rnd = new Random(5);
  const rls = new AffineRls({ forgetting: 0.95, xScale: 100 });
  feed(rls, rnd, 50, 2.0, 1.0, 0.02);
  for (let i = 0; i < 5000; i++) rls.update(20, 41 * (1 + 0.02 * rnd.normal()));
  close(rls.predict(20), 41, 0.03, 'T(20)');
  assert.ok(Number.isFinite(rls.slope) && Number.isFinite(rls.intercept));
  rls.update(150, 301);
  assert.ok(rls.predict(150) > 100 && rls.predict(150) < 600, `T(150) = ${rls.predict(150)}`);
});

test('ignores non-finite and negative samples', () => {
  const rls = new AffineRls({ forgetting: 0.98, xScale: 100, prior: { slope: 1, intercept: 1 } });
  rls.update(Number.NaN, 3);
  rls.update(3, Number.POSITIVE_INFINITY);
  rls.update(-1, 3);
  rls.update(3, -1);
  assert.equal(rls.samples, 0);
  assert.equal(rls.predict(10), 11);
});

test('rejects invalid options', () => {
  assert.throws(() => new AffineRls({ forgetting: 0, xScale: 1 }), /forgetting/);
  assert.throws(() => new AffineRls({ forgetting: 1.5, xScale: 1 }), /forgetting/);
  assert.throws(() => new AffineRls({ forgetting: 0.9, xScale: 0 }), /xScale/);
});
