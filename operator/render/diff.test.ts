import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { KubernetesObject } from '@kubernetes/client-node';
import { APPLIED_HASH, contains, needsApply, stamped } from './diff.js';

type Obj = KubernetesObject & { spec?: unknown };

const desired = stamped<Obj>({ apiVersion: 'v1', kind: 'Service', metadata: { name: 's', namespace: 'n' }, spec: { ports: [{ port: 8080 }], selector: { a: 'b' } } });

test('an object the API server filled in with defaults still contains what was applied', () => {
  const observed = { ...desired, metadata: { ...desired.metadata, uid: 'u', resourceVersion: '7' }, spec: { ports: [{ port: 8080, protocol: 'TCP' }], selector: { a: 'b' }, clusterIP: '10.0.0.1' } };
  assert.equal(needsApply(desired, observed), false);
});

test('missing, edited, or rendered differently: apply', () => {
  assert.equal(needsApply(desired, undefined), true);
  assert.equal(needsApply(desired, { ...desired, spec: { ports: [{ port: 9090 }], selector: { a: 'b' } } } as Obj), true, 'a field we own was edited');
  const next = stamped<Obj>({ ...desired, metadata: { name: 's', namespace: 'n' }, spec: { ports: [{ port: 8080 }] } });
  assert.notEqual(next.metadata?.annotations?.[APPLIED_HASH], desired.metadata?.annotations?.[APPLIED_HASH]);
  assert.equal(needsApply(next, desired), true, 'a field we stopped rendering must be removed by an apply');
});

test('quantities compare by value, lists item by item', () => {
  assert.equal(contains({ cpu: '500m', memory: '1Gi' }, { cpu: '0.5', memory: '1024Mi' }), true);
  assert.equal(contains({ cpu: '1' }, { cpu: '2' }), false);
  assert.equal(contains(['a', 'b'], ['a']), false);
  assert.equal(contains([{ x: 1, y: 2 }], [{ x: 1 }]), true);
});
