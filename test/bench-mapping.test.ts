/**
 * `crime bench mapping` end to end, short: two policies (crime and local) as real local topologies,
 * a few hundred requests of one trace with an event, the simulator beside them. What must hold
 * whatever the machine's load: every policy saw the identical trace, and the table's arithmetic is
 * right. (The bench's figures themselves are benchmarks, docs/mapping-bench.md; nothing is timed here.)
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { stringify } from 'yaml';
import { runMappingBench } from '../bench/mapping.js';
import { plotMappingBench } from '../bench/mapping-report.js';
import { parseLocalSettings } from '../local/settings.js';
import { payloadOf } from '../runtime/mapper/payload.js';
import { parseTopology } from '../runtime/topology/topology.js';
import { parseLoadFile } from '../sim/load-file.js';
import { measureModel } from '../sim/measure-speed.js';
import { START_MS, buildTrace } from '../sim/trace.js';
import { scenarioFromTopology } from '../sim/topology-scenario.js';

const EXAMPLES = fileURLToPath(new URL('../../examples/', import.meta.url));

const LOCAL = {
  devices: [
    { name: 'end-node', perStepMs: 0.2, fixedMs: 1 },
    { name: 'gateway', perStepMs: 0.05, fixedMs: 2 },
    { name: 'cloud', perStepMs: 0.01, fixedMs: 2 },
  ],
  links: [
    { from: 'end-node', to: 'gateway', rttMs: 5, bandwidthMbps: 100 },
    { from: 'gateway', to: 'cloud', rttMs: 10, bandwidthMbps: 100 },
  ],
};

const LOAD = `name: short
seed: 7
requests: 200
arrival: { type: poisson, ratePerSec: 40 }
lengths: { type: lognormal, median: 40, sigma: 1, min: 1, max: 600 }
events:
  - { atSec: 2, link: end-node->gateway, rttMs: 40 }
`;

/** Runs the bench with crime and local on an example topology, the emulated LOCAL devices and `loadText`. */
async function benchOn(topologyFile: string, loadText: string) {
  const topology = parseTopology(readFileSync(`${EXAMPLES}topologies/${topologyFile}`, 'utf8'));
  const settings = parseLocalSettings(stringify(LOCAL), topology);
  const load = parseLoadFile(loadText);
  const { info } = await measureModel({ location: `${EXAMPLES}models/imdb1x128.onnx`, format: 'onnx', maxSteps: topology.model.maxSteps });
  const run = { topology, local: settings, load, payload: payloadOf(undefined, info) };
  const r = await runMappingBench({ topology, baseDir: `${EXAMPLES}topologies`, settings, load, run, policies: ['crime', 'local'] });
  return { topology, run, r };
}

test('crime bench mapping: two policies replay the identical trace, and the table adds up', { timeout: 240_000 }, async () => {
  const { topology, run, r } = await benchOn('three-tier.yaml', LOAD);

  // The identical trace: same ids, lengths and due times as the simulator's trace; same bodies (hashed by the replay).
  assert.equal(r.identicalTrace, true);
  const trace = buildTrace(scenarioFromTopology(run), START_MS);
  for (const policy of ['crime', 'local']) {
    assert.deepEqual(r.records[policy]!.map((o) => [o.id, o.n, o.atMs]), trace.map((t) => [t.id, t.n, t.arrivalMs - START_MS]), policy);
    assert.deepEqual(r.simRecords[policy]!.map((o) => [o.id, o.n]), trace.map((t) => [t.id, t.n]), `${policy}, simulated`);
  }
  assert.deepEqual(Object.keys(r.policies.local!.servedBy), ['end-node']);

  // The arithmetic, from the per-request records.
  const mean = (xs: number[]): number => xs.reduce((a, b) => a + b, 0) / xs.length;
  for (const policy of ['crime', 'local']) {
    const served = r.records[policy]!.filter((o) => o.servedBy !== null);
    assert.ok(Math.abs(r.policies[policy]!.meanMs - mean(served.map((o) => o.latencyMs))) < 1e-3, policy);
    const energy = (r.records[policy]!.reduce((a, o) => a + o.energyJ, 0) + r.policies[policy]!.overheadEnergyJ) / r.records[policy]!.length;
    assert.ok(Math.abs(r.policies[policy]!.meanEnergyJ - energy) < 1e-6, policy);
    assert.equal(r.policies[policy]!.failed, r.records[policy]!.length - served.length);
  }
  const local = r.policies.local!.meanMs;
  const crime = r.policies.crime!.meanMs;
  assert.ok(Math.abs(r.crimeReductionPct.local! - (100 * (local - crime)) / local) < 1e-2);
  // With one single-device policy the hindsight bound is that policy, request by request.
  assert.ok(Math.abs(r.hindsight.meanMs - local) < 1e-2);
  assert.ok(Math.abs(r.crimeVsHindsightPct - (100 * (crime - local)) / local) < 1e-2);
  assert.equal(r.bestFixed, 'local');
  assert.ok(Math.abs(r.crimeVsBestFixedPct - r.crimeVsHindsightPct) < 1e-2);
  // The prediction beside it, computed the same way, and how far apart.
  const s = r.savings.local!;
  assert.equal(s.livePct, r.crimeReductionPct.local);
  assert.equal(s.simPct, r.sim.crimeReductionPct.local);
  assert.ok(Math.abs(s.relativeDiffPct - (100 * (s.livePct - s.simPct)) / Math.abs(s.simPct)) < 1e-2);
  assert.ok(r.overhead.requestMs >= 0 && r.overhead.serveMs >= 0 && r.overhead.hopMs >= 0);

  // CRIME's entry outside requests: the same energy the table charges it, live and simulated.
  assert.ok(Math.abs(r.crimeEntryOverhead.live.energyJ - r.policies.crime!.overheadEnergyJ) < 1e-6);
  assert.ok(Math.abs(r.crimeEntryOverhead.sim.energyJ - r.sim.policies.crime!.overheadEnergyJ) < 1e-6);
  assert.ok(r.crimeEntryOverhead.live.selfCalibrations >= 0 && (r.crimeEntryOverhead.live.selfCalibrations === 0) === (r.crimeEntryOverhead.live.selfCalibrationMs === 0));

  // --plot: CRIME's live mapping above the simulated one, a dot per request, coloured by the serving device.
  const devices = topology.devices.map((d) => d.name);
  const svg = plotMappingBench(r, devices);
  const live = svg.indexOf('live: CRIME');
  const simulated = svg.indexOf('simulated (crime sim --topology)');
  assert.ok(live > 0 && simulated > live, 'live panel above the simulated one');
  const dots = (part: string): string[] => [...part.matchAll(/<circle [^>]*fill="(#[0-9a-f]+)"/g)].map((m) => m[1]!);
  assert.equal(dots(svg.slice(live, simulated)).length, r.records.crime!.length);
  assert.equal(dots(svg.slice(simulated)).length, r.simRecords.crime!.length);
  const colours = (records: typeof r.records.crime): Set<number> => new Set(records!.map((o) => (o.servedBy === null ? -1 : devices.indexOf(o.servedBy))));
  assert.equal(new Set(dots(svg.slice(live, simulated))).size, colours(r.records.crime).size);
});

test('crime bench mapping under the energy objective: settles on an entry that pings only as its requests pay, and charges those pings', { timeout: 240_000 }, async () => {
  const { r } = await benchOn('three-tier-energy.yaml', LOAD.replace('requests: 200', 'requests: 60'));

  assert.equal(r.identicalTrace, true);
  assert.equal(r.records.crime!.length, 60);
  assert.equal(r.policies.crime!.failed, 0);
  // The energy table: CRIME's mean energy per request includes what its entry spent outside requests.
  const records = r.records.crime!;
  const perRequest = (records.reduce((a, o) => a + o.energyJ, 0) + r.policies.crime!.overheadEnergyJ) / records.length;
  assert.ok(Math.abs(r.policies.crime!.meanEnergyJ - perRequest) < 1e-6);
  assert.ok(Math.abs(r.crimeEntryOverhead.live.energyJ - r.policies.crime!.overheadEnergyJ) < 1e-6);
});
