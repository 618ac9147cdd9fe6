import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseScenario } from '../sim/scenario.js';
import { runScenario, runSweep } from '../sim/run.js';

// The shipped scenarios are a promise to users: CRIME within 0.3% of the oracle, and where a
// scenario mirrors a row of the CRIME results table (docs/reference.md), savings vs
// every single-device policy at least the slides' ones. The simulation is seeded, so this is a
// deterministic regression check of decision quality, not a timing test.
const DIR = fileURLToPath(new URL('../../examples/scenarios/', import.meta.url));

const SLIDES: Record<string, Record<string, number>> = {
  'snli-three-level': { 'only-end-node': 35.57, 'only-gateway': 5.93, 'only-cloud': 25.33 },
  'squad-three-level': { 'only-end-node': 26.4, 'only-gateway': 1.49, 'only-cloud': 31.92 },
  'snli200-three-level': { 'only-end-node': 4.52, 'only-gateway': 20.22, 'only-cloud': 37.48 },
  'imdb-three-level': { 'only-end-node': -0.46, 'only-gateway': 68.49, 'only-cloud': 59.22 },
  'snli-two-servers': { 'only-end-node': 35.56, 'only-gateway': 45.38, 'only-cloud-a': 26.11, 'only-cloud-b': 25.13 },
  'squad-two-servers': { 'only-end-node': 23.22, 'only-gateway': 35.12, 'only-cloud-a': 32.98, 'only-cloud-b': 29.51 },
  'snli200-two-servers': { 'only-end-node': 4.75, 'only-gateway': 50.87, 'only-cloud-a': 44.73, 'only-cloud-b': 37.69 },
  'imdb-two-servers': { 'only-end-node': -0.7, 'only-gateway': 80.45, 'only-cloud-a': 64.35, 'only-cloud-b': 59.12 },
};

const files = readdirSync(DIR).filter((f) => f.endsWith('.yaml'));

test('every slides row has its scenario', () => {
  const names = files.map((f) => parseScenario(readFileSync(DIR + f, 'utf8')).name);
  for (const name of Object.keys(SLIDES)) assert.ok(names.includes(name), name);
});

for (const file of files) {
  test(`examples/scenarios/${file} keeps its promises`, () => {
    const s = parseScenario(readFileSync(DIR + file, 'utf8'));
    if (s.sweep) {
      const { points } = runSweep(s);
      for (const p of points) assert.ok(p.crimeVsOraclePct <= 0.3, `RTT ${p.rttMs}: ${p.crimeVsOraclePct}% vs oracle`);
      const first = points[0]!;
      const last = points[points.length - 1]!;
      // Low latency: always offload. High latency: never. In between: better than both.
      assert.ok(first.crimeReductionPct['only-end-node']! > 50 && Math.abs(first.crimeReductionPct['only-cloud']!) < 1);
      assert.ok(last.crimeReductionPct['only-cloud']! > 50 && last.crimeReductionPct['only-end-node']! < 5);
      assert.ok(points.some((p) => p.crimeReductionPct['only-end-node']! > 15 && p.crimeReductionPct['only-cloud']! > 15));
      return;
    }
    const { result } = runScenario(s);
    assert.ok(result.crimeVsOraclePct <= 0.3, `${result.crimeVsOraclePct}% vs oracle`);
    assert.equal(result.policies.crime!.failed, 0);
    for (const [policy, min] of Object.entries(SLIDES[s.name] ?? {})) {
      const got = result.crimeReductionPct[policy];
      assert.ok(got !== undefined && got >= min, `reduction vs ${policy}: ${got}% < slides' ${min}%`);
    }
  });
}
