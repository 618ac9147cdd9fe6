import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseScenario } from './scenario.js';
import { runScenario, runSweep } from './run.js';

function scenario(extra = '', overrides: Record<string, string> = {}): ReturnType<typeof parseScenario> {
  let text = `
name: small
seed: 3
requests: 600
arrival: { type: poisson, ratePerSec: 5 }
lengths: { type: lognormal, median: 14, sigma: 0.7, min: 1, max: 200 }
payload: { stepBytes: 1200, outputBytes: 8 }
devices:
  - { name: end-node, entry: true, perStepMs: 3.0, fixedMs: 2.0, offloadTo: [gateway], power: { activeW: 2.5, idleW: 0.4, txW: 1.3, rxW: 1.1 } }
  - { name: gateway, perStepMs: 0.8, fixedMs: 5.0, offloadTo: [cloud] }
  - { name: cloud, perStepMs: 0.03, fixedMs: 1.5 }
links:
  - { from: end-node, to: gateway, rttMs: 8, bandwidthMbps: 20 }
  - { from: gateway, to: cloud, rttMs: 30, bandwidthMbps: 100 }
${extra}`;
  for (const [from, to] of Object.entries(overrides)) text = text.replace(from, to);
  return parseScenario(text);
}

test('every policy runs on the same trace and the summary has the documented shape', () => {
  const { result, records } = runScenario(scenario());
  assert.deepEqual(Object.keys(result.policies), ['crime', 'oracle', 'hindsight', 'static-threshold', 'only-end-node', 'only-gateway', 'only-cloud']);
  for (const [name, p] of Object.entries(result.policies)) {
    assert.equal(records[name]!.length, 600);
    assert.deepEqual(Object.keys(p.served), ['end-node', 'gateway', 'cloud']);
    const served = Object.values(p.served).reduce((a, b) => a + b, 0);
    assert.equal(served + p.failed, 600, name);
    assert.ok(p.p50Ms <= p.p95Ms && p.p95Ms <= p.p99Ms, name);
    assert.ok(p.meanMs > 0 && p.energyJ > 0, name);
  }
  assert.deepEqual(
    records.crime!.map((r) => r.n),
    records['only-cloud']!.map((r) => r.n),
  );
  assert.equal(result.policies['only-end-node']!.served['end-node'], 600);
  // The end node's pings keep its radio busy: their energy counts in CRIME's total, and only there.
  const crime = result.policies.crime!;
  const perRequest = records.crime!.reduce((sum, r) => sum + r.energyJ, 0);
  assert.ok(crime.pings > 0 && crime.overheadEnergyJ > 0);
  assert.ok(Math.abs(crime.energyJ - (perRequest + crime.overheadEnergyJ)) < 1e-5);
  // Part of it is the warm-up's (the first pings go out before any request can arrive), told apart
  // so that crime bench mapping compares it with a live run counted after its warm-up.
  assert.ok(crime.warmUpEnergyJ > 0 && crime.warmUpEnergyJ < crime.overheadEnergyJ);
  for (const cal of Object.values(crime.selfCalibrationRuns)) assert.ok(cal.warmUpRuns <= cal.runs && cal.warmUpMs <= cal.computeMs);
  assert.equal(result.policies.oracle!.overheadEnergyJ, 0);
  assert.equal(result.policies.oracle!.warmUpEnergyJ, 0);
  assert.equal(result.policies['only-cloud']!.served.cloud, 600);
});

test('crime is close to the oracle and beats every single device', () => {
  const { result } = runScenario(scenario());
  assert.ok(result.crimeVsOraclePct <= 0.5, `crime vs oracle ${result.crimeVsOraclePct}%`);
  for (const p of ['only-end-node', 'only-gateway', 'only-cloud']) assert.ok(result.crimeReductionPct[p]! > 0, `${p}: ${result.crimeReductionPct[p]}`);
  // Short inputs stay on the end node, the longest reach the cloud.
  assert.ok(result.policies.crime!.served['end-node']! > 0);
  assert.ok(result.policies.crime!.served.cloud! > 0);
});

test('the hindsight reference, knowing each request\'s real times, beats the oracle when noise is large', () => {
  const noisy = { 'fixedMs: 2.0, offloadTo': 'fixedMs: 2.0, noise: 0.4, offloadTo', 'fixedMs: 5.0, offloadTo': 'fixedMs: 5.0, noise: 0.4, offloadTo' };
  const { result } = runScenario(scenario('', noisy));
  const { oracle, hindsight } = result.policies;
  assert.ok(hindsight!.meanMs < oracle!.meanMs * 0.99, `hindsight ${hindsight!.meanMs} ms, oracle ${oracle!.meanMs} ms`);
  assert.ok(result.crimeVsHindsightPct > result.crimeVsOraclePct);
});

test('the same seed gives the same results; another seed gives another trace', () => {
  const a = runScenario(scenario()).result;
  const b = runScenario(scenario()).result;
  assert.deepEqual(a, b);
  const c = runScenario(scenario('', { 'seed: 3': 'seed: 4' })).result;
  assert.notDeepEqual(a.policies.crime, c.policies.crime);
});

test('a device going down: every policy falls back and nothing fails', () => {
  const { result, records } = runScenario(
    scenario(`events:
  - { atSec: 20, device: cloud, down: true }
  - { atSec: 80, device: cloud, down: false }
`),
  );
  for (const [name, p] of Object.entries(result.policies)) assert.equal(p.failed, 0, name);
  const during = (name: string) => records[name]!.filter((r) => r.arrivalMs > 21_000 + 1000 && r.arrivalMs < 80_000);
  assert.ok(during('only-cloud').every((r) => r.servedBy === 'gateway'), 'only-cloud falls back to the hop before the cloud');
  assert.ok(during('crime').every((r) => r.servedBy !== 'cloud'));
  // After the restart the cloud is found again through pings.
  const after = records.crime!.filter((r) => r.arrivalMs > 90_000 && r.servedBy === 'cloud');
  assert.ok(after.length > 0, 'cloud used again after it came back');
});

test('crime adapts to a slower WAN and a slower gateway', () => {
  const { result, records } = runScenario(
    scenario(`events:
  - { atSec: 40, link: gateway->cloud, rttMs: 300 }
  - { atSec: 80, device: gateway, slowdown: 4 }
`),
  );
  assert.ok(result.crimeVsOraclePct <= 1, `crime vs oracle ${result.crimeVsOraclePct}%`);
  const cloudBetween = records.crime!.filter((r) => r.arrivalMs > 45_000 && r.arrivalMs < 80_000 && r.servedBy === 'cloud');
  const cloudBefore = records.crime!.filter((r) => r.arrivalMs < 40_000 && r.servedBy === 'cloud');
  assert.ok(cloudBefore.length > 0 && cloudBetween.length <= 1, `cloud before ${cloudBefore.length}, after ${cloudBetween.length}`);
});

test('closed-loop clients issue the next request when the last one returns', () => {
  const { result, records } = runScenario(scenario('', { 'arrival: { type: poisson, ratePerSec: 5 }': 'arrival: { type: closed, clients: 1, thinkMs: 100 }' }));
  const crime = records.crime!;
  for (let i = 1; i < crime.length; i++) {
    const prev = crime[i - 1]!;
    assert.ok(Math.abs(crime[i]!.arrivalMs - (prev.arrivalMs + prev.latencyMs + 100)) < 1e-6);
  }
  assert.ok(result.crimeVsOraclePct <= 0.5);
});

test('the energy objective spends less end-node energy than the latency objective', () => {
  const slow = { 'rttMs: 8, bandwidthMbps: 20': 'rttMs: 8, bandwidthMbps: 2' };
  const energy = runScenario(scenario('', { ...slow, 'name: small': 'name: small\nobjective: energy' })).result;
  const latency = runScenario(scenario('', slow)).result;
  assert.ok(energy.policies.crime!.meanEnergyJ < latency.policies.crime!.meanEnergyJ);
  assert.ok(energy.policies.crime!.meanMs >= latency.policies.crime!.meanMs);
});

test('static thresholds partition the input lengths among the reachable devices', () => {
  const { result } = runScenario(scenario());
  const t = result.staticThresholds;
  assert.equal(t[0]!.fromSteps, 1);
  assert.equal(t[t.length - 1]!.toSteps, 200);
  for (let i = 1; i < t.length; i++) assert.equal(t[i]!.fromSteps, t[i - 1]!.toSteps + 1);
});

test('a sweep runs one comparison per RTT value', () => {
  const s = scenario('sweep: { link: end-node->gateway, rttMs: [1, 200] }', { 'requests: 600': 'requests: 200' });
  const { points } = runSweep(s);
  assert.deepEqual(
    points.map((p) => p.rttMs),
    [1, 200],
  );
  // Near: almost everything is offloaded. Far: almost everything stays local.
  assert.ok(points[0]!.policies.crime!.served['end-node']! < 40);
  assert.ok(points[1]!.policies.crime!.served['end-node']! > 160);
});
