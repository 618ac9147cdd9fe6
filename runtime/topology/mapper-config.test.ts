import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { MAPPER_DEFAULTS } from '../defaults.js';
import { formatMapperConfig, parseMapperConfig } from '../mapper/config.js';
import { InvalidInputError } from '../validate.js';
import { renderMapperConfig, type DeviceAddresses } from './mapper-config.js';
import { parseTopology } from './topology.js';

const topology = parseTopology(readFileSync(fileURLToPath(new URL('../../../examples/topologies/three-tier.yaml', import.meta.url)), 'utf8'));
const addresses: DeviceAddresses = {
  listen: { host: '0.0.0.0', port: 8080 },
  runtimeUrl: 'http://127.0.0.1:8081',
  neighbourUrl: (name) => `http://${name}.crime.svc:8080`,
  tokenFile: '/var/run/crime/token',
};

test('the entry serves clients openly with the topology objective; the others need the token and route for latency', () => {
  const energy = { ...topology, objective: 'energy' as const };
  const entry = renderMapperConfig(energy, 'end-node', addresses);
  assert.equal(entry.objective, 'energy');
  assert.deepEqual(entry.auth, { tokenFile: '/var/run/crime/token', clients: false });
  assert.deepEqual(entry.power, { activeW: 2.5, idleW: 0.4, txW: 1.3, rxW: 1.1 });
  const gateway = renderMapperConfig(energy, 'gateway', addresses);
  assert.equal(gateway.objective, 'latency');
  assert.deepEqual(gateway.auth, { tokenFile: '/var/run/crime/token', clients: true });
});

test('neighbours, mapping settings and limits come from the topology, the addresses and the defaults', () => {
  const gateway = renderMapperConfig(topology, 'gateway', addresses);
  assert.deepEqual(gateway.neighbours, [{ name: 'cloud', url: 'http://cloud.crime.svc:8080' }]);
  assert.deepEqual(gateway.mapping, { pingIdleSeconds: 2, forgetting: 0.98, requestTimeoutMs: 5000, selfCalibration: { budget: 0.02, idleSeconds: 5, tolerance: 0.2 }, policy: 'crime' });
  const tuned = { ...topology, mapping: { ...topology.mapping, selfCalibration: { budget: 0, idleSeconds: 30, tolerance: 0.5 } } };
  assert.deepEqual(renderMapperConfig(tuned, 'gateway', addresses).mapping.selfCalibration, { budget: 0, idleSeconds: 30, tolerance: 0.5 });
  assert.equal(gateway.maxSteps, 1000);
  const { port: _port, ...limits } = MAPPER_DEFAULTS;
  assert.deepEqual(gateway.limits, limits);
  assert.deepEqual(renderMapperConfig(topology, 'cloud', addresses).neighbours, []);
});

test('every mapper gets the policy; under device:<name> each knows its next hop towards that device', () => {
  const pinned = { ...topology, mapping: { ...topology.mapping, policy: 'device:cloud' as const } };
  const via = topology.devices.map((d) => [d.name, renderMapperConfig(pinned, d.name, addresses).via]);
  assert.deepEqual(via, [['end-node', 'gateway'], ['gateway', 'cloud'], ['cloud', undefined]]);
  for (const d of topology.devices) assert.equal(renderMapperConfig(pinned, d.name, addresses).mapping.policy, 'device:cloud');
  const local = { ...topology, mapping: { ...topology.mapping, policy: 'local' as const } };
  assert.equal(renderMapperConfig(local, 'end-node', addresses).via, undefined);
  assert.equal(renderMapperConfig(local, 'end-node', addresses).mapping.policy, 'local');
  // The checksum covers the policy: a file whose policy was edited is refused.
  const text = formatMapperConfig(renderMapperConfig(pinned, 'end-node', addresses));
  assert.throws(() => parseMapperConfig(text.replace('policy: device:cloud', 'policy: local')), /checksum/);
});

test('a rendered configuration survives its file format unchanged', () => {
  for (const d of topology.devices) {
    for (const policy of ['crime', 'device:cloud'] as const) {
      const config = renderMapperConfig({ ...topology, mapping: { ...topology.mapping, policy }, model: { ...topology.model, stepBytes: 512, outputBytes: 8 } }, d.name, addresses);
      assert.deepEqual(parseMapperConfig(formatMapperConfig(config)), config);
    }
  }
});

test('the runtime must be on loopback or a Unix socket: it answers anyone who reaches it', () => {
  for (const runtimeUrl of ['http://127.0.0.1:8081', 'http://localhost:8081', 'http://[::1]:8081', 'unix:/var/run/crime/sock/runtime.sock']) {
    assert.equal(renderMapperConfig(topology, 'cloud', { ...addresses, runtimeUrl }).runtimeUrl, runtimeUrl);
  }
  assert.equal(renderMapperConfig(topology, 'cloud', { ...addresses, runtimeUrl: 'unix:///run/r.sock' }).runtimeUrl, 'unix:/run/r.sock');
  const socket = renderMapperConfig(topology, 'gateway', { ...addresses, runtimeUrl: 'unix:/var/run/crime/sock/runtime.sock' });
  assert.deepEqual(parseMapperConfig(formatMapperConfig(socket)), socket);
  for (const [runtimeUrl, message] of [
    ['http://10.1.2.3:8081', /runtimeUrl: .*loopback or through a Unix socket/],
    ['http://gateway.crime.svc:8081', /runtimeUrl: .*loopback or through a Unix socket/],
    ['unix:relative.sock', /runtimeUrl: .*absolute path/],
    ['127.0.0.1:8081', /runtimeUrl: .*not a URL/],
  ] as const) {
    assert.throws(() => renderMapperConfig(topology, 'cloud', { ...addresses, runtimeUrl }), (err: unknown) => err instanceof InvalidInputError && message.test(err.message), runtimeUrl);
  }
});

test('an unknown device is an invalid input naming it', () => {
  assert.throws(() => renderMapperConfig(topology, 'edge-9', addresses), (err: unknown) => err instanceof InvalidInputError && /no device "edge-9"/.test(err.message));
});
