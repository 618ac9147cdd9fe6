/**
 * Proves the scheduler, the controller-manager and the fake nodes are real: node-pinned pods land
 * where their selectors and GPU requests say, unschedulable pods stay Pending with the scheduler's
 * reason, and deleting an owner garbage-collects its dependents.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { AppsV1Api, CoordinationV1Api, CoreV1Api, type V1Pod } from '@kubernetes/client-node';
import { isNotFound } from '../operator/kube/api-errors.js';
import { ControlPlane } from './controlplane.js';
import { createNamespace } from './namespaces.js';
import { GPU_RESOURCE, TIER_LABEL, createFakeNodes, edgeNode, gatewayNode, gpuNode } from './nodes.js';
import { waitFor } from './wait.js';

const NS = 'sched';

function container(extra: Partial<NonNullable<V1Pod['spec']>['containers'][number]> = {}): NonNullable<V1Pod['spec']>['containers'][number] {
  return { name: 'main', image: 'registry.invalid/crime-runtime:test', ...extra };
}

describe('kube-scheduler, kube-controller-manager and kwok nodes (real)', () => {
  let cp: ControlPlane;
  let core: CoreV1Api;

  before(async () => {
    cp = await ControlPlane.start({ scheduler: true, controllerManager: true, kwok: true });
    const kc = cp.admin();
    core = kc.makeApiClient(CoreV1Api);
    await createFakeNodes(kc, [edgeNode('edge-0'), gatewayNode('gateway-0'), gpuNode('cloud-gpu-0', 2)]);
    await createNamespace(kc, NS);
    console.log(`control plane up in ${cp.timings.totalMs} ms, memory ${JSON.stringify(cp.memory())}`);
  });
  after(async () => {
    await cp?.stop();
  });

  const runningPod = (name: string): Promise<V1Pod> =>
    waitFor(
      async () => {
        const p = await core.readNamespacedPod({ namespace: NS, name });
        return p.status?.phase === 'Running' ? p : undefined;
      },
      { what: `pod ${name} Running` },
    );

  it('fake nodes are Ready, with the tier labels and a Lease', async () => {
    const nodes = await core.listNode();
    const byName = new Map(nodes.items.map((n) => [n.metadata?.name, n]));
    assert.equal(byName.get('edge-0')?.metadata?.labels?.['kubernetes.io/arch'], 'arm64');
    assert.equal(byName.get('gateway-0')?.metadata?.labels?.[TIER_LABEL], 'gateway');
    assert.equal(byName.get('cloud-gpu-0')?.status?.allocatable?.[GPU_RESOURCE], '2');
    const leases = cp.admin().makeApiClient(CoordinationV1Api);
    const lease = await waitFor(() => leases.readNamespacedLease({ namespace: 'kube-node-lease', name: 'edge-0' }), {
      what: 'node lease of edge-0',
    });
    // kwok holds the lease (under its own identity) and renews it like a kubelet would.
    assert.ok((lease.spec?.holderIdentity ?? '') !== '');
    const renewed = lease.spec?.renewTime;
    assert.ok(renewed !== undefined && Date.now() - new Date(renewed).getTime() < 60_000, `lease renewed recently (${String(renewed)})`);
  });

  it('schedules a Deployment pinned to arm64 onto the arm64 edge node, Running', async () => {
    const apps = cp.admin().makeApiClient(AppsV1Api);
    const labels = { app: 'edge-runtime' };
    await apps.createNamespacedDeployment({
      namespace: NS,
      body: {
        metadata: { name: 'edge-runtime' },
        spec: {
          replicas: 1,
          selector: { matchLabels: labels },
          template: {
            metadata: { labels },
            spec: { nodeSelector: { 'kubernetes.io/arch': 'arm64' }, containers: [container()] },
          },
        },
      },
    });
    const pod = await waitFor(
      async () => {
        const pods = await core.listNamespacedPod({ namespace: NS, labelSelector: 'app=edge-runtime' });
        return pods.items.find((p) => p.status?.phase === 'Running');
      },
      { what: 'a Running pod of Deployment edge-runtime' },
    );
    assert.equal(pod.spec?.nodeName, 'edge-0');
    const deployment = await waitFor(
      async () => {
        const d = await apps.readNamespacedDeployment({ namespace: NS, name: 'edge-runtime' });
        return d.status?.readyReplicas === 1 ? d : undefined;
      },
      { what: 'Deployment edge-runtime ready' },
    );
    assert.equal(deployment.status?.availableReplicas, 1);
  });

  it('places pods requesting nvidia.com/gpu only on the GPU node', async () => {
    for (const name of ['gpu-a', 'gpu-b']) {
      await core.createNamespacedPod({
        namespace: NS,
        body: { metadata: { name }, spec: { containers: [container({ resources: { limits: { [GPU_RESOURCE]: '1' } } })] } },
      });
    }
    for (const name of ['gpu-a', 'gpu-b']) assert.equal((await runningPod(name)).spec?.nodeName, 'cloud-gpu-0');
  });

  it('leaves an unschedulable pod Pending with the scheduler reason', async () => {
    await core.createNamespacedPod({
      namespace: NS,
      body: {
        metadata: { name: 'too-many-gpus' },
        spec: { containers: [container({ resources: { limits: { [GPU_RESOURCE]: '8' } } })] },
      },
    });
    const condition = await waitFor(
      async () => {
        const p = await core.readNamespacedPod({ namespace: NS, name: 'too-many-gpus' });
        return p.status?.conditions?.find((c) => c.type === 'PodScheduled' && c.status === 'False');
      },
      { what: 'PodScheduled=False on too-many-gpus' },
    );
    assert.equal(condition.reason, 'Unschedulable');
    assert.match(condition.message ?? '', /0\/3 nodes are available: .*Insufficient nvidia\.com\/gpu/);
    const pod = await core.readNamespacedPod({ namespace: NS, name: 'too-many-gpus' });
    assert.equal(pod.status?.phase, 'Pending');
    assert.equal(pod.spec?.nodeName, undefined);
  });

  it('garbage-collects dependents when their owner is deleted', async () => {
    const owner = await core.createNamespacedConfigMap({ namespace: NS, body: { metadata: { name: 'owner' } } });
    const ownerReferences = [{ apiVersion: 'v1', kind: 'ConfigMap', name: 'owner', uid: owner.metadata?.uid ?? '' }];
    for (const name of ['dep-1', 'dep-2']) {
      await core.createNamespacedConfigMap({ namespace: NS, body: { metadata: { name, ownerReferences } } });
    }
    await core.deleteNamespacedConfigMap({ namespace: NS, name: 'owner' });
    for (const name of ['dep-1', 'dep-2']) {
      await waitFor(
        async () => {
          try {
            await core.readNamespacedConfigMap({ namespace: NS, name });
            return undefined;
          } catch (err) {
            if (isNotFound(err)) return true;
            throw err;
          }
        },
        { what: `garbage collection of ${name}` },
      );
    }

    // The Deployment's ReplicaSet and pod go the same way.
    const apps = cp.admin().makeApiClient(AppsV1Api);
    await apps.deleteNamespacedDeployment({ namespace: NS, name: 'edge-runtime' });
    await waitFor(
      async () => {
        const sets = await apps.listNamespacedReplicaSet({ namespace: NS, labelSelector: 'app=edge-runtime' });
        const pods = await core.listNamespacedPod({ namespace: NS, labelSelector: 'app=edge-runtime' });
        return sets.items.length === 0 && pods.items.length === 0 ? true : undefined;
      },
      { what: 'ReplicaSet and pods of edge-runtime collected' },
    );
  });
});
