import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseScenario, type Scenario } from '../sim/scenario.js';
import { runScenario, runSweep, type SimResult } from '../sim/run.js';

// The shipped scenarios are a promise to users, checked at their own seeds (a deterministic
// regression check of decision quality, not a timing test):
// - CRIME within 0.3 % of the oracle (the energy scenario: see ORACLE_BOUND), nothing failed;
// - physically plausible: no device of any policy busier than 85 % in its busiest minute, so no
//   saving comes from a saturated baseline;
// - where a scenario mirrors a row of the CRIME results table (docs/reference.md), its
//   savings against the single devices within TOLERANCE points of the slides', both ways; the
//   columns it cannot mirror (the clouds of SNLI_200, see its file) at least the slides';
// - and a low-load variant of each (a fifth of the arrival rate): CRIME still within 0.3 % of the
//   oracle and no worse than any single device, so the savings do not come from queueing alone.
const DIR = fileURLToPath(new URL('../../examples/scenarios/', import.meta.url));
const TOLERANCE = 4;
const MAX_PEAK_UTILISATION = 0.85;
/** Most % above the oracle at the scenario's load and at a fifth of it. */
const ORACLE_BOUND: Record<string, [number, number]> = {
  // Minimising end-node energy, every ping and self-calibration run costs the objective itself
  // (the oracle neither probes nor calibrates): +0.27 % at its own seed (+0.17 … +0.24 % over seeds
  // 1-5); at a fifth of the load, where the same pings weigh five times more per request, +0.34 %.
  'snli-energy-two-level': [0.3, 0.4],
};

interface Row {
  slides: Record<string, number>;
  /** columns the scenario claims to mirror (two-sided); the others are checked one-sided */
  mirrored: string[];
}

const three = (end: number, gateway: number, cloud: number, mirrored = ['only-end-node', 'only-gateway', 'only-cloud']): Row => ({
  slides: { 'only-end-node': end, 'only-gateway': gateway, 'only-cloud': cloud },
  mirrored,
});
const two = (end: number, gateway: number, a: number, b: number, mirrored = ['only-end-node', 'only-gateway', 'only-cloud-a', 'only-cloud-b']): Row => ({
  slides: { 'only-end-node': end, 'only-gateway': gateway, 'only-cloud-a': a, 'only-cloud-b': b },
  mirrored,
});

const SLIDES: Record<string, Row> = {
  'snli-three-level': three(35.57, 5.93, 25.33),
  'squad-three-level': three(26.4, 1.49, 31.92),
  'snli200-three-level': three(4.52, 20.22, 37.48, ['only-end-node', 'only-gateway']),
  'imdb-three-level': three(-0.46, 68.49, 59.22),
  'snli-two-servers': two(35.56, 45.38, 26.11, 25.13),
  'squad-two-servers': two(23.22, 35.12, 32.98, 29.51),
  'snli200-two-servers': two(4.75, 50.87, 44.73, 37.69, ['only-end-node', 'only-gateway']),
  'imdb-two-servers': two(-0.7, 80.45, 64.35, 59.12),
};

const files = readdirSync(DIR).filter((f) => f.endsWith('.yaml'));
const load = (file: string): Scenario => parseScenario(readFileSync(DIR + file, 'utf8'));

function plausible(result: SimResult): void {
  for (const [policy, p] of Object.entries(result.policies)) {
    for (const [device, u] of Object.entries(p.peakUtilisation)) {
      assert.ok(u <= MAX_PEAK_UTILISATION, `${policy}: ${device} ${Math.round(u * 100)} % busy in its busiest minute`);
    }
  }
}

test('every slides row has its scenario', () => {
  const names = files.map((f) => load(f).name);
  for (const name of Object.keys(SLIDES)) assert.ok(names.includes(name), name);
});

for (const file of files) {
  test(`examples/scenarios/${file} keeps its promises`, () => {
    const s = load(file);
    if (s.sweep) {
      const { points } = runSweep(s);
      for (const p of points) {
        assert.ok(p.crimeVsOraclePct <= 0.3, `RTT ${p.rttMs}: ${p.crimeVsOraclePct}% vs oracle`);
        plausible(p);
      }
      const first = points[0]!;
      const last = points[points.length - 1]!;
      // Low latency: always offload. High latency: never. In between: better than both.
      assert.ok(first.crimeReductionPct['only-end-node']! > 50 && Math.abs(first.crimeReductionPct['only-cloud']!) < 1);
      assert.ok(last.crimeReductionPct['only-cloud']! > 50 && last.crimeReductionPct['only-end-node']! < 5);
      assert.ok(points.some((p) => p.crimeReductionPct['only-end-node']! > 15 && p.crimeReductionPct['only-cloud']! > 15));
      return;
    }
    const { result } = runScenario(s);
    const bound = ORACLE_BOUND[s.name]?.[0] ?? 0.3;
    assert.ok(result.crimeVsOraclePct <= bound, `${result.crimeVsOraclePct}% vs oracle`);
    assert.equal(result.policies.crime!.failed, 0);
    plausible(result);
    const row = SLIDES[s.name];
    for (const [policy, slides] of Object.entries(row?.slides ?? {})) {
      const got = result.crimeReductionPct[policy];
      assert.ok(got !== undefined, policy);
      if (row!.mirrored.includes(policy)) {
        assert.ok(Math.abs(got - slides) <= TOLERANCE, `reduction vs ${policy}: ${got}%, slides ${slides}% ± ${TOLERANCE}`);
      } else {
        assert.ok(got >= slides, `reduction vs ${policy}: ${got}% < slides' ${slides}%`);
      }
    }
  });

  if (!load(file).sweep) {
    test(`examples/scenarios/${file} at a fifth of its load: still close to the oracle, no worse than any device`, () => {
      const s = load(file);
      const arrival = s.arrival.type === 'poisson' ? { ...s.arrival, ratePerSec: s.arrival.ratePerSec / 5 } : s.arrival;
      const { result } = runScenario({ ...s, arrival });
      const bound = ORACLE_BOUND[s.name]?.[1] ?? 0.3;
      assert.ok(result.crimeVsOraclePct <= bound, `${result.crimeVsOraclePct}% vs oracle`);
      for (const [policy, saving] of Object.entries(result.crimeReductionPct)) {
        if (policy.startsWith('only-')) assert.ok(saving >= -0.3, `${saving}% vs ${policy}`);
      }
    });
  }
}
