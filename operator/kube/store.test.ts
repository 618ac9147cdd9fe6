import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { KubernetesObject } from '@kubernetes/client-node';
import { IndexedStore, NAMESPACE_INDEX } from './store.js';

const obj = (ns: string, name: string, owners: string[] = []): KubernetesObject => ({ metadata: { namespace: ns, name, ownerReferences: owners.map((uid) => ({ apiVersion: 'v1', kind: 'X', name: uid, uid })) } });
const names = (objs: KubernetesObject[]): string[] => objs.map((o) => o.metadata?.name ?? '').sort();

test('indexes by namespace and by the given functions, and follows replacements and deletions', () => {
  const store = new IndexedStore<KubernetesObject>({ owner: (o) => (o.metadata?.ownerReferences ?? []).map((r) => r.uid) });
  store.set('a/one', obj('a', 'one', ['u1']));
  store.set('a/two', obj('a', 'two', ['u1', 'u2']));
  store.set('b/one', obj('b', 'one', ['u2']));
  assert.deepEqual(names(store.byIndex(NAMESPACE_INDEX, 'a')), ['one', 'two']);
  assert.deepEqual(names(store.byIndex('owner', 'u2')), ['one', 'two']);
  // A new version that changed owners moves between index values.
  store.set('a/two', obj('a', 'two', ['u3']));
  assert.deepEqual(names(store.byIndex('owner', 'u1')), ['one']);
  assert.deepEqual(names(store.byIndex('owner', 'u2')), ['one']);
  assert.deepEqual(names(store.byIndex('owner', 'u3')), ['two']);
  assert.equal(store.delete('a/one')?.metadata?.name, 'one');
  assert.deepEqual(store.byIndex('owner', 'u1'), []);
  assert.deepEqual(names(store.byIndex(NAMESPACE_INDEX, 'a')), ['two']);
  assert.equal(store.delete('a/one'), undefined);
  assert.equal(store.size, 2);
});

test('an index the store does not have is a clear error, as is one defined twice', () => {
  const store = new IndexedStore<KubernetesObject>();
  assert.throws(() => store.byIndex('owner', 'x'), /no index owner: this cache has namespace/);
  assert.throws(() => new IndexedStore<KubernetesObject>({ namespace: () => [] }), /index namespace is defined twice/);
});
