import assert from 'node:assert/strict';
import { test } from 'node:test';
import { figures, isSingleDevice, mappingTable, pinnedDevice, type PolicyRun, type RequestOutcome } from './mapping-table.js';

const outcome = (id: number, latencyMs: number, servedBy: string | null, energyJ = 0): RequestOutcome => ({ id, n: 10 * (id + 1), atMs: 100 * id, latencyMs, energyJ, servedBy });

// Three requests; per request the best single-device run is: 0 → local (10), 1 → gateway (20), 2 → local (30).
const RUNS: PolicyRun[] = [
  { policy: 'crime', overheadEnergyJ: 0.3, outcomes: [outcome(0, 12, 'edge', 0.1), outcome(1, 22, 'gw', 0.2), outcome(2, 36, 'edge', 0.3)] },
  { policy: 'local', overheadEnergyJ: 0, outcomes: [outcome(0, 10, 'edge', 0.1), outcome(1, 50, 'edge', 0.5), outcome(2, 30, 'edge', 0.3)] },
  { policy: 'device:gw', overheadEnergyJ: 0, outcomes: [outcome(0, 40, 'gw', 0.04), outcome(1, 20, 'gw', 0.02), outcome(2, 60, 'edge', 0.6)] },
  { policy: 'threshold', overheadEnergyJ: 0, outcomes: [outcome(0, 11, 'edge'), outcome(1, 25, 'gw'), outcome(2, null as unknown as number, null)] },
];

test('single-device policies and the device each pins', () => {
  assert.deepEqual(['crime', 'local', 'threshold', 'device:gw'].map((p) => isSingleDevice(p as never)), [false, true, false, true]);
  assert.equal(pinnedDevice('local', 'edge'), 'edge');
  assert.equal(pinnedDevice('device:gw', 'edge'), 'gw');
  assert.equal(pinnedDevice('crime', 'edge'), undefined);
});

test('per policy: latency over the served requests, energy with the overhead over all, failures and fallbacks', () => {
  const crime = figures(RUNS[0]!, 'edge');
  assert.equal(crime.meanMs, 23.333);
  assert.equal(crime.meanEnergyJ, 0.3); // (0.1 + 0.2 + 0.3 + 0.3) / 3
  assert.deepEqual(crime.servedBy, { edge: 2, gw: 1 });
  assert.equal(crime.fallbacks, 0);
  const pinned = figures(RUNS[2]!, 'edge');
  assert.equal(pinned.fallbacks, 1, 'request 2 was served by the edge under device:gw');
  const threshold = figures(RUNS[3]!, 'edge');
  assert.equal(threshold.failed, 1);
  assert.equal(threshold.meanMs, 18);
});

test('the table: reductions against every policy, the best fixed one, and the per-request hindsight bound', () => {
  const t = mappingTable(RUNS, 'latency', 'edge');
  // local 30, device:gw 40, threshold 18, crime 23.333 (means rounded to µs first)
  assert.equal(t.crimeReductionPct.local, 22.223);
  assert.equal(t.crimeReductionPct['device:gw'], 41.668);
  assert.equal(t.crimeReductionPct.threshold, -29.628);
  assert.deepEqual(t.singleDevice, ['local', 'device:gw']);
  // Hindsight: 10, 20, 30 (request 2's gw run was served by the edge at 60: still a candidate, but worse).
  assert.deepEqual(t.hindsight, { meanMs: 20, meanEnergyJ: 0.14 });
  assert.equal(t.crimeVsHindsightPct, 16.665);
  assert.equal(t.bestFixed, 'threshold');
  assert.equal(t.crimeVsBestFixedPct, 29.628);
});

test('under the energy objective every figure compares energy, and the bound picks each request\'s cheapest run', () => {
  const t = mappingTable(RUNS.slice(0, 3), 'energy', 'edge');
  // per request min energy: 0.04, 0.02, 0.3 → mean 0.12; crime 0.3 per request with its overhead
  assert.equal(t.hindsight.meanEnergyJ, 0.12);
  assert.equal(t.crimeVsHindsightPct, 150);
  assert.equal(t.bestFixed, 'device:gw'); // (0.04 + 0.02 + 0.6) / 3 = 0.22 against local 0.3
  assert.equal(t.crimeReductionPct['device:gw'], -36.364);
});

test('a table without crime is refused', () => {
  assert.throws(() => mappingTable(RUNS.slice(1), 'latency', 'edge'), /run it among the policies/);
});
