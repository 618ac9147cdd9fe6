import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { KubernetesObject } from '@kubernetes/client-node';
import { INDEX, topologyByName } from './kube/indexes.js';
import type { Handler, Informer } from './kube/informer.js';
import { IndexedStore } from './kube/store.js';
import { enqueueOnEvents } from './handlers.js';
import type { Caches } from './reconcile/types.js';

/** An informer whose events the test sends, over a real indexed store. */
function fakeInformer<T extends KubernetesObject>(indexers: Record<string, (o: T) => readonly string[]> = {}) {
  const store = new IndexedStore<T>(indexers);
  const handlers: Array<Handler<T>> = [];
  const informer: Informer<T> & { send(event: 'add' | 'update' | 'delete' | 'resync', obj: T): void } = {
    get: (ns, name) => store.get(`${ns}/${name}`),
    list: () => store.values(),
    byIndex: (i, v) => store.byIndex(i, v),
    on: (h) => void handlers.push(h),
    synced: async () => undefined,
    send(event, obj) {
      if (event === 'delete') store.delete(`${obj.metadata?.namespace}/${obj.metadata?.name}`);
      else store.set(`${obj.metadata?.namespace}/${obj.metadata?.name}`, obj);
      for (const h of handlers) h(event, obj);
    },
  };
  return informer;
}

const owned = (name: string, owner: string): KubernetesObject => ({ metadata: { namespace: 'ns', name, ownerReferences: [{ apiVersion: 'crime.dev/v1alpha1', kind: 'RnnTopology', name: owner, uid: `uid-${owner}` }] } });

test('events become the key of the topology they concern; resyncs of children and pods do not', () => {
  const topologies = fakeInformer<KubernetesObject>({ [INDEX.topology]: topologyByName });
  const informers = { topologies, deployments: fakeInformer(), services: fakeInformer(), configMaps: fakeInformer(), secrets: fakeInformer(), pods: fakeInformer() };
  const keys: string[] = [];
  enqueueOnEvents(informers as unknown as Caches, (k) => keys.push(k));
  const long = 'a'.repeat(70);
  topologies.send('add', { metadata: { namespace: 'ns', name: 'web' } });
  topologies.send('add', { metadata: { namespace: 'ns', name: long } });
  topologies.send('resync', { metadata: { namespace: 'ns', name: 'web' } });
  informers.deployments.send('update', owned('web-edge', 'web'));
  informers.services.send('resync', owned('web-edge', 'web'));
  informers.configMaps.send('delete', owned('web-mappers', 'web'));
  informers.secrets.send('add', { metadata: { namespace: 'ns', name: 'stray', ownerReferences: [{ apiVersion: 'v1', kind: 'ConfigMap', name: 'x', uid: 'u' }] } });
  // Pods name their topology by label; a long name's label is shortened with a hash.
  const label = (topologiesOf: string): Record<string, string> => ({ 'crime.dev/topology': topologiesOf });
  informers.pods.send('update', { metadata: { namespace: 'ns', name: 'p1', labels: label('web') } });
  informers.pods.send('update', { metadata: { namespace: 'ns', name: 'p2', labels: label(topologyByName({ metadata: { namespace: 'ns', name: long } })[0]?.split('/')[1] ?? '') } });
  informers.pods.send('update', { metadata: { namespace: 'other', name: 'p3', labels: label('web') } });
  informers.pods.send('resync', { metadata: { namespace: 'ns', name: 'p1', labels: label('web') } });
  assert.deepEqual(keys, ['ns/web', `ns/${long}`, 'ns/web', 'ns/web', 'ns/web', 'ns/web', `ns/${long}`]);
});
