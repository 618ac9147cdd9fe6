import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseTopology } from '../runtime/topology/topology.js';
import { emulationOf, linkFor, parseLocalSettings } from './settings.js';

const dir = fileURLToPath(new URL('../../examples/topologies/', import.meta.url));
const topology = parseTopology(readFileSync(`${dir}three-tier.yaml`, 'utf8'));

test('the example settings give links and emulated devices; the rest defaults', () => {
  const s = parseLocalSettings(readFileSync(`${dir}three-tier.local.yaml`, 'utf8'), topology);
  assert.deepEqual(linkFor(s, 'end-node', 'gateway'), { rttMs: 10, bandwidthMbps: 50 });
  assert.deepEqual(emulationOf(s, 'gateway'), { perStepMs: 0.05, fixedMs: 3 });
  assert.equal(emulationOf(s, 'cloud'), undefined);
  const empty = parseLocalSettings('', topology);
  assert.deepEqual(linkFor(empty, 'gateway', 'cloud'), { rttMs: 0, bandwidthMbps: Infinity });
});

test('settings must match the topology', () => {
  assert.throws(() => parseLocalSettings('links: [{ from: cloud, to: gateway, rttMs: 5 }]', topology), /cloud does not offload to gateway/);
  assert.throws(() => parseLocalSettings('devices: [{ name: phone, perStepMs: 1 }]', topology), /devices\[0\]\.name: unknown device "phone"/);
  assert.throws(() => parseLocalSettings('devices: [{ name: gateway, slowdown: 3 }]', topology), /unknown field/);
  assert.throws(() => parseLocalSettings('links: [{ from: end-node, to: gateway, rttMs: -1 }]', topology), /rttMs: must be a number ≥ 0/);
  // Timers overflow past 2^31 ms and would make such a link instant.
  assert.throws(() => parseLocalSettings('links: [{ from: end-node, to: gateway, rttMs: 1e10 }]', topology), /rttMs: must be a number ≥ 0 and ≤ 600000/);
  assert.throws(() => parseLocalSettings('links: [{ from: end-node, to: gateway, rttMs: 1, bandwidthMbps: 1e300 }]', topology), /bandwidthMbps: must be/);
});
