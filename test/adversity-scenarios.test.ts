import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseScenario } from '../sim/scenario.js';
import { runScenario } from '../sim/run.js';

// The adversity probes (examples/scenarios/adversity/) at their own seeds: CRIME never worse than
// the best single device, and within 2 % of the oracle wherever conditions change no faster than
// every 10 s with noise at most 0.4. A seeded, deterministic check of decision quality, not a
// timing test. docs/scenarios.md has the numbers over several seeds.
const DIR = fileURLToPath(new URL('../../examples/scenarios/adversity/', import.meta.url));

const PROBES: Record<string, { maxVsOraclePct: number; why?: string }> = {
  'noisy-three-level': { maxVsOraclePct: 2 },
  'gateway-slow-200s': { maxVsOraclePct: 2 },
  'gateway-gradual': { maxVsOraclePct: 2 },
  'rtt-flap-30s': { maxVsOraclePct: 2 },
  'rtt-flap-10s': { maxVsOraclePct: 2 },
  // Flips every 2 s cannot be followed; the promise there is only the best fixed choice.
  'rtt-flap-2s': { maxVsOraclePct: 10, why: 'faster than 10 s' },
  'rtt-flap-2s-long': { maxVsOraclePct: 6, why: 'faster than 10 s' },
  // At the edge of the 2 % target (+1.6 … +2.1 % over seeds 1-5, +1.28 % at its own seed): each
  // flip to 20 Mbit/s must be found by a probe the end node pays for at 3.8 W, and requests sent
  // just after a drop to 3 Mbit/s pay for it before the first slow reply is back.
  'energy-bandwidth-flap': { maxVsOraclePct: 2, why: 'probing costs energy the oracle does not pay' },
};

for (const [name, bound] of Object.entries(PROBES)) {
  test(`adversity/${name}: no worse than any single device, ${bound.maxVsOraclePct} % from the oracle at most`, () => {
    const s = parseScenario(readFileSync(`${DIR}${name}.yaml`, 'utf8'));
    const { result } = runScenario(s);
    assert.equal(result.policies.crime!.failed, 0);
    assert.ok(result.crimeVsOraclePct <= bound.maxVsOraclePct, `${result.crimeVsOraclePct}% vs oracle`);
    for (const [policy, saving] of Object.entries(result.crimeReductionPct)) {
      if (policy.startsWith('only-')) assert.ok(saving >= 0, `${saving}% vs ${policy}`);
    }
  });
}
