/**
 * Which keys the informers' events enqueue. The case that matters: a child that vanished while its
 * owner reference named another topology (the attack of issue 20: topology a took over a-b's
 * Service, and deleting a garbage-collected it) must wake the topology whose label it carries,
 * which then makes it again; before, only the owner named in the reference was woken, and that
 * topology was gone.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { V1Service } from '@kubernetes/client-node';
import { enqueueOnEvents } from './handlers.js';
import { fakeCaches } from './testing/fake-cluster.js';

test('a child\'s events enqueue its owner and the topology its label names; a pod\'s the topology its label names', () => {
  const caches = fakeCaches();
  for (const name of ['a', 'a-b']) caches.topologies.put({ apiVersion: 'crime.dev/v1alpha1', kind: 'RnnTopology', metadata: { name, namespace: 'ops', uid: `uid-${name}` } });
  const keys: string[] = [];
  enqueueOnEvents(caches, (key) => keys.push(key));
  keys.length = 0;
  const service: V1Service = {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: {
      name: 'a-b--c',
      namespace: 'ops',
      labels: { 'crime.dev/topology': 'a-b', 'app.kubernetes.io/managed-by': 'crime-operator' },
      ownerReferences: [{ apiVersion: 'crime.dev/v1alpha1', kind: 'RnnTopology', name: 'a', uid: 'uid-a', controller: true }],
    },
  };
  caches.services.put(service);
  caches.services.remove('ops', 'a-b--c');
  assert.deepEqual(keys, ['ops/a', 'ops/a-b', 'ops/a', 'ops/a-b']);
  keys.length = 0;
  caches.pods.put({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p', namespace: 'ops', labels: { 'crime.dev/topology': 'a-b' } } });
  assert.deepEqual(keys, ['ops/a-b']);
});

test('a topology\'s own events enqueue it; a child owned by something else, or a pod of another namespace, enqueues nothing', () => {
  const caches = fakeCaches();
  const keys: string[] = [];
  enqueueOnEvents(caches, (key) => keys.push(key));
  caches.topologies.put({ apiVersion: 'crime.dev/v1alpha1', kind: 'RnnTopology', metadata: { name: 'web', namespace: 'ops', uid: 'uid-web' } });
  caches.topologies.remove('ops', 'web');
  assert.deepEqual(keys, ['ops/web', 'ops/web']);
  keys.length = 0;
  caches.topologies.put({ apiVersion: 'crime.dev/v1alpha1', kind: 'RnnTopology', metadata: { name: 'web', namespace: 'ops', uid: 'uid-web' } });
  keys.length = 0;
  caches.configMaps.put({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'stray', namespace: 'ops', ownerReferences: [{ apiVersion: 'v1', kind: 'ConfigMap', name: 'web', uid: 'u' }] } });
  caches.pods.put({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p', namespace: 'other', labels: { 'crime.dev/topology': 'web' } } });
  assert.deepEqual(keys, []);
});
