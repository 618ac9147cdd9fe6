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

// Regime memory (regimeMemory: true), as the engine's link fits use it: bytes on the wire as x,
// noise relative to the RTT plus a quarter of the transfer.

/** ms per byte of a link of `mbps` Mbit/s. */
const msPerByte = (mbps: number): number => 8 / (mbps * 1000);

interface Regime {
  rttMs: number;
  mbps: number;
}

const SMALL = 256;
const LARGE = 25_256;

function linkFit(): TrackedFit {
  return new TrackedFit({ forgetting: 0.98, xScale: 65536, slopeNoiseShare: 0.25, regimeMemory: true, prior: { slope: msPerByte(20), intercept: 20 } });
}

/** A link's round trip at x bytes, noise 5% of the RTT plus a quarter of the transfer. */
function roundTrip(regime: Regime, x: number, rnd: Random): number {
  const transfer = x * msPerByte(regime.mbps);
  return regime.rttMs + transfer + 0.05 * (regime.rttMs + 0.25 * transfer) * rnd.normal();
}

/** `count` samples alternating an empty ping and a 25 KB probe, one every 500 ms; returns the verdicts. */
function ride(fit: TrackedFit, regime: Regime, count: number, rnd: Random, clock: { t: number }): string[] {
  const verdicts: string[] = [];
  for (let i = 0; i < count; i++) {
    const x = i % 2 === 0 ? SMALL : LARGE;
    verdicts.push(fit.update(x, roundTrip(regime, x, rnd), (clock.t += 500)));
  }
  return verdicts;
}

const currentAt = (fit: TrackedFit, x: number): number => fit.current.intercept + fit.current.slope * x;

const FAST: Regime = { rttMs: 20, mbps: 20 }; // 30 ms at LARGE
const SLOW: Regime = { rttMs: 20, mbps: 2 }; // 121 ms at LARGE

/** A link that went fast → slow → fast: both regimes learned, now fast with slow remembered. */
function learnedBoth(seed: number): { fit: TrackedFit; rnd: Random; clock: { t: number } } {
  const rnd = new Random(seed);
  const clock = { t: 0 };
  const fit = linkFit();
  ride(fit, FAST, 40, rnd, clock);
  ride(fit, SLOW, 40, rnd, clock);
  ride(fit, FAST, 40, rnd, clock);
  assert.equal(fit.alternatives.length, 1, JSON.stringify(fit.alternatives));
  close(fit.alternatives[0]!.slope, msPerByte(2), 0.1, 'remembered slow slope');
  close(currentAt(fit, LARGE), 30.1, 0.1, 'current fast regime');
  return { fit, rnd, clock };
}

test('regime memory: one sample of the remembered bandwidth switches back at once, no re-learning', () => {
  for (const seed of [21, 22, 23]) {
    const { fit, rnd, clock } = learnedBoth(seed);
    const changes = fit.changesDetected;
    // One large probe of the slow regime: switched on that very sample.
    assert.equal(fit.update(LARGE, 121, (clock.t += 500)), 'switch', `seed ${seed}`);
    assert.equal(fit.changesDetected, changes + 1);
    close(currentAt(fit, LARGE), 121, 0.05, `seed ${seed}: slow regime serves at once`);
    close(fit.predict(LARGE), 121, 0.05, `seed ${seed}: decisions see it`);
    // The fast regime is remembered in its place, and the next slow samples are simply ordinary.
    assert.equal(fit.alternatives.length, 1);
    close(fit.alternatives[0]!.slope, msPerByte(20), 0.1, 'remembered fast slope');
    const next = ride(fit, SLOW, 6, rnd, clock);
    assert.ok(!next.includes('change') && !next.includes('switch'), `seed ${seed}: ${next.join(' ')}`);
    // And back again on one sample.
    assert.equal(fit.update(LARGE, 30, (clock.t += 500)), 'switch', `seed ${seed}: back to fast`);
    close(currentAt(fit, LARGE), 30.1, 0.05, 'fast regime serves at once');
  }
});

test('regime memory: a sample within 3σ, or ≥3σ off but not on the remembered regime, does not switch', () => {
  const { fit, clock } = learnedBoth(24);
  const remembered = JSON.stringify(fit.alternatives);
  const changes = fit.changesDetected;
  // Towards the slow regime but within 3σ of the current one: noise.
  const sigma = fit.noiseAt(LARGE);
  const y = currentAt(fit, LARGE) + 2.5 * sigma;
  assert.notEqual(fit.update(LARGE, y, (clock.t += 500)), 'switch');
  // Back to normal, then a wild sample halfway between the regimes: an outlier, not a switch.
  for (let i = 0; i < 20; i++) fit.update(i % 2 === 0 ? SMALL : LARGE, i % 2 === 0 ? 20.1 : 30.1, (clock.t += 500));
  assert.equal(fit.update(LARGE, 75, (clock.t += 500)), 'outlier');
  assert.equal(fit.changesDetected, changes);
  assert.equal(JSON.stringify(fit.alternatives), remembered);
  close(currentAt(fit, LARGE), 30.1, 0.1, 'still the fast regime');
});

test('regime memory: false alarms leave near-copies that replace each other, never the real other regime', () => {
  const { fit, rnd, clock } = learnedBoth(25);
  // Three bursts of three empty pings 3.5σ slow (noise that happens to line up): each raises an
  // alarm and leaves a copy of the fast regime within 4σ of it, which the fast samples then undo.
  for (let k = 0; k < 3; k++) {
    const changes = fit.changesDetected;
    const y = currentAt(fit, SMALL) + 3.5 * fit.noiseAt(SMALL);
    for (let i = 0; i < 3; i++) fit.update(SMALL, y, (clock.t += 500));
    ride(fit, FAST, 40, rnd, clock);
    assert.ok(fit.changesDetected > changes, `burst ${k} raised no alarm: the test needs false alarms`);
    // At most the fast regime's copy beside the slow one.
    assert.ok(fit.alternatives.length <= 2, `burst ${k}: ${JSON.stringify(fit.alternatives)}`);
    assert.ok(
      fit.alternatives.some((a) => Math.abs(a.slope - msPerByte(2)) < 0.1 * msPerByte(2)),
      `burst ${k}: slow regime evicted ${JSON.stringify(fit.alternatives)}`,
    );
  }
  // A real third regime: the fast one is remembered once, beside the slow one.
  ride(fit, { rttMs: 150, mbps: 20 }, 30, rnd, clock);
  assert.equal(fit.alternatives.length, 2, JSON.stringify(fit.alternatives));
  // The slow regime is still one sample away.
  assert.equal(fit.update(LARGE, 121, (clock.t += 500)), 'switch');
  close(currentAt(fit, LARGE), 121, 0.05, 'slow regime');
});

test('regime memory: at most 3 regimes, latest first; an evicted one must be re-learned', () => {
  const rnd = new Random(26);
  const clock = { t: 0 };
  const fit = linkFit();
  const rtts = [20, 60, 150, 400, 1000];
  for (const rttMs of rtts) ride(fit, { rttMs, mbps: 20 }, 30, rnd, clock);
  const remembered = fit.alternatives.map((a) => a.intercept);
  assert.equal(remembered.length, 3, JSON.stringify(remembered));
  [400, 150, 60].forEach((rtt, i) => close(remembered[i]!, rtt, 0.1, `regime ${i}`));
  // 60 ms is remembered: one sample switches. 20 ms was evicted: no switch.
  assert.equal(fit.update(SMALL, 60, (clock.t += 500)), 'switch');
  close(fit.current.intercept, 60, 0.1, 'switched to 60 ms');
  ride(fit, { rttMs: 60, mbps: 20 }, 10, rnd, clock);
  assert.notEqual(fit.update(SMALL, 20, (clock.t += 500)), 'switch');
  assert.equal(fit.alternatives.length, 3);
});

test('without regime memory nothing is remembered and a flip back is re-learned through an alarm', () => {
  const rnd = new Random(27);
  const clock = { t: 0 };
  const fit = new TrackedFit({ forgetting: 0.98, xScale: 65536, slopeNoiseShare: 0.25, prior: { slope: msPerByte(20), intercept: 20 } });
  ride(fit, FAST, 40, rnd, clock);
  ride(fit, SLOW, 40, rnd, clock);
  const back = ride(fit, FAST, 40, rnd, clock);
  assert.deepEqual(fit.alternatives, []);
  assert.ok(!back.includes('switch') && back.includes('change'), back.join(' '));
});

/**
 * A 20 Mbit/s link (0.0004 ms/B) with a round trip of 119 ms and 8 % jitter: two probes of 4 KiB
 * and an empty ping, then `count` requests of 180-280 bytes, optionally with the round trip at
 * 300 ms from the 100th on. Returns the fit.
 */
function smallPayloadLink(slopeEvidenceX: number, count: number, stepAt = Infinity): TrackedFit {
  const rnd = new Random(56);
  const fit = new TrackedFit({ forgetting: 0.98, xScale: 65_536, slopeNoiseShare: 0.25, regimeMemory: true, slopeEvidenceX });
  const msPerByte = 0.0004;
  let t = 0;
  const send = (x: number, rtt: number): void => {
    fit.update(x, (rtt + msPerByte * x) * (1 + 0.08 * rnd.normal()), (t += 1500));
  };
  send(256, 119);
  send(4352, 119);
  send(4352, 119);
  for (let i = 0; i < count; i++) send(rnd.int(180, 280), i >= stepAt ? 300 : 119);
  return fit;
}

test('slopeEvidenceX: small payloads under jitter move the round trip, not the bandwidth', () => {
  // 10 ms of jitter over a 100-byte spread: fitting a slope to it reads anything from a 0.4 Mbit/s
  // link to an infinitely fast one. Below slopeEvidenceX the samples only move the intercept.
  const slopes: number[] = [];
  for (const count of [50, 100, 200, 400]) {
    const fit = smallPayloadLink(1024, count);
    slopes.push(fit.current.slope);
    assert.ok(Math.abs(fit.intercept - 119) < 8, `after ${count}: RTT ${fit.intercept}`);
  }
  assert.ok(new Set(slopes).size === 1, `the slope never moved: ${slopes.join(', ')}`);
  const free = [50, 100, 200, 400].map((count) => smallPayloadLink(0, count).current.slope);
  assert.ok(Math.max(...free) > 3 * Math.min(...free), `without it the slope wanders: ${free.join(', ')}`);
});

test('slopeEvidenceX: a round-trip step seen on small payloads restarts the level and keeps the slope', () => {
  const before = smallPayloadLink(1024, 100);
  const after = smallPayloadLink(1024, 160, 100);
  assert.ok(after.changesDetected >= 1, 'the step was detected');
  assert.ok(Math.abs(after.intercept - 300) < 25, `RTT after the step ${after.intercept}`);
  assert.equal(after.current.slope, before.current.slope);
});
