import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { quantityValue } from './placement.js';
import { parseTopology } from './topology.js';
import { InvalidInputError } from '../validate.js';

const EXAMPLE = readFileSync(fileURLToPath(new URL('../../../examples/topologies/three-tier.yaml', import.meta.url)), 'utf8');

test('the example topology parses with its defaults', () => {
  const t = parseTopology(EXAMPLE);
  assert.equal(t.name, 'imdb-sentiment');
  assert.equal(t.model.maxSteps, 1000);
  assert.deepEqual(
    t.devices.map((d) => [d.name, d.tier, d.entry, d.offloadTo, d.backend, d.gpus]),
    [
      ['end-node', 'edge', true, ['gateway'], 'auto', 0],
      ['gateway', 'gateway', false, ['cloud'], 'auto', 0],
      ['cloud', 'cloud', false, [], 'auto', 1],
    ],
  );
});

test('the mapping policy defaults to crime; local, threshold and any device the entry reaches are accepted', () => {
  assert.equal(parseTopology(EXAMPLE).mapping.policy, 'crime');
  for (const policy of ['crime', 'local', 'threshold', 'device:cloud', 'device:gateway', 'device:end-node']) {
    assert.equal(parseTopology(EXAMPLE.replace('forgetting: 0.98', `forgetting: 0.98\n    policy: ${policy}`)).mapping.policy, policy);
  }
});

test('invalid topologies are refused with the field named', () => {
  const cases: Array<[string, string, RegExp]> = [
    [EXAMPLE.replace('kind: RnnTopology', 'kind: Deployment'), 'kind', /RnnTopology/],
    [EXAMPLE.replace('offloadTo: [cloud]', 'offloadTo: [clod]'), 'spec.devices[1].offloadTo[0]', /unknown device "clod"/],
    [EXAMPLE.replace('offloadTo: [cloud]', 'offloadTo: [gateway]'), 'spec.devices[1].offloadTo[0]', /itself/],
    [EXAMPLE.replace('entry: true', 'entry: false'), 'spec.devices', /exactly one device must have entry: true/],
    [EXAMPLE.replace('- name: cloud', '- name: gateway'), 'spec.devices[2].name', /duplicate device name/],
    [EXAMPLE.replace('- name: cloud', '- name: Cloud_1'), 'spec.devices[2].name', /DNS label/],
    [EXAMPLE.replace('maxSteps: 1000', 'maxSteps: 0'), 'spec.model.maxSteps', /≥ 1/],
    [EXAMPLE.replace('format: onnx', 'format: pt'), 'spec.model.format', /onnx, tfjs/],
    [EXAMPLE.replace('objective: latency', 'objective: energy').replace('power: { activeW: 2.5, idleW: 0.4, txW: 1.3, rxW: 1.1 }', ''), 'spec.devices', /energy needs power/],
    [EXAMPLE.replace('      gpus: 1', '      gpus: 1\n      offloadTo: [end-node]'), 'spec.devices', /cycle: end-node -> gateway -> cloud -> end-node/],
    [EXAMPLE.replace('forgetting: 0.98', 'forgetting: 0.98\n    policy: cloud'), 'spec.mapping.policy', /crime, local, threshold or device:<device name>, got "cloud"/],
    [EXAMPLE.replace('forgetting: 0.98', 'forgetting: 0.98\n    policy: device:clod'), 'spec.mapping.policy', /names no device of spec.devices \("clod"\)/],
    [EXAMPLE.replace('forgetting: 0.98', 'forgetting: 0.98\n    policy: device:spare').replace('  devices:\n', '  devices:\n    - { name: spare, offloadTo: [cloud] }\n'), 'spec.mapping.policy', /the entry cannot reach along offloadTo \("spare" from end-node\)/],
  ];
  for (const [text, field, message] of cases) {
    assert.throws(
      () => parseTopology(text),
      (err: unknown) => err instanceof InvalidInputError && err.field === field && message.test(err.message),
      `${field}: ${message}`,
    );
  }
});

test('serving defaults depend on the device; written fields override them, one by one', () => {
  const t = parseTopology(EXAMPLE);
  assert.deepEqual(t.devices.map((d) => [d.name, d.serving]), [
    ['end-node', { maxBatch: 1, maxDelayMs: 0, concurrency: 1 }],
    ['gateway', { maxBatch: 1, maxDelayMs: 0, concurrency: 1 }],
    ['cloud', { maxBatch: 64, maxDelayMs: 0, concurrency: 2 }],
  ]);
  const cpuCloud = parseTopology(EXAMPLE.replace('      gpus: 1', '      gpus: 0\n      serving: { concurrency: 2 }'));
  assert.deepEqual(cpuCloud.devices[2]?.serving, { maxBatch: 16, maxDelayMs: 0, concurrency: 2 });
  const edge = parseTopology(EXAMPLE.replace('      tier: edge', '      tier: edge\n      serving: { maxBatch: 8, maxDelayMs: 0.5 }'));
  assert.deepEqual(edge.devices[0]?.serving, { maxBatch: 8, maxDelayMs: 0.5, concurrency: 1 });
});

test('bad serving settings are refused with the field named', () => {
  const cases: Array<[string, string, RegExp]> = [
    ['serving: { maxBatch: 0 }', 'spec.devices[2].serving.maxBatch', /an integer ≥ 1 and ≤ 1024, got 0/],
    ['serving: { maxBatch: 1025 }', 'spec.devices[2].serving.maxBatch', /≤ 1024, got 1025/],
    ['serving: { maxBatch: 2.5 }', 'spec.devices[2].serving.maxBatch', /an integer/],
    ['serving: { maxDelayMs: -1 }', 'spec.devices[2].serving.maxDelayMs', /≥ 0/],
    ['serving: { maxDelayMs: 1001 }', 'spec.devices[2].serving.maxDelayMs', /≤ 1000/],
    ['serving: { concurrency: 0 }', 'spec.devices[2].serving.concurrency', /≥ 1/],
    ['serving: { concurrency: 65 }', 'spec.devices[2].serving.concurrency', /≤ 64/],
    ['serving: { batch: 8 }', 'spec.devices[2].serving.batch', /unknown field/],
    ['serving: 8', 'spec.devices[2].serving', /must be a mapping/],
  ];
  for (const [line, field, message] of cases) {
    assert.throws(
      () => parseTopology(EXAMPLE.replace('      gpus: 1', `      gpus: 1\n      ${line}`)),
      (err: unknown) => err instanceof InvalidInputError && err.field === field && message.test(err.message),
      `${field}: ${message}`,
    );
  }
});

const CLUSTER_EXAMPLE = readFileSync(fileURLToPath(new URL('../../../examples/topologies/three-tier-cluster.yaml', import.meta.url)), 'utf8');

test('placement, resources, replicas and the model digest parse into what an operator renders', () => {
  const t = parseTopology(CLUSTER_EXAMPLE);
  assert.deepEqual(t.model.source, { kind: 'pvc', claim: 'crime-models', path: 'imdb1x128.onnx' });
  assert.equal(t.model.sha256, 'ab0e6e6214b705cc985d9ca3b9f6b0f17d936d52608a0e6a0da25ff8b8d1c92c');
  const [end, gateway, cloud] = t.devices;
  assert.deepEqual(end?.placement, { nodeSelector: { 'kubernetes.io/arch': 'arm64', 'crime.dev/tier': 'edge' }, tolerations: [] });
  assert.deepEqual(end?.resources, { requests: { cpu: '500m', memory: '256Mi' }, limits: { cpu: '1', memory: '512Mi' } });
  assert.deepEqual(gateway?.resources, { requests: { cpu: '1', memory: '512Mi' }, limits: {} });
  assert.equal(gateway?.replicas, 1);
  assert.equal(cloud?.replicas, 2);
  assert.deepEqual(cloud?.placement.tolerations, [{ key: 'nvidia.com/gpu', operator: 'Exists', effect: 'NoSchedule' }]);
  assert.deepEqual(Object.keys(cloud?.placement.affinity ?? {}), ['podAntiAffinity']);
  // The local example's relative path and defaults.
  const local = parseTopology(EXAMPLE);
  assert.deepEqual(local.model.source, { kind: 'local', path: '../models/imdb1x128.onnx' });
  assert.deepEqual(local.devices[2]?.placement, { nodeSelector: { 'crime.dev/tier': 'cloud' }, tolerations: [] });
  assert.deepEqual(local.devices[2]?.resources, { requests: {}, limits: {} });
});

test('new fields are refused with the field named', () => {
  const cases: Array<[string, string, RegExp]> = [
    [EXAMPLE.replace('placement: { nodeSelector: { crime.dev/tier: cloud } }', 'placement: { nodeName: cloud-0 }'), 'spec.devices[2].placement.nodeName', /bypasses the scheduler/],
    [EXAMPLE.replace('      gpus: 1', '      gpus: 1\n      replicas: 0'), 'spec.devices[2].replicas', /integer ≥ 1 and ≤ 32/],
    [EXAMPLE.replace('      gpus: 1', '      gpus: 1\n      resources: { requests: { cpu: 2 }, limits: { cpu: 1500m } }'), 'spec.devices[2].resources.requests.cpu', /must not exceed limits.cpu/],
    [EXAMPLE.replace('      gpus: 1', '      gpus: 1\n      resources: { requests: { cpu: 2 cores } }'), 'spec.devices[2].resources.requests.cpu', /quantity/],
    [EXAMPLE.replace('maxSteps: 1000', 'maxSteps: 1000\n    sha256: abc'), 'spec.model.sha256', /64 lowercase hexadecimal/],
    [EXAMPLE.replace('uri: ../models/imdb1x128.onnx', 'uri: pvc://models/../x.onnx'), 'spec.model.uri', /"\.\." segments/],
    [EXAMPLE.replace('uri: ../models/imdb1x128.onnx', 'uri: gs://bucket/x.onnx'), 'spec.model.uri', /unsupported scheme/],
  ];
  for (const [text, field, message] of cases) {
    assert.throws(
      () => parseTopology(text),
      (err: unknown) => err instanceof InvalidInputError && err.field === field && message.test(err.message),
      `${field}: ${message}`,
    );
  }
});

test('quantities compare by value', () => {
  assert.ok(quantityValue('500m') < quantityValue('1'));
  assert.equal(quantityValue('1k'), quantityValue('1e3'));
  assert.equal(quantityValue('1Gi'), 1024 * quantityValue('1Mi'));
  assert.ok(quantityValue('1G') < quantityValue('1Gi'));
  assert.equal(quantityValue('.5'), 0.5);
});
