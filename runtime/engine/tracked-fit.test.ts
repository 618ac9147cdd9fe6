import { test } from 'node:test';
import assert from 'node:assert/strict';
import { TrackedFit } from './tracked-fit.js';
import { Random } from '../../stats/random.js';

const close = (actual: number, expected: number, rel: number, what: string): void =>
  assert.ok(Math.abs(actual - expected) <= rel * Math.abs(expected), `${what}: ${actual} not within ${rel * 100}% of ${expected}`);

/** Feeds `count` samples of (slope·x + intercept)·(1 + noise·N(0,1)), one every `everyMs`. */
function feed(fit: TrackedFit, rnd: Random, clock: { t: number }, count: number, slope: number, intercept: number, noise: number, everyMs = 200): void {
  for (let i = 0; i < count; i++) {
    const x = rnd.int(1, 200);
    clock.t += everyMs;
    fit.update(x, (slope * x + intercept) * Math.max(0.05, 1 + noise * rnd.normal()), clock.t);
  }
}

test('converges to the true parameters under 5% noise without a prior', () => {
  const rnd = new Random(1);
  const fit = new TrackedFit({ forgetting: 0.999, xScale: 100 });
  feed(fit, rnd, { t: 0 }, 3000, 3.0, 2.0, 0.05);
  close(fit.slope, 3.0, 0.01, 'slope');
  assert.ok(Math.abs(fit.intercept - 2) < 1, `intercept ${fit.intercept}`);
  close(fit.relativeNoise, 0.05, 0.3, 'relative noise');
});

test('tracks the parameters closely with the default forgetting factor', () => {
  const rnd = new Random(11);
  const fit = new TrackedFit({ forgetting: 0.98, xScale: 100 });
  feed(fit, rnd, { t: 0 }, 300, 3.0, 2.0, 0.05);
  close(fit.predict(14), 44, 0.05, 'T(14)');
  close(fit.predict(150), 452, 0.03, 'T(150)');
});

test('a wrong prior is overridden by the data', () => {
  const rnd = new Random(2);
  const fit = new TrackedFit({ forgetting: 0.98, xScale: 100, prior: { slope: 0.5, intercept: 20 } });
  feed(fit, rnd, { t: 0 }, 100, 3.0, 2.0, 0.02);
  close(fit.predict(100), 302, 0.03, 'T(100)');
});

test('is sensible from the first samples', () => {
  const fit = new TrackedFit({ forgetting: 0.98, xScale: 100 });
  fit.update(10, 32, 0);
  close(fit.predict(10), 32, 0.02, 'after one sample');
  fit.update(100, 302, 1);
  close(fit.predict(10), 32, 0.02, 'after two samples at 10');
  close(fit.predict(100), 302, 0.02, 'after two samples at 100');
  close(fit.predict(50), 152, 0.02, 'interpolated');
});

test('isolated outliers barely move the fit and raise no alarm', () => {
  // One 10× spike in every 21 samples; CUSUM adds at most clip − k = 3.5 σ for each, then drifts back.
  const rnd = new Random(3);
  const clock = { t: 0 };
  const fit = new TrackedFit({ forgetting: 0.98, xScale: 100 });
  feed(fit, rnd, clock, 200, 1.0, 5.0, 0.03);
  const before = fit.predict(100);
  for (let i = 0; i < 20; i++) {
    clock.t += 200;
    assert.equal(fit.update(100, 1000, clock.t), 'outlier'); // one 10× spike...
    feed(fit, rnd, clock, 20, 1.0, 5.0, 0.03); // ...then normal traffic
  }
  close(fit.predict(100), before, 0.05, 'T(100) after spikes');
  assert.equal(fit.changesDetected, 0);
});

test('adapts to a 3× slowdown within a few samples', () => {
  const rnd = new Random(4);
  const clock = { t: 0 };
  const fit = new TrackedFit({ forgetting: 0.98, xScale: 100 });
  feed(fit, rnd, clock, 200, 1.0, 5.0, 0.03);
  let samples = 0;
  while (Math.abs(fit.predict(100) - 315) > 0.1 * 315) {
    const x = rnd.int(1, 200);
    clock.t += 200;
    fit.update(x, 3 * (x + 5) * (1 + 0.03 * rnd.normal()), clock.t);
    samples++;
    assert.ok(samples <= 3, `still ${fit.predict(100)} after ${samples} samples`);
  }
  assert.equal(fit.changesDetected, 1);
});

test('flags a real step hidden in 30% jitter: an RTT drop from 150 to 30 ms', () => {
  // Network samples as a link fit sees them: small pings, RTT jittered by 30% on each half.
  const rnd = new Random(6);
  const fit = new TrackedFit({ forgetting: 0.98, xScale: 65536 });
  const rtt = (base: number): number => (base / 2) * Math.max(0.05, 1 + 0.3 * rnd.normal()) + (base / 2) * Math.max(0.05, 1 + 0.3 * rnd.normal());
  let t = 0;
  for (let i = 0; i < 300; i++) fit.update(256, rtt(150), (t += 200));
  close(fit.predict(256), 150, 0.1, 'before');
  const changes = fit.changesDetected;
  let samples = 0;
  while (fit.changesDetected === changes) {
    fit.update(256, rtt(30), (t += 200));
    samples++;
    assert.ok(samples <= 4, `no alarm after ${samples} samples at 30 ms (fit ${fit.predict(256)})`);
  }
  close(fit.predict(256), 30, 0.35, 'after the alarm');
});

test('does not chase 40% noise: few false alarms over thousands of samples', () => {
  const rnd = new Random(7);
  const fit = new TrackedFit({ forgetting: 0.98, xScale: 100 });
  feed(fit, rnd, { t: 0 }, 5000, 3.0, 2.0, 0.4);
  // CUSUM with k = 0.5, h = 6: about one false alarm per 1300 samples of Gaussian noise.
  assert.ok(fit.changesDetected <= 8, `${fit.changesDetected} alarms in 5000 samples`);
  close(fit.predict(50), 152, 0.08, 'T(50)');
});

/** A link whose RTT flips between 20 and 150 ms every `periodMs`, sampled every `everyMs`. */
function flapping(periodMs: number, everyMs: number, durationMs: number): { middling: number; meanAbsError: number } {
  const rnd = new Random(8);
  const fit = new TrackedFit({ forgetting: 0.98, xScale: 65536 });
  let middling = 0;
  let error = 0;
  let count = 0;
  const truth = (t: number): number => (Math.floor(t / periodMs) % 2 === 0 ? 20 : 150);
  for (let t = 0; t < durationMs; t += everyMs) {
    fit.update(256, truth(t) * (1 + 0.05 * rnd.normal()), t);
    if (t > durationMs / 4) {
      const estimate = fit.predict(256);
      middling += estimate > 50 && estimate < 120 ? 1 : 0;
      error += Math.abs(estimate - truth(t + everyMs / 2));
      count++;
    }
  }
  return { middling: middling / count, meanAbsError: error / count };
}

test('follows flips it can track, and settles on the average when they come faster than samples', () => {
  // Every 30 s, a sample every 200 ms: each flip is followed within a couple of samples.
  const slow = flapping(30_000, 200, 600_000);
  assert.ok(slow.meanAbsError < 10, `mean error ${slow.meanAbsError} ms`);
  // Every 2 s, a sample every 1.3 s: whatever was seen last is as likely wrong as right. The
  // estimate stays near the 85 ms average instead of chasing 20 and 150.
  const fast = flapping(2000, 1300, 600_000);
  assert.ok(fast.middling > 0.9, `near the average ${fast.middling} of the time`);
});

test('ignores non-finite and negative samples', () => {
  const fit = new TrackedFit({ forgetting: 0.98, xScale: 100, prior: { slope: 1, intercept: 1 } });
  assert.equal(fit.update(Number.NaN, 3, 0), 'ignored');
  fit.update(3, Number.POSITIVE_INFINITY, 0);
  fit.update(-1, 3, 0);
  fit.update(3, -1, 0);
  assert.equal(fit.samples, 0);
  assert.equal(fit.predict(10), 11);
});
