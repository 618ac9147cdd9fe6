import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { kindNodes } from './kind.js';

const CONFIG = readFileSync(fileURLToPath(new URL('../../kind-config.yaml', import.meta.url)), 'utf8');

test('kind-config.yaml: a control plane, two edge workers, a gateway and a GPU worker tainted through its JoinConfiguration', () => {
  const nodes = kindNodes(CONFIG);
  assert.deepEqual(nodes.map((n) => [n.name, n.labels?.['crime.dev/tier'] ?? '-']), [
    ['crime-control-plane', '-'],
    ['crime-worker', 'edge'],
    ['crime-worker2', 'edge'],
    ['crime-worker3', 'gateway'],
    ['crime-worker4', 'cloud'],
  ]);
  assert.deepEqual(nodes[4]?.taints, [{ key: 'nvidia.com/gpu', value: 'present', effect: 'NoSchedule' }]);
  for (const worker of nodes.slice(1, 4)) assert.deepEqual(worker.taints, [], worker.name);
  assert.equal(nodes[0]?.taints?.[0]?.key, 'node-role.kubernetes.io/control-plane');
  // No GPU capacity until scripts/kind-fake-gpu.sh adds it, as on a real kind cluster.
  assert.ok(nodes.every((n) => n.gpus === undefined));
});

test('kindNodes names nodes as kind does and refuses what is not a kind configuration', () => {
  assert.deepEqual(kindNodes('kind: Cluster\napiVersion: kind.x-k8s.io/v1alpha4\n').map((n) => n.name), ['kind-control-plane']);
  assert.throws(() => kindNodes('kind: Pod\n'), /not a kind cluster configuration/);
});
