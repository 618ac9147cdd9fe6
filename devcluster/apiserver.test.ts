/**
 * Proves the API server is the real one: CRD structural schemas and CEL rules, Pod Security
 * admission and RBAC for a ServiceAccount token all answer as in a production cluster.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  ApiextensionsV1Api,
  CoreV1Api,
  CustomObjectsApi,
  RbacAuthorizationV1Api,
  VersionApi,
  type V1CustomResourceDefinition,
  type V1Pod,
} from '@kubernetes/client-node';
import { statusCode, statusMessage } from '../operator/kube/api-errors.js';
import { ControlPlane } from './controlplane.js';
import { createNamespace } from './namespaces.js';
import { serviceAccountConfig } from './serviceaccounts.js';
import { waitFor } from './wait.js';

const GROUP = 'test.crime.dev';

const widgetCrd: V1CustomResourceDefinition = {
  apiVersion: 'apiextensions.k8s.io/v1',
  kind: 'CustomResourceDefinition',
  metadata: { name: `widgets.${GROUP}` },
  spec: {
    group: GROUP,
    scope: 'Namespaced',
    names: { plural: 'widgets', singular: 'widget', kind: 'Widget', listKind: 'WidgetList' },
    versions: [
      {
        name: 'v1',
        served: true,
        storage: true,
        subresources: { status: {} },
        schema: {
          openAPIV3Schema: {
            type: 'object',
            properties: {
              spec: {
                type: 'object',
                required: ['replicas', 'maxReplicas'],
                properties: {
                  replicas: { type: 'integer', minimum: 0 },
                  maxReplicas: { type: 'integer', minimum: 1 },
                },
                x_kubernetes_validations: [
                  { rule: 'self.replicas <= self.maxReplicas', message: 'replicas must not exceed maxReplicas' },
                ],
              },
              status: { type: 'object', properties: { ready: { type: 'integer' } } },
            },
          },
        },
      },
    ],
  },
};

function pod(name: string, securityContext: V1Pod['spec']): V1Pod {
  return { metadata: { name }, spec: securityContext };
}

describe('kube-apiserver (real)', () => {
  let cp: ControlPlane;

  before(async () => {
    cp = await ControlPlane.start();
    console.log(`control plane up in ${cp.timings.totalMs} ms (etcd ${cp.timings.etcdMs} ms), memory ${JSON.stringify(cp.memory())}`);
  });
  after(async () => {
    await cp?.stop();
  });

  it('reports the pinned Kubernetes version', async () => {
    const version = await cp.admin().makeApiClient(VersionApi).getCode();
    assert.match(version.gitVersion, /^v1\.\d+\.\d+/);
    assert.notEqual(version.gitVersion, 'v0.0.0');
  });

  it('rejects a custom object that breaks the CRD CEL rule, with the API server message', async () => {
    const kc = cp.admin();
    await kc.makeApiClient(ApiextensionsV1Api).createCustomResourceDefinition({ body: widgetCrd });
    const custom = kc.makeApiClient(CustomObjectsApi);
    await createNamespace(kc, 'crd');
    const create = (name: string, spec: Record<string, unknown>): Promise<unknown> =>
      custom.createNamespacedCustomObject({
        group: GROUP,
        version: 'v1',
        namespace: 'crd',
        plural: 'widgets',
        body: { apiVersion: `${GROUP}/v1`, kind: 'Widget', metadata: { name }, spec },
      });
    // The CRD serves once Established: retry the valid create until then.
    await waitFor(async () => (await create('ok', { replicas: 1, maxReplicas: 2 })) ?? true, {
      what: 'Widget CRD established',
    });

    const cel = await create('too-many', { replicas: 3, maxReplicas: 2 }).then(
      () => assert.fail('the CEL rule should reject replicas > maxReplicas'),
      (err: unknown) => err,
    );
    assert.equal(statusCode(cel), 422);
    assert.match(statusMessage(cel), /replicas must not exceed maxReplicas/);

    const schema = await create('negative', { replicas: -1, maxReplicas: 2 }).then(
      () => assert.fail('the schema should reject a negative replicas'),
      (err: unknown) => err,
    );
    assert.equal(statusCode(schema), 422);
    assert.match(statusMessage(schema), /spec\.replicas: Invalid value: -1: spec\.replicas in body should be greater than or equal to 0/);
  });

  it('rejects a privileged pod in a namespace enforcing Pod Security "restricted"', async () => {
    const kc = cp.admin();
    await createNamespace(kc, 'restricted', { 'pod-security.kubernetes.io/enforce': 'restricted' });
    const core = kc.makeApiClient(CoreV1Api);
    const privileged = pod('privileged', { containers: [{ name: 'c', image: 'busybox', securityContext: { privileged: true } }] });
    const err = await core.createNamespacedPod({ namespace: 'restricted', body: privileged }).then(
      () => assert.fail('Pod Security admission should reject a privileged pod'),
      (e: unknown) => e,
    );
    assert.equal(statusCode(err), 403);
    assert.match(statusMessage(err), /violates PodSecurity "restricted:latest": privileged/);

    const compliant = pod('compliant', {
      securityContext: { runAsNonRoot: true, seccompProfile: { type: 'RuntimeDefault' } },
      containers: [
        {
          name: 'c',
          image: 'busybox',
          securityContext: { allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] }, runAsUser: 1000 },
        },
      ],
    });
    const created = await core.createNamespacedPod({ namespace: 'restricted', body: compliant });
    assert.equal(created.metadata?.name, 'compliant');
  });

  it('authenticates a ServiceAccount token and authorizes it by RBAC', async () => {
    const kc = cp.admin();
    await createNamespace(kc, 'rbac');
    const asOperator = await serviceAccountConfig(cp, { namespace: 'rbac', name: 'operator' });
    const core = asOperator.makeApiClient(CoreV1Api);
    const denied = await core.listNamespacedConfigMap({ namespace: 'rbac' }).then(
      () => assert.fail('a ServiceAccount without a Role must be forbidden'),
      (e: unknown) => e,
    );
    assert.equal(statusCode(denied), 403);
    assert.match(statusMessage(denied), /User "system:serviceaccount:rbac:operator" cannot list resource "configmaps"/);

    const rbac = kc.makeApiClient(RbacAuthorizationV1Api);
    await rbac.createNamespacedRole({
      namespace: 'rbac',
      body: { metadata: { name: 'read-configmaps' }, rules: [{ apiGroups: [''], resources: ['configmaps'], verbs: ['get', 'list'] }] },
    });
    await rbac.createNamespacedRoleBinding({
      namespace: 'rbac',
      body: {
        metadata: { name: 'operator-reads-configmaps' },
        roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'read-configmaps' },
        subjects: [{ kind: 'ServiceAccount', name: 'operator', namespace: 'rbac' }],
      },
    });
    const list = await waitFor(() => core.listNamespacedConfigMap({ namespace: 'rbac' }), { what: 'RBAC grant to take effect' });
    assert.ok(Array.isArray(list.items));
    const write = await core
      .createNamespacedConfigMap({ namespace: 'rbac', body: { metadata: { name: 'x' } } })
      .then(() => assert.fail('the Role grants no create'), (e: unknown) => e);
    assert.equal(statusCode(write), 403);
  });
});
