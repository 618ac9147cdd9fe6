import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { KubernetesObject, V1Deployment, V1Pod, V1Service } from '@kubernetes/client-node';
import { topologyFromObject } from '../../runtime/topology/topology.js';
import { renderChildren } from '../render/children.js';
import { needsApply, stamped } from '../render/diff.js';
import { DEFAULT_RENDER_OPTIONS } from '../render/options.js';
import { computeStatus } from '../render/status.js';
import { childForCache, deploymentForCache, metadataOnly, podForStatus } from './trim.js';

const owner = { name: 't', namespace: 'ns', uid: 'owner-uid' };
const topology = topologyFromObject({
  apiVersion: 'crime.dev/v1alpha1',
  kind: 'RnnTopology',
  metadata: { name: 't', namespace: 'ns' },
  spec: {
    model: { format: 'onnx', uri: 'http://models.invalid/m.onnx' },
    devices: [
      { name: 'edge', tier: 'edge', entry: true, offloadTo: ['cloud'], placement: { nodeSelector: { 'crime.dev/tier': 'edge' } } },
      { name: 'cloud', tier: 'cloud', gpus: 1 },
    ],
  },
});
const desired = renderChildren(topology, owner, DEFAULT_RENDER_OPTIONS).map(stamped);

/** What the API server gives back: the applied object, defaulted, with its bookkeeping and a status. */
function asServerReturnsIt<T extends KubernetesObject>(obj: T, extra: Record<string, unknown>): T {
  const copy = JSON.parse(JSON.stringify(obj)) as T & Record<string, unknown>;
  copy.metadata = {
    ...copy.metadata,
    uid: 'child-uid',
    resourceVersion: '42',
    generation: 3,
    creationTimestamp: new Date(0),
    annotations: { ...copy.metadata?.annotations, 'deployment.kubernetes.io/revision': '2' },
    managedFields: [{ manager: 'crime-operator', operation: 'Apply', fieldsType: 'FieldsV1', fieldsV1: { 'f:spec': {} } }],
  };
  return Object.assign(copy, extra);
}

describe('what the caches keep', () => {
  it('a Deployment keeps what the apply diff and the status read: nothing to apply, the same status', () => {
    for (const d of desired.filter((o) => o.kind === 'Deployment') as V1Deployment[]) {
      const spec = JSON.parse(JSON.stringify(d.spec)) as NonNullable<V1Deployment['spec']>;
      spec.revisionHistoryLimit = 10;
      spec.progressDeadlineSeconds = 600;
      for (const c of spec.template.spec?.containers ?? []) c.terminationMessagePath = '/dev/termination-log';
      const observed = asServerReturnsIt(d, {
        spec,
        status: {
          observedGeneration: 3,
          replicas: 1,
          updatedReplicas: 1,
          readyReplicas: 0,
          availableReplicas: 0,
          unavailableReplicas: 1,
          conditions: [
            { type: 'Available', status: 'False', reason: 'MinimumReplicasUnavailable', message: 'Deployment does not have minimum availability.', lastUpdateTime: new Date(0), lastTransitionTime: new Date(0) },
            { type: 'ReplicaFailure', status: 'True', reason: 'FailedCreate', message: 'pods "x" is forbidden: violates PodSecurity', lastUpdateTime: new Date(0), lastTransitionTime: new Date(0) },
            { type: 'Progressing', status: 'True', reason: 'ReplicaSetUpdated', message: 'progressing', lastUpdateTime: new Date(0), lastTransitionTime: new Date(0) },
          ],
        },
      }) as V1Deployment;
      const kept = deploymentForCache(observed) as V1Deployment;
      assert.equal(needsApply(d, kept), false, `${d.metadata?.name}: nothing to apply`);
      assert.equal(kept.metadata?.managedFields, undefined);
      assert.equal(kept.metadata?.creationTimestamp, undefined);
      assert.deepEqual(kept.status?.conditions?.map((c) => c.type), ['ReplicaFailure', 'Progressing']);
      assert.ok(JSON.stringify(kept).length < JSON.stringify(observed).length);
      const status = (deployment: V1Deployment) =>
        computeStatus({ generation: 1, devices: [{ name: 'x', replicas: 1, entry: true, endpoint: 'e' }], deployments: new Map([['x', deployment]]), pods: new Map(), now: new Date(0) });
      assert.deepEqual(status(kept), status(observed));
      // An edit to a field the operator renders is still seen.
      const edited = JSON.parse(JSON.stringify(observed)) as V1Deployment;
      const first = edited.spec?.template.spec?.containers[0];
      if (first) first.image = 'somebody/else:1';
      assert.equal(needsApply(d, deploymentForCache(edited)), true);
    }
  });

  it('Services and ConfigMaps keep their content and the metadata the diff reads', () => {
    for (const o of desired.filter((x) => x.kind !== 'Deployment')) {
      const observed = asServerReturnsIt(o, o.kind === 'Service' ? { spec: { ...(o as V1Service).spec, clusterIP: '10.0.0.7', type: 'ClusterIP' } } : {});
      const kept = childForCache(observed);
      assert.equal(needsApply(o, kept), false, `${o.kind} ${o.metadata?.name}`);
      assert.equal(kept.metadata?.managedFields, undefined);
      assert.equal(kept.metadata?.ownerReferences?.[0]?.uid, 'owner-uid');
    }
  });

  it('a pod keeps where it runs and its conditions and container states; a Secret only its metadata', () => {
    const pod: V1Pod = {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'p', namespace: 'ns', labels: { a: 'b' }, resourceVersion: '1', managedFields: [{ manager: 'kubelet' }] },
      spec: { nodeName: 'edge-0', containers: [{ name: 'runtime', image: 'i', args: ['a', 'lot', 'of', 'args'] }] },
      status: { phase: 'Running', conditions: [{ type: 'Ready', status: 'True' }], containerStatuses: [{ name: 'runtime', image: 'i', imageID: '', ready: true, restartCount: 0 }] },
    };
    const kept = podForStatus(pod) as V1Pod;
    assert.equal(kept.spec?.nodeName, 'edge-0');
    assert.deepEqual(kept.spec?.containers, []);
    assert.deepEqual(kept.status?.conditions, pod.status?.conditions);
    assert.equal(kept.metadata?.managedFields, undefined);
    const secret = metadataOnly({ apiVersion: 'v1', kind: 'Secret', metadata: { name: 's', namespace: 'ns' }, data: { token: 'c2VjcmV0' } } as KubernetesObject);
    assert.equal((secret as { data?: unknown }).data, undefined);
    assert.equal(secret.metadata?.name, 's');
  });
});
