import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseScenario } from './scenario.js';
import { InvalidInputError } from '../runtime/validate.js';

const BASE = `
name: t
requests: 10
arrival: { type: poisson, ratePerSec: 5 }
lengths: { type: uniform, min: 1, max: 50 }
payload: { stepBytes: 1200 }
devices:
  - { name: end, entry: true, perStepMs: 3, fixedMs: 2, offloadTo: [gw], power: { activeW: 2.5, idleW: 0.4, txW: 1.3, rxW: 1.1 } }
  - { name: gw, perStepMs: 0.4, offloadTo: [cloud] }
  - { name: cloud, perStepMs: 0.03, fixedMs: 1.5 }
links:
  - { from: end, to: gw, rttMs: 8, bandwidthMbps: 20 }
  - { from: gw, to: cloud, rttMs: 40, bandwidthMbps: 100 }
`;

function rejects(text: string, field: string, message: RegExp): void {
  assert.throws(
    () => parseScenario(text),
    (err: unknown) => {
      assert.ok(err instanceof InvalidInputError, `not an InvalidInputError: ${String(err)}`);
      assert.equal(err.field, field);
      assert.match(err.message, message);
      return true;
    },
  );
}

test('a valid scenario gets its defaults', () => {
  const s = parseScenario(BASE);
  assert.equal(s.objective, 'latency');
  assert.equal(s.seed, 1);
  assert.equal(s.payload.outputBytes, 8);
  assert.deepEqual(s.mapping, { forgetting: 0.98, pingIdleSeconds: 5, maxSteps: 50, selfCalibration: { budget: 0.02, idleSeconds: 5, tolerance: 0.2 } });
  assert.equal(s.devices[1]!.fixedMs, 0);
  assert.equal(s.devices[1]!.noise, 0.05);
  assert.equal(s.links[0]!.jitter, 0.05);
  assert.deepEqual(s.events, []);
});

test('events, sweeps and closed-loop arrivals parse', () => {
  const s = parseScenario(
    BASE.replace('arrival: { type: poisson, ratePerSec: 5 }', 'arrival: { type: closed, clients: 2, thinkMs: 10 }') +
      `events:
  - { atSec: 3, link: gw->cloud, rttMs: 200 }
  - { atSec: 4, device: cloud, slowdown: 3 }
  - { atSec: 5, device: cloud, down: true }
sweep: { link: "end -> gw", rttMs: [1, 10] }
`,
  );
  assert.deepEqual(s.arrival, { type: 'closed', clients: 2, thinkMs: 10 });
  assert.deepEqual(s.events[0], { atSec: 3, kind: 'link', from: 'gw', to: 'cloud', rttMs: 200 });
  assert.deepEqual(s.events[2], { atSec: 5, kind: 'device', device: 'cloud', down: true });
  assert.deepEqual(s.sweep, { link: 'end -> gw', rttMs: [1, 10] });
});

test('repeating events expand in time order, cycling through listed values', () => {
  const s = parseScenario(
    `${BASE}events:
  - { atSec: 10, everySec: 2, untilSec: 16, link: gw->cloud, rttMs: [150, 20] }
  - { atSec: 11, device: cloud, slowdown: 2 }
  - { atSec: 0, everySec: 5, untilSec: 10, device: gw, slowdown: [1.5, 2, 3] }
`,
  );
  assert.deepEqual(
    s.events.map((e) => [e.atSec, e.kind === 'link' ? e.rttMs : e.slowdown]),
    [[0, 1.5], [5, 2], [10, 150], [10, 3], [11, 2], [12, 20], [14, 150], [16, 20]],
  );
  rejects(`${BASE}events:\n  - { atSec: 1, link: gw->cloud, rttMs: [1, 2] }\n`, 'events[0].rttMs', /needs everySec and untilSec/);
  rejects(`${BASE}events:\n  - { atSec: 1, everySec: 1, link: gw->cloud, rttMs: 2 }\n`, 'events[0].untilSec', /is required/);
  rejects(`${BASE}events:\n  - { atSec: 0, everySec: 0.001, untilSec: 1000, link: gw->cloud, rttMs: 2 }\n`, 'events[0]', /at most 100000/);
  rejects(`${BASE}events:\n  - { atSec: 0, everySec: 1, untilSec: 3, device: nope, slowdown: [1, 2] }\n`, 'events[0].device', /unknown device "nope"/);
});

test('bad YAML is reported with its line, not a stack trace', () => {
  rejects('name: [unclosed\nrequests: 3', '', /not valid YAML/);
});

test('unknown devices in links, offloads and events are named', () => {
  rejects(BASE.replace('{ from: gw, to: cloud,', '{ from: gw, to: clod,'), 'links[1].to', /unknown device "clod"/);
  rejects(BASE.replace('offloadTo: [cloud]', 'offloadTo: [clod]'), 'devices[1].offloadTo[0]', /unknown device "clod"/);
  rejects(`${BASE}events:\n  - { atSec: 1, device: nope, slowdown: 2 }\n`, 'events[0].device', /unknown device "nope"/);
  rejects(`${BASE}events:\n  - { atSec: 1, link: end->cloud, rttMs: 2 }\n`, 'events[0].link', /unknown link end->cloud/);
});

test('negative and non-numeric values are rejected with the field', () => {
  rejects(BASE.replace('perStepMs: 0.4', 'perStepMs: -0.4'), 'devices[1].perStepMs', /must be a number ≥ 0, got -0.4/);
  rejects(BASE.replace('rttMs: 8', 'rttMs: fast'), 'links[0].rttMs', /got "fast"/);
  rejects(BASE.replace('requests: 10', 'requests: 2.5'), 'requests', /integer/);
  rejects(BASE.replace('ratePerSec: 5', 'ratePerSec: 0'), 'arrival.ratePerSec', /> 0/);
  rejects(`${BASE}events:\n  - { atSec: -1, device: gw, slowdown: 2 }\n`, 'events[0].atSec', /≥ 0/);
});

test('topology rules: one entry, unique names, no self or cyclic offloads, links match offloads', () => {
  rejects(BASE.replace('entry: true, ', ''), 'devices', /exactly one device must have entry: true \(found 0\)/);
  rejects(BASE.replace('{ name: gw, perStepMs: 0.4,', '{ name: gw, entry: true, perStepMs: 0.4,'), 'devices', /found 2/);
  rejects(BASE.replace('{ name: cloud,', '{ name: gw,'), 'devices[2].name', /duplicate device name "gw"/);
  rejects(BASE.replace('offloadTo: [cloud]', 'offloadTo: [gw]'), 'devices[1].offloadTo[0]', /cannot offload to itself/);
  rejects(
    BASE.replace('{ name: cloud, perStepMs: 0.03, fixedMs: 1.5 }', '{ name: cloud, perStepMs: 0.03, offloadTo: [gw] }') +
      '  - { from: cloud, to: gw, rttMs: 1, bandwidthMbps: 1 }\n',
    'devices',
    /cycle: gw -> cloud -> gw|cycle: end -> gw -> cloud -> gw/,
  );
  rejects(BASE.replace('offloadTo: [cloud]', 'offloadTo: []'), 'links[1]', /gw does not offload to cloud/);
  rejects(BASE.replace('  - { from: gw, to: cloud, rttMs: 40, bandwidthMbps: 100 }\n', ''), 'devices[1].offloadTo[0]', /no link gw->cloud/);
  rejects(`${BASE}events:\n  - { atSec: 1, device: end, down: true }\n`, 'events[0].down', /entry device cannot go down/);
});

test('unknown fields are typos, not silently ignored', () => {
  rejects(BASE.replace('perStepMs: 0.4', 'perStepMS: 0.4'), 'devices[1].perStepMS', /unknown field/);
  rejects(`${BASE}evnts: []\n`, 'evnts', /unknown field/);
});

test('the energy objective needs the entry device\'s power model', () => {
  rejects(
    BASE.replace('name: t', 'name: t\nobjective: energy').replace(', power: { activeW: 2.5, idleW: 0.4, txW: 1.3, rxW: 1.1 }', ''),
    'devices',
    /objective energy needs power/,
  );
  rejects(BASE.replace('name: t', 'name: t\nobjective: speed'), 'objective', /one of latency, energy/);
});

test('maxSteps must cover the longest input', () => {
  rejects(`${BASE}mapping: { maxSteps: 20 }\n`, 'mapping.maxSteps', /at least the longest input \(50\)/);
});

test('a mixture of lognormal lengths (bimodal inputs) parses, and its bad parts are named', () => {
  const mix = 'lengths: { type: mixture, parts: [{ weight: 0.7, median: 8, sigma: 0.4 }, { weight: 0.3, median: 120, sigma: 0.5 }], max: 400 }';
  const s = parseScenario(BASE.replace('lengths: { type: uniform, min: 1, max: 50 }', mix));
  assert.deepEqual(s.lengths, { type: 'mixture', parts: [{ weight: 0.7, median: 8, sigma: 0.4 }, { weight: 0.3, median: 120, sigma: 0.5 }], min: 1, max: 400 });
  assert.equal(s.mapping.maxSteps, 400);
  rejects(BASE.replace('lengths: { type: uniform, min: 1, max: 50 }', mix.replace('weight: 0.3', 'weight: 0')), 'lengths.parts[1].weight', /> 0/);
  rejects(BASE.replace('lengths: { type: uniform, min: 1, max: 50 }', 'lengths: { type: mixture, parts: [], max: 9 }'), 'lengths.parts', /must not be empty/);
});

test('a device\'s serving and true batch cost: off and no gain by default, the runtime\'s bounds, the field named', () => {
  const s = parseScenario(BASE);
  assert.deepEqual([s.devices[2]!.serving, s.devices[2]!.batchMarginal], [{ maxBatch: 1, maxDelayMs: 0, concurrency: 1 }, 1]);
  const batching = parseScenario(BASE.replace('{ name: cloud, perStepMs: 0.03, fixedMs: 1.5 }', '{ name: cloud, perStepMs: 0.03, fixedMs: 1.5, batchMarginal: 0.02, serving: { maxBatch: 64, concurrency: 2 } }'));
  assert.deepEqual([batching.devices[2]!.serving, batching.devices[2]!.batchMarginal], [{ maxBatch: 64, maxDelayMs: 0, concurrency: 2 }, 0.02]);
  const cloud = (extra: string): string => BASE.replace('{ name: cloud, perStepMs: 0.03, fixedMs: 1.5 }', `{ name: cloud, perStepMs: 0.03, fixedMs: 1.5, ${extra} }`);
  rejects(cloud('serving: { maxBatch: 0 }'), 'devices[2].serving.maxBatch', /≥ 1 and ≤ 1024/);
  rejects(cloud('serving: { concurrency: 0 }'), 'devices[2].serving.concurrency', /≥ 1/);
  rejects(cloud('serving: { maxDelayMs: -1 }'), 'devices[2].serving.maxDelayMs', /≥ 0/);
  rejects(cloud('batchMarginal: -0.1'), 'devices[2].batchMarginal', /≥ 0/);
});
