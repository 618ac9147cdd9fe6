import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
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
  ];
  for (const [text, field, message] of cases) {
    assert.throws(
      () => parseTopology(text),
      (err: unknown) => err instanceof InvalidInputError && err.field === field && message.test(err.message),
      `${field}: ${message}`,
    );
  }
});
