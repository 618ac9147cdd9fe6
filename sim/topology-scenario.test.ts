import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { parseTopology } from '../runtime/topology/topology.js';
import { InvalidInputError } from '../runtime/validate.js';
import { parseLoadFile } from './load-file.js';
import { runScenario } from './run.js';
import { LIVE_OVERHEAD, scenarioFromTopology } from './topology-scenario.js';

const read = (path: string): string => readFileSync(fileURLToPath(new URL(`../../examples/${path}`, import.meta.url)), 'utf8');
const topology = parseTopology(read('topologies/three-tier.yaml'));
const load = parseLoadFile(read('loads/link-slowdown.yaml'));
const local = {
  devices: [
    { name: 'end-node', emulate: { perStepMs: 1, fixedMs: 5 } },
    { name: 'gateway', emulate: { perStepMs: 0.2, fixedMs: 10 } },
  ],
  links: [{ from: 'end-node', to: 'gateway', rttMs: 40, bandwidthMbps: 50 }],
};
const payload = { stepBytes: 4, outputBytes: 624, overheadBytes: 400 };

test('the scenario crime up would run: devices, links, payload, mapping, trace and events', () => {
  const s = scenarioFromTopology({ topology, local, load, payload, measured: { cloud: { perStepMs: 0.005, fixedMs: 0.1 } } });
  assert.equal(s.name, 'imdb-sentiment/link-slowdown');
  assert.equal(s.objective, 'latency');
  assert.deepEqual(s.devices.map((d) => [d.name, d.entry, d.perStepMs, d.fixedMs, d.offloadTo]), [
    ['end-node', true, 1, 5, ['gateway']],
    ['gateway', false, 0.2, 10, ['cloud']],
    ['cloud', false, 0.005, 0.1, []],
  ]);
  assert.deepEqual(s.devices[0]!.power, { activeW: 2.5, idleW: 0.4, txW: 1.3, rxW: 1.1 });
  // A link the local settings leave out is a plain loopback hop.
  assert.deepEqual(s.links.map((l) => [l.from, l.to, l.rttMs, l.bandwidthMbps]), [['end-node', 'gateway', 40, 50], ['gateway', 'cloud', 0, Infinity]]);
  assert.deepEqual(s.payload, payload);
  assert.deepEqual(s.mapping, { forgetting: 0.98, pingIdleSeconds: 2, maxSteps: 1000, selfCalibration: { budget: 0.02, idleSeconds: 5, tolerance: 0.2 } });
  assert.deepEqual([s.seed, s.requests, s.events.length], [1, 240, 2]);
  assert.deepEqual(s.overhead, LIVE_OVERHEAD);
  const r = runScenario(s).result;
  assert.equal(r.policies.crime?.failed, 0);
});

test('a device that runs at this machine\'s speed needs its measured speed', () => {
  assert.throws(
    () => scenarioFromTopology({ topology, local, load, payload }),
    (e: unknown) => e instanceof InvalidInputError && e.field === 'spec.devices[2]' && /cloud runs at this machine's speed/.test(e.message),
  );
});

test('the overhead a live run adds shows in every simulated request, and in the links CRIME learns', () => {
  const measured = { cloud: { perStepMs: 0.005, fixedMs: 0.1 } };
  const base = runScenario(scenarioFromTopology({ topology, local, load, payload, measured, overhead: { requestMs: 0, serveMs: 0, hopMs: 0 } })).result;
  const slow = runScenario(scenarioFromTopology({ topology, local, load, payload, measured, overhead: { requestMs: 3, serveMs: 2, hopMs: 0 } })).result;
  assert.ok(Math.abs((slow.policies['only-end-node']!.meanMs - base.policies['only-end-node']!.meanMs) - 5) < 1e-6);
  const hops = runScenario(scenarioFromTopology({ topology, local, load, payload, measured, overhead: { requestMs: 0, serveMs: 0, hopMs: 10 } })).result;
  assert.ok(Math.abs((hops.policies['only-cloud']!.meanMs - base.policies['only-cloud']!.meanMs) - 20) < 0.5, 'two hops to the cloud, 10 ms each');
});
