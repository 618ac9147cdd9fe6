/**
 * The batching scenarios (examples/scenarios/batching/): a GPU cloud that batches behind a
 * gateway, against the same cloud serving one request at a time. Deterministic at their seeds.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseScenario } from '../sim/scenario.js';
import { runScenario } from '../sim/run.js';

const DIR = fileURLToPath(new URL('../../examples/scenarios/batching/', import.meta.url));
const run = (file: string): ReturnType<typeof runScenario>['result'] => runScenario(parseScenario(readFileSync(DIR + file, 'utf8'))).result;

test('a batching cloud: CRIME learns what its batches cost and maps there, as the oracle does, far faster than without batching', () => {
  const batching = run('cloud-batching.yaml');
  const plain = run('cloud-no-batching.yaml');
  for (const r of [batching, plain]) {
    assert.ok(Math.abs(r.crimeVsOraclePct) <= 1.5, `${r.scenario}: ${r.crimeVsOraclePct}% vs oracle`);
    assert.equal(r.policies.crime?.failed, 0);
  }
  const crime = batching.policies.crime!;
  const without = plain.policies.crime!;
  // The same trace: batching at the cloud cuts CRIME's mean and p99 by more than half ...
  assert.ok(crime.meanMs * 2 < without.meanMs, `mean ${crime.meanMs} vs ${without.meanMs}`);
  assert.ok(crime.p99Ms * 2 < without.p99Ms, `p99 ${crime.p99Ms} vs ${without.p99Ms}`);
  // ... and more requests go to the cloud: it is no longer the queue it was.
  assert.ok((crime.served.cloud ?? 0) > (without.served.cloud ?? 0), JSON.stringify([crime.served, without.served]));
  // The cloud alone keeps up when it batches, not when it does not.
  assert.ok(batching.policies['only-cloud']!.meanMs < 2 * crime.meanMs);
  assert.ok(plain.policies['only-cloud']!.meanMs > 50 * without.meanMs);
});
