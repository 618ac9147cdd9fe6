/**
 * The operator against a real control plane (etcd, kube-apiserver, scheduler, controller-manager,
 * kwok nodes shaped like an edge deployment), running with exactly the RBAC the chart ships.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import type { KubeConfig, V1ConfigMap, V1Deployment, V1Service } from '@kubernetes/client-node';
import { parse as parseYaml } from 'yaml';
import { ControlPlane } from '../devcluster/controlplane.js';
import { installCrd, readCrdFile } from '../devcluster/crds.js';
import { createNamespace } from '../devcluster/namespaces.js';
import { createFakeNodes, edgeNode, gatewayNode, gpuNode } from '../devcluster/nodes.js';
import { operatorServiceAccount } from '../devcluster/rbac.js';
import { waitFor } from '../devcluster/wait.js';
import { isNotFound } from '../operator/kube/api-errors.js';
import { pathOf, RESOURCES } from '../operator/kube/resources.js';
import { KubeRest } from '../operator/kube/rest.js';
import { startOperator, type Operator } from '../operator/manager.js';
import { APPLIED_HASH } from '../operator/render/diff.js';
import { childNames } from '../operator/render/names.js';
import { DEFAULT_RENDER_OPTIONS } from '../operator/render/options.js';
import type { TopologyStatus } from '../operator/render/status.js';
import { parseMapperConfig } from '../runtime/mapper/config.js';

const NS = 'ops';
const root = (p: string): string => fileURLToPath(new URL(`../../${p}`, import.meta.url));
type Doc = { metadata: { name: string; namespace?: string }; spec: Record<string, unknown> & { devices: Array<Record<string, unknown>> } };

/** The three-tier example with a model URL a cluster can fetch. */
function example(name: string): Doc {
  const doc = parseYaml(readFileSync(root('examples/topologies/three-tier.yaml'), 'utf8')) as Doc;
  doc.metadata = { name, namespace: NS };
  (doc.spec.model as Record<string, unknown>).uri = 'http://models.invalid/imdb1x128.onnx';
  return doc;
}

describe('the operator (real control plane, shipped RBAC)', () => {
  let cp: ControlPlane;
  let admin: KubeRest;
  let operatorConfig: KubeConfig;
  let op: Operator;

  const topo = (name: string): string => pathOf(RESOURCES.topology, NS, name);
  const get = <T>(path: string): Promise<T> => admin.request<T>({ method: 'GET', path });
  const status = async (name: string): Promise<TopologyStatus | undefined> => (await get<{ status?: TopologyStatus }>(topo(name))).status;
  const condition = (s: TopologyStatus | undefined, type: string) => s?.conditions.find((c) => c.type === type);
  const apply = (doc: Doc): Promise<unknown> =>
    admin.request({ method: 'PATCH', path: topo(doc.metadata.name), body: { apiVersion: 'crime.dev/v1alpha1', kind: 'RnnTopology', ...doc }, query: { fieldManager: 'test', force: 'true' }, contentType: 'application/apply-patch+yaml' });
  const waitStatus = (name: string, what: string, ok: (s: TopologyStatus) => boolean, timeoutMs = 60_000): Promise<TopologyStatus> =>
    waitFor(async () => {
      const s = await status(name);
      return s && ok(s) ? s : undefined;
    }, { what: `${name}: ${what}`, timeoutMs });
  const ready = (name: string): Promise<TopologyStatus> => waitStatus(name, 'Ready', (s) => condition(s, 'Ready')?.status === 'True');

  before(async () => {
    cp = await ControlPlane.start({ scheduler: true, controllerManager: true, kwok: true });
    const kc = cp.admin();
    admin = new KubeRest(kc);
    await installCrd(kc, readCrdFile(root('crds/crime.dev_rnntopologies.yaml')));
    await createFakeNodes(kc, [edgeNode('edge-0'), gatewayNode('gateway-0'), gpuNode('gpu-0', 2, { taints: [{ key: 'nvidia.com/gpu', value: 'present', effect: 'NoSchedule' }] })]);
    await createNamespace(kc, NS);
    operatorConfig = await operatorServiceAccount(cp, NS, 'crime-operator', { networkPolicy: true });
    op = await startOperator({
      kubeconfig: operatorConfig,
      metricsPort: 0,
      metricsHost: '127.0.0.1',
      defaultMetrics: false,
      informer: { relistMs: 3000 },
      render: { ...DEFAULT_RENDER_OPTIONS, networkPolicy: { metricsNamespaces: ['monitoring'] } },
    });
    await op.leading;
  });
  after(async () => {
    await op?.close();
    admin?.close();
    await cp?.stop();
  });

  it('renders every device onto its node, wires the mappers, and reports Ready with the entry endpoint', async () => {
    await apply(example('imdb'));
    const s = await ready('imdb');
    assert.equal(s.devicesReady, '3/3');
    assert.equal(s.entryEndpoint, 'http://imdb--end-node.ops.svc:8080');
    assert.deepEqual(Object.fromEntries(s.devices.map((d) => [d.name, d.nodes])), { 'end-node': ['edge-0'], gateway: ['gateway-0'], cloud: ['gpu-0'] });
    assert.equal(s.observedGeneration, 1);

    const cloud = await get<V1Deployment>(pathOf(RESOURCES.deployment, NS, 'imdb--cloud'));
    const pod = cloud.spec?.template.spec;
    assert.equal(pod?.securityContext?.runAsNonRoot, true);
    assert.equal(pod?.securityContext?.seccompProfile?.type, 'RuntimeDefault');
    for (const c of [...(pod?.initContainers ?? []), ...(pod?.containers ?? [])]) {
      assert.equal(c.securityContext?.readOnlyRootFilesystem, true, c.name);
      assert.equal(c.securityContext?.allowPrivilegeEscalation, false, c.name);
      assert.deepEqual(c.securityContext?.capabilities?.drop, ['ALL'], c.name);
    }
    const runtime = pod?.containers.find((c) => c.name === 'runtime');
    assert.equal(runtime?.resources?.limits?.['nvidia.com/gpu'], '1');
    assert.ok(runtime?.args?.join(' ').includes('--socket /var/run/crime/sock/runtime.sock'), 'the runtime listens on its Unix socket only');
    assert.ok(pod?.tolerations?.some((t) => t.key === 'nvidia.com/gpu'));
    assert.deepEqual(pod?.nodeSelector, { 'crime.dev/tier': 'cloud' });
    assert.deepEqual(pod?.initContainers?.[0]?.args?.slice(0, 4), ['model', 'fetch', '--uri', 'http://models.invalid/imdb1x128.onnx']);
    assert.equal(cloud.metadata?.ownerReferences?.[0]?.kind, 'RnnTopology');

    const config = await get<V1ConfigMap>(pathOf(RESOURCES.configMap, NS, 'imdb-mappers'));
    const gateway = parseMapperConfig(config.data?.['gateway.yaml'] ?? '');
    assert.deepEqual(gateway.neighbours.map((n) => n.url), ['http://imdb--cloud.ops.svc:8080']);
    assert.equal(gateway.runtimeUrl, 'unix:/var/run/crime/sock/runtime.sock', 'the mapper reaches its runtime through the socket');
    assert.equal(gateway.auth.clients, true, 'only the entry serves clients without the token');
    assert.equal(parseMapperConfig(config.data?.['end-node.yaml'] ?? '').auth.clients, false);
    const svc = await get<V1Service>(pathOf(RESOURCES.service, NS, 'imdb--gateway'));
    assert.deepEqual(svc.spec?.selector, { 'crime.dev/topology': 'imdb', 'crime.dev/device': 'gateway' });
    type Policy = { spec: { podSelector: { matchLabels: Record<string, string> }; ingress: Array<{ from?: unknown[] }> } };
    const peers = await get<Policy>(pathOf(RESOURCES.networkPolicy, NS, 'imdb-peers'));
    assert.deepEqual(peers.spec.podSelector.matchLabels, { 'crime.dev/topology': 'imdb', 'app.kubernetes.io/component': 'device' });
    assert.equal(peers.spec.ingress.length, 2, 'the same topology, and the metrics namespace');
    const entry = await get<Policy>(pathOf(RESOURCES.networkPolicy, NS, 'imdb-entry'));
    assert.deepEqual(entry.spec.podSelector.matchLabels, { 'crime.dev/topology': 'imdb', 'crime.dev/device': 'end-node' });
    assert.equal(entry.spec.ingress[0]?.from, undefined, 'the entry is open to clients');
  });

  it('keeps the token Secret across reconciles, and writes nothing on an idle resync', async () => {
    const token = async (): Promise<string> => (await get<{ data: Record<string, string> }>(pathOf(RESOURCES.secret, NS, 'imdb-token'))).data.token ?? '';
    const before = await token();
    assert.ok(Buffer.from(before, 'base64').length >= 32);
    // Let status settle, then sit through several relists (every 3 s in this test).
    await new Promise((r) => setTimeout(r, 2000));
    const writes = await op.metrics.writes();
    const reconciles = (await op.metrics.reconciles.get()).values.reduce((n, v) => n + v.value, 0);
    await new Promise((r) => setTimeout(r, 7000));
    assert.ok((await op.metrics.reconciles.get()).values.reduce((n, v) => n + v.value, 0) > reconciles, 'resyncs reconciled');
    assert.equal(await op.metrics.writes(), writes, 'an idle resync writes nothing');
    assert.equal(await token(), before);
  });

  it('follows spec changes: a new device, a new placement; a removed device is pruned', async () => {
    const doc = example('imdb');
    doc.spec.devices.push({ name: 'cloud-b', tier: 'cloud', placement: { nodeSelector: { 'crime.dev/tier': 'gateway' } } });
    (doc.spec.devices[1] as { offloadTo: string[] }).offloadTo = ['cloud', 'cloud-b'];
    (doc.spec.devices[0] as { placement: unknown }).placement = { nodeSelector: { 'kubernetes.io/arch': 'arm64', 'crime.dev/tier': 'edge' } };
    await apply(doc);
    const s = await waitStatus('imdb', 'four devices ready at generation 2', (x) => x.observedGeneration === 2 && x.devicesReady === '4/4');
    assert.deepEqual(s.devices.find((d) => d.name === 'cloud-b')?.nodes, ['gateway-0']);
    const edge = await get<V1Deployment>(pathOf(RESOURCES.deployment, NS, 'imdb--end-node'));
    assert.deepEqual(edge.spec?.template.spec?.nodeSelector, { 'kubernetes.io/arch': 'arm64', 'crime.dev/tier': 'edge' });
    const config = await get<V1ConfigMap>(pathOf(RESOURCES.configMap, NS, 'imdb-mappers'));
    assert.deepEqual(parseMapperConfig(config.data?.['gateway.yaml'] ?? '').neighbours.map((n) => n.name), ['cloud', 'cloud-b']);

    await apply(example('imdb'));
    await waitStatus('imdb', 'back to three devices', (x) => x.observedGeneration === 3 && x.devicesReady === '3/3');
    await waitFor(async () => {
      try {
        await get(pathOf(RESOURCES.deployment, NS, 'imdb--cloud-b'));
        return undefined;
      } catch (err) {
        return isNotFound(err) ? true : undefined;
      }
    }, { what: 'the cloud-b Deployment pruned' });
    await assert.rejects(get(pathOf(RESOURCES.service, NS, 'imdb--cloud-b')), (err) => isNotFound(err));
  });

  it('repairs drift: a deleted Service comes back, an edited nodeSelector is restored', async () => {
    await admin.request({ method: 'DELETE', path: pathOf(RESOURCES.service, NS, 'imdb--gateway') });
    await admin.request({
      method: 'PATCH',
      path: pathOf(RESOURCES.deployment, NS, 'imdb--gateway'),
      body: { spec: { template: { spec: { nodeSelector: { 'crime.dev/tier': 'edge' } } } } },
      contentType: 'application/strategic-merge-patch+json',
    });
    await waitFor(() => get<V1Service>(pathOf(RESOURCES.service, NS, 'imdb--gateway')), { what: 'the gateway Service back' });
    await waitFor(async () => {
      const d = await get<V1Deployment>(pathOf(RESOURCES.deployment, NS, 'imdb--gateway'));
      return JSON.stringify(d.spec?.template.spec?.nodeSelector) === JSON.stringify({ 'crime.dev/tier': 'gateway' }) ? d : undefined;
    }, { what: 'the gateway nodeSelector restored' });
  });

  it('reports what it cannot run: an offload cycle and a local model path, with nothing rendered', async () => {
    const cycle = example('cycle');
    (cycle.spec.devices[2] as { offloadTo: string[] }).offloadTo = ['gateway'];
    await apply(cycle);
    const s = await waitStatus('cycle', 'Ready False', (x) => condition(x, 'Ready')?.status === 'False');
    assert.equal(condition(s, 'Ready')?.reason, 'OffloadCycle');
    assert.match(condition(s, 'Ready')?.message ?? '', /cycle: .*gateway -> cloud -> gateway/);
    const local = example('local');
    (local.spec.model as Record<string, unknown>).uri = '../models/imdb1x128.onnx';
    await apply(local);
    const l = await waitStatus('local', 'Ready False', (x) => condition(x, 'Ready')?.status === 'False');
    assert.equal(condition(l, 'Ready')?.reason, 'LocalModelUri');
    await assert.rejects(get(pathOf(RESOURCES.configMap, NS, 'cycle-mappers')), (err) => isNotFound(err));
    for (const name of ['cycle', 'local']) await admin.request({ method: 'DELETE', path: topo(name) });
  });

  it('says why a GPU device cannot be scheduled: Degraded with the scheduler message', async () => {
    const doc = example('hungry');
    (doc.spec.devices[2] as { gpus: number }).gpus = 4;
    await apply(doc);
    const s = await waitStatus('hungry', 'Degraded', (x) => condition(x, 'Degraded')?.status === 'True');
    const cloud = s.devices.find((d) => d.name === 'cloud');
    assert.equal(cloud?.lastFailure?.reason, 'Unschedulable');
    assert.match(cloud?.lastFailure?.message ?? '', /Insufficient nvidia\.com\/gpu/);
    assert.equal(condition(s, 'Ready')?.status, 'False');
    await admin.request({ method: 'DELETE', path: topo('hungry') });
  });

  /** A topology of one device, the entry. */
  const single = (name: string, device: string): Doc => {
    const doc = example(name);
    doc.spec.devices = [{ name: device, entry: true }];
    return doc;
  };
  const events = async (topology: string): Promise<Array<{ reason: string; type: string; message: string }>> =>
    (await admin.request<{ items: Array<{ reason: string; type: string; message: string }> }>({
      method: 'GET', path: pathOf(RESOURCES.event, NS), query: { fieldSelector: `involvedObject.kind=RnnTopology,involvedObject.name=${topology}` },
    })).items;
  const gone = (path: string, what: string): Promise<boolean> => waitFor(async () => {
    try {
      await get(path);
      return undefined;
    } catch (err) {
      return isNotFound(err) ? true : undefined;
    }
  }, { what, timeoutMs: 60_000 });

  it('topologies a-b (device c) and a (device b-c) keep children of their own; deleting a leaves a-b whole (the outside attack of issue 20)', async () => {
    // Before: both rendered a-b-c; a took over a-b's Service (owner and selector), its own
    // Deployment failed on a 422 with no status, and deleting a garbage-collected the Service.
    await apply(single('a-b', 'c'));
    await ready('a-b');
    await apply(single('a', 'b-c'));
    await ready('a');
    for (const [topology, device] of [['a-b', 'c'], ['a', 'b-c']] as const) {
      const name = childNames(topology).service(device);
      const svc = await get<V1Service>(pathOf(RESOURCES.service, NS, name));
      assert.deepEqual(svc.metadata?.ownerReferences?.map((r) => r.name), [topology], `Service ${name}`);
      assert.deepEqual(svc.spec?.selector, { 'crime.dev/topology': topology, 'crime.dev/device': device }, `Service ${name}`);
      const deployment = await get<V1Deployment>(pathOf(RESOURCES.deployment, NS, childNames(topology).deployment(device)));
      assert.deepEqual(deployment.metadata?.ownerReferences?.map((r) => r.name), [topology], `Deployment ${name}`);
    }
    const before = await get<V1Service>(pathOf(RESOURCES.service, NS, childNames('a-b').service('c')));
    await admin.request({ method: 'DELETE', path: topo('a') });
    await gone(pathOf(RESOURCES.service, NS, childNames('a').service('b-c')), 'a\'s Service garbage-collected');
    const after = await get<V1Service>(pathOf(RESOURCES.service, NS, childNames('a-b').service('c')));
    assert.equal(after.metadata?.uid, before.metadata?.uid, 'a-b\'s Service is the same object, untouched');
    assert.equal(condition(await status('a-b'), 'Ready')?.status, 'True');
    await admin.request({ method: 'DELETE', path: topo('a-b') });
  });

  it('never adopts, changes or deletes objects made by hand under its names: NameConflict in status and an Event', async () => {
    const names = childNames('guarded');
    const service = { apiVersion: 'v1', kind: 'Service', metadata: { name: names.service('gateway') }, spec: { selector: { app: 'mine' }, ports: [{ port: 80, targetPort: 8080 }] } };
    const configMap = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: names.configMap }, data: { 'mine.txt': 'user data' } };
    const secret = { apiVersion: 'v1', kind: 'Secret', metadata: { name: names.secret }, stringData: { token: 'a token of the user, not of the operator' } };
    await admin.request({ method: 'POST', path: pathOf(RESOURCES.service, NS), body: service });
    await admin.request({ method: 'POST', path: pathOf(RESOURCES.configMap, NS), body: configMap });
    await admin.request({ method: 'POST', path: pathOf(RESOURCES.secret, NS), body: secret });
    await apply(example('guarded'));
    const s = await waitStatus('guarded', 'NameConflict', (x) => condition(x, 'Ready')?.reason === 'NameConflict');
    assert.equal(condition(s, 'Ready')?.status, 'False');
    for (const name of [`Service ${NS}/${names.service('gateway')}`, `ConfigMap ${NS}/${names.configMap}`, `Secret ${NS}/${names.secret}`]) {
      assert.ok(condition(s, 'Ready')?.message.includes(`${name} exists and is not this topology's`), `${name} in: ${condition(s, 'Ready')?.message ?? ''}`);
    }
    await waitFor(async () => ((await events('guarded')).some((e) => e.type === 'Warning' && e.reason === 'NameConflict') ? true : undefined), { what: 'a NameConflict Event' });
    const svc = await get<V1Service>(pathOf(RESOURCES.service, NS, names.service('gateway')));
    assert.equal(svc.metadata?.ownerReferences, undefined, 'the user\'s Service has no owner: the garbage collector leaves it alone');
    assert.deepEqual(svc.spec?.selector, { app: 'mine' });
    assert.deepEqual(svc.spec?.ports?.map((p) => p.port), [80]);
    const cm = await get<V1ConfigMap>(pathOf(RESOURCES.configMap, NS, names.configMap));
    assert.equal(cm.metadata?.ownerReferences, undefined);
    assert.deepEqual(cm.data, { 'mine.txt': 'user data' });
    assert.equal((await get<{ metadata: { ownerReferences?: unknown } }>(pathOf(RESOURCES.secret, NS, names.secret))).metadata.ownerReferences, undefined);
    const deployments = await admin.request<{ items: unknown[] }>({ method: 'GET', path: pathOf(RESOURCES.deployment, NS), query: { labelSelector: 'crime.dev/topology=guarded' } });
    assert.equal(deployments.items.length, 0, 'no pod ever mounts the user\'s Secret as its token');
    await admin.request({ method: 'DELETE', path: topo('guarded') });
    await gone(topo('guarded'), 'the topology deleted');
    for (const path of [pathOf(RESOURCES.service, NS, names.service('gateway')), pathOf(RESOURCES.configMap, NS, names.configMap), pathOf(RESOURCES.secret, NS, names.secret)]) {
      await get(path);
      await admin.request({ method: 'DELETE', path });
    }
  });

  it('a child the API server refuses (an admission policy) reaches the status with its message, and an Event; fixed, it goes on', async () => {
    const admission = '/apis/admissionregistration.k8s.io/v1';
    const message = 'Deployments of topology refused are not allowed in this namespace';
    await admin.request({
      method: 'POST',
      path: `${admission}/validatingadmissionpolicies`,
      body: {
        metadata: { name: 'no-refused' },
        spec: {
          failurePolicy: 'Fail',
          matchConstraints: { resourceRules: [{ apiGroups: ['apps'], apiVersions: ['v1'], operations: ['CREATE', 'UPDATE'], resources: ['deployments'] }] },
          validations: [{ expression: "!has(object.metadata.labels) || object.metadata.labels[?'crime.dev/topology'].orValue('') != 'refused'", message }],
        },
      },
    });
    const binding = `${admission}/validatingadmissionpolicybindings`;
    await admin.request({ method: 'POST', path: binding, body: { metadata: { name: 'no-refused' }, spec: { policyName: 'no-refused', validationActions: ['Deny'] } } });
    // The API server takes up a new policy a little later: wait until it denies (a dry run), or the
    // Deployments could be created before it does, and nothing would be refused.
    const probe = { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'probe', labels: { 'crime.dev/topology': 'refused' } }, spec: { selector: { matchLabels: { a: 'b' } }, template: { metadata: { labels: { a: 'b' } }, spec: { containers: [{ name: 'c', image: 'i' }] } } } };
    await waitFor(async () => {
      const answer = await admin.raw({ method: 'POST', path: pathOf(RESOURCES.deployment, NS), query: { dryRun: 'All' }, body: probe });
      return answer.status >= 400 ? true : undefined;
    }, { what: 'the admission policy in force' });
    await apply(example('refused'));
    const s = await waitStatus('refused', 'ApplyFailed', (x) => condition(x, 'Ready')?.reason === 'ApplyFailed');
    assert.equal(condition(s, 'Ready')?.status, 'False');
    assert.ok(condition(s, 'Ready')?.message.includes(message), condition(s, 'Ready')?.message);
    assert.match(condition(s, 'Ready')?.message ?? '', /apply Deployment ops\/refused--(end-node|gateway|cloud): HTTP 4\d\d/);
    await waitFor(async () => ((await events('refused')).some((e) => e.reason === 'ApplyFailed' && e.message.includes(message)) ? true : undefined), { what: 'an ApplyFailed Event' });
    await admin.request({ method: 'DELETE', path: `${binding}/no-refused` });
    await admin.request({ method: 'DELETE', path: `${admission}/validatingadmissionpolicies/no-refused` });
    await ready('refused');
    await admin.request({ method: 'DELETE', path: topo('refused') });
  });

  it('runs with nothing broader than its RBAC', async () => {
    const asOperator = new KubeRest(operatorConfig);
    try {
      for (const [method, path] of [
        ['GET', pathOf(RESOURCES.secret, 'kube-system', 'anything')],
        ['GET', '/api/v1/nodes'],
        ['DELETE', pathOf(RESOURCES.secret, NS, 'imdb-token')],
        ['DELETE', topo('imdb')],
        ['GET', pathOf(RESOURCES.lease, 'kube-system')],
      ] as const) {
        const answer = await asOperator.raw({ method, path });
        assert.equal(answer.status, 403, `${method} ${path} must be forbidden`);
      }
    } finally {
      asOperator.close();
    }
  });

  it('keeps reconciling after the API server restarts', async () => {
    await cp.restartApiServer();
    await apply(example('after-restart'));
    await ready('after-restart');
  });

  it('deleting a topology removes everything it rendered', async () => {
    const deployments = (): Promise<{ items: V1Deployment[] }> =>
      admin.request({ method: 'GET', path: pathOf(RESOURCES.deployment, NS), query: { labelSelector: 'crime.dev/topology=after-restart' } });
    assert.equal((await deployments()).items.length, 3);
    assert.ok((await deployments()).items.every((d) => d.metadata?.annotations?.[APPLIED_HASH] !== undefined));
    await admin.request({ method: 'DELETE', path: topo('after-restart') });
    await waitFor(async () => ((await deployments()).items.length === 0 ? true : undefined), { what: 'children garbage-collected', timeoutMs: 60_000 });
  });
});
