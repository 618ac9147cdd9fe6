import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseScenario } from './scenario.js';
import { conditions, summarizeSweep, sweepRun, type SweepRun } from './sweep.js';

const BASE = `
name: t
requests: 300
arrival: { type: poisson, ratePerSec: 5 }
lengths: { type: list, values: [3, 10, 40, 150] }
payload: { stepBytes: 1200 }
devices:
  - { name: end, entry: true, perStepMs: 3, fixedMs: 2, offloadTo: [cloud], noise: 0.1 }
  - { name: cloud, perStepMs: 0.03, fixedMs: 1.5, noise: 0.3 }
links:
  - { from: end, to: cloud, rttMs: 30, bandwidthMbps: 50, jitter: 0.2 }
`;

test('conditions: the fastest change of any one device or link, and the largest noise', () => {
  assert.deepEqual(conditions(parseScenario(BASE)), { fastestChangeSec: Infinity, maxNoise: 0.3 });
  const events = `events:
  - { atSec: 10, everySec: 12, untilSec: 100, link: end->cloud, rttMs: [90, 30] }
  - { atSec: 50, device: cloud, slowdown: 3 }
  - { atSec: 55, device: end, slowdown: 2 }
  - { atSec: 59, device: cloud, slowdown: 1 }
`;
  // The link flaps every 12 s; the cloud changes twice 9 s apart; the end node only once.
  assert.equal(conditions(parseScenario(BASE + events)).fastestChangeSec, 9);
});

const run = (over: Partial<SweepRun>): SweepRun => ({
  name: 'x',
  objective: 'latency',
  family: 'adversity',
  traceSeed: 1,
  vsOraclePct: 0,
  vsBestPct: -1,
  best: 'end',
  oracleVsBestPct: -1,
  fastestChangeSec: Infinity,
  maxNoise: 0.1,
  text: '',
  ...over,
});

test('summaries: median, p90 and worst per objective and family, the slow-change subset, and oracles beaten by a single device', () => {
  const runs = Array.from({ length: 10 }, (_, i) => run({ name: `a${i}`, vsOraclePct: i, fastestChangeSec: i < 2 ? 5 : 30 }));
  runs.push(run({ name: 'n', family: 'nominal', vsOraclePct: 0.1, vsBestPct: 0.2, oracleVsBestPct: 0.5 }));
  const [adversity, slow, nominal] = summarizeSweep(runs);
  assert.deepEqual([adversity!.family, adversity!.subset, adversity!.runs, adversity!.medianPct, adversity!.p90Pct, adversity!.worstPct], ['adversity', 'all', 10, 4, 8, 9]);
  assert.equal(adversity!.worst?.name, 'a9');
  assert.deepEqual([slow!.subset, slow!.runs, slow!.medianPct], ['changes ≥ 10 s', 8, 5]);
  assert.deepEqual([nominal!.family, nominal!.runs, nominal!.worstVsBestPct, nominal!.oracleBeaten], ['nominal', 1, 0.2, 1]);
  assert.equal(adversity!.oracleBeaten, 0);
});

test('a sweep run compares CRIME with the oracle and the best single device, and its file replays it', () => {
  const r = sweepRun(BASE, parseScenario(BASE), 'nominal', 4);
  assert.equal(r.traceSeed, 4);
  assert.ok(['end', 'cloud'].includes(r.best));
  assert.ok(Number.isFinite(r.vsOraclePct) && Number.isFinite(r.vsBestPct) && Number.isFinite(r.oracleVsBestPct));
  // Two sizes of inputs each way: CRIME beats both single devices here.
  assert.ok(r.vsBestPct < 0, `${r.vsBestPct}% vs ${r.best}`);
  assert.equal(parseScenario(r.text).seed, 4);
  assert.deepEqual(sweepRun(r.text, parseScenario(r.text), 'nominal', 4), r);
});
