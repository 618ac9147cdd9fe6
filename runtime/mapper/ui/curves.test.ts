import assert from 'node:assert/strict';
import { test } from 'node:test';
import { rankCandidates, type NeighbourView } from '../../engine/rank.js';
import { costCurves } from './curves.js';

const payload = { stepBytes: 4, outputBytes: 100 };

/** An edge at 0.5 ms/step + 1 ms and a gateway 0.1 ms/step + 2 ms behind a link of `rttMs`. */
function estimator(rttMs: number) {
  const gateway: NeighbourView = { name: 'gateway', link: { rttMs, msPerByte: 0 }, local: { slope: 0.1, intercept: 2 }, queueMs: 0, remote: [] };
  return (n: number) => rankCandidates({ n, objective: 'latency', payload, local: { compute: { slope: 0.5, intercept: 1 }, queueMs: 0 }, neighbours: [gateway] });
}

test('the curves of every candidate and the exact crossover length', () => {
  // local 0.5n + 1 = gateway 0.1n + 2 + rtt  ⇔  n = (1 + rtt) / 0.4: rtt 9 → 25, so from 26 on (ties stay local).
  const curves = costCurves({ estimate: estimator(9), maxSteps: 1000, device: 'edge', objective: 'latency' });
  assert.equal(curves.unit, 'ms');
  assert.deepEqual(curves.candidates.map((c) => c.target).sort(), ['edge', 'gateway']);
  assert.equal(curves.lengths[0], 1);
  assert.equal(curves.lengths.at(-1), 1000);
  const edge = curves.candidates.find((c) => c.target === 'edge');
  assert.equal(edge?.cost.at(-1), 501);
  assert.deepEqual(curves.crossovers, [{ n: 26, from: 'edge', to: 'gateway' }]);
});

test('a slower link moves the crossover; one that never pays has none', () => {
  const slower = costCurves({ estimate: estimator(99), maxSteps: 1000, device: 'edge', objective: 'latency' });
  assert.deepEqual(slower.crossovers, [{ n: 251, from: 'edge', to: 'gateway' }]);
  const never = costCurves({ estimate: estimator(1000), maxSteps: 1000, device: 'edge', objective: 'latency' });
  assert.deepEqual(never.crossovers, []);
});

test('few steps: every length is a sample', () => {
  const curves = costCurves({ estimate: estimator(0), maxSteps: 5, device: 'edge', objective: 'energy' });
  assert.deepEqual(curves.lengths, [1, 2, 3, 4, 5]);
  assert.equal(curves.unit, 'J');
  assert.deepEqual(curves.crossovers, [{ n: 3, from: 'edge', to: 'gateway' }]);
});
