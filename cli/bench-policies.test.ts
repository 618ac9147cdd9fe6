import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { UsageError } from '../runtime/errors.js';
import { parseTopology } from '../runtime/topology/topology.js';
import { benchPolicies } from './bench-policies.js';

const topology = parseTopology(readFileSync(fileURLToPath(new URL('../../examples/topologies/three-tier.yaml', import.meta.url)), 'utf8'));

test('crime bench mapping --policies: by default crime, local, threshold and every device the entry reaches', () => {
  assert.deepEqual(benchPolicies(topology, undefined), ['crime', 'local', 'threshold', 'device:gateway', 'device:cloud']);
  assert.deepEqual(benchPolicies(topology, ['device:cloud', 'crime']), ['device:cloud', 'crime']);
});

test('crime bench mapping --policies: refused with the policy and the reason named', () => {
  const cases: Array<[string[], RegExp]> = [
    [['crime', 'cloud'], /--policies: cloud: .*crime, local, threshold or device:<device name>/],
    [['crime', 'device:clod'], /--policies: device:clod: .*names no device/],
    [['local', 'threshold'], /--policies must include crime/],
    [['crime', 'local', 'local'], /--policies: each policy once/],
  ];
  for (const [given, message] of cases) {
    assert.throws(() => benchPolicies(topology, given), (err: unknown) => err instanceof UsageError && message.test(err.message), given.join(','));
  }
});
