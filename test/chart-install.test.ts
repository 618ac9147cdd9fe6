/**
 * The chart installed with the real helm into a real control plane whose fake nodes are those of
 * kind-config.yaml: every object accepted (Pod Security "restricted" enforced on the release
 * namespace), then the operator runs as `crime operator` with the args the chart rendered and the
 * token of the chart's ServiceAccount, and serves the kind example topology: the chart's RBAC is
 * enough, a forbidden call is refused. `helm upgrade` keeps users' RnnTopologies, turning the CRD
 * off keeps it, and `helm uninstall` leaves the CRD and the topologies in place.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import type { V1ClusterRole, V1Deployment, V1ServiceAccount } from '@kubernetes/client-node';
import { parse as parseYaml, parseAllDocuments } from 'yaml';
import { ControlPlane } from '../devcluster/controlplane.js';
import { waitEstablished } from '../devcluster/crds.js';
import { chartDir, Helm } from '../devcluster/helm.js';
import { kindNodes } from '../devcluster/kind.js';
import { writeKubeconfig } from '../devcluster/kubeconfig.js';
import { createNamespace } from '../devcluster/namespaces.js';
import { createFakeNodes } from '../devcluster/nodes.js';
import { operatorRules } from '../devcluster/rbac.js';
import { serviceAccountToken } from '../devcluster/serviceaccounts.js';
import { waitFor } from '../devcluster/wait.js';
import { isNotFound } from '../operator/kube/api-errors.js';
import { pathOf, RESOURCES } from '../operator/kube/resources.js';
import { KubeRest } from '../operator/kube/rest.js';
import type { TopologyStatus } from '../operator/render/status.js';

const root = (p: string): string => fileURLToPath(new URL(`../../${p}`, import.meta.url));
const NS = 'crime-system';
const USERS = 'demo';
const RELEASE = 'crime-operator';
const CRD = '/apis/apiextensions.k8s.io/v1/customresourcedefinitions/rnntopologies.crime.dev';
const IMAGES = ['--set', 'image.repository=registry.test/crime', '--set', 'image.tag=t1', '--set', 'deviceImages.gpu.repository=registry.test/crime-gpu', '--set', 'deviceImages.pullPolicy=Always', '--set', 'networkPolicy.enabled=true'];

type Obj = { apiVersion: string; kind: string; metadata: { name: string; namespace?: string; uid?: string } } & Record<string, unknown>;

/** Where to POST an object the chart renders. */
function collectionOf(o: Obj): string {
  const [group, version] = o.apiVersion.includes('/') ? o.apiVersion.split('/') : ['', o.apiVersion];
  const kind = o.kind.toLowerCase();
  const plural = kind.endsWith('policy') ? `${kind.slice(0, -1)}ies` : `${kind}s`;
  const base = group === '' ? `/api/${version}` : `/apis/${group}/${version}`;
  return o.metadata.namespace === undefined ? `${base}/${plural}` : `${base}/namespaces/${o.metadata.namespace}/${plural}`;
}

describe('the chart on a real control plane (kind-config.yaml nodes, restricted Pod Security)', () => {
  let cp: ControlPlane;
  let admin: KubeRest;
  let helm: Helm;
  let dir: string;
  let operator: ChildProcess | undefined;
  let operatorLog = '';

  const get = <T>(path: string): Promise<T> => admin.request<T>({ method: 'GET', path });
  const gone = async (path: string): Promise<boolean> => {
    try {
      await get(path);
      return false;
    } catch (err) {
      if (isNotFound(err)) return true;
      throw err;
    }
  };
  const topologyPath = pathOf(RESOURCES.topology, USERS, 'imdb-sentiment');
  const chart = (verb: 'install' | 'upgrade', ...args: string[]): Promise<string> =>
    helm.ok([verb, RELEASE, chartDir(), '--namespace', NS, '--wait', '--timeout', '90s', ...args], 120_000);

  before(async () => {
    cp = await ControlPlane.start({ scheduler: true, controllerManager: true, kwok: true });
    const kc = cp.admin();
    admin = new KubeRest(kc);
    await createFakeNodes(kc, kindNodes(readFileSync(root('kind-config.yaml'), 'utf8')));
    // Pods the chart creates must pass the restricted profile, or the Deployment never gets one.
    await createNamespace(kc, NS, { 'pod-security.kubernetes.io/enforce': 'restricted' });
    await createNamespace(kc, USERS, { 'pod-security.kubernetes.io/enforce': 'restricted' });
    helm = new Helm(cp.kubeconfigPath);
    dir = mkdtempSync(join(tmpdir(), 'crime-chart-'));
  });
  after(async () => {
    operator?.kill('SIGKILL');
    helm?.close();
    admin?.close();
    await cp?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('every object of the optional and edge-only renders is accepted by the API server (dry run, strict fields)', async () => {
    for (const ns of ['crime', 'monitoring']) await createNamespace(cp.admin(), ns);
    for (const values of ['all-on-values.yaml', 'edge-values.yaml']) {
      const rendered = await helm.ok(['template', RELEASE, chartDir(), '--namespace', NS, '-f', `${chartDir()}/ci/${values}`]);
      const objects = parseAllDocuments(rendered).map((d) => d.toJS() as Obj | null).filter((o): o is Obj => o !== null);
      // prometheus-operator's kinds need its CRDs, which this cluster does not have.
      for (const o of objects.filter((x) => !x.apiVersion.startsWith('monitoring.coreos.com/'))) {
        const answer = await admin.raw({ method: 'POST', path: collectionOf({ ...o, metadata: { ...o.metadata, namespace: o.metadata.namespace ?? (o.kind.startsWith('Cluster') || o.kind === 'CustomResourceDefinition' ? undefined : NS) } }), body: o, query: { dryRun: 'All', fieldValidation: 'Strict' } });
        assert.equal(answer.status, 201, `${values}: ${o.kind} ${o.metadata.name}: ${JSON.stringify(answer.body)}`);
      }
    }
  });

  it('helm install: every object created, the operator pod admitted as restricted and ready, NOTES say what to do next', async () => {
    const out = await chart('install', ...IMAGES);
    assert.match(out, /STATUS: deployed/);
    assert.match(out, /kubectl get rnnt -w/);
    assert.match(out, /kubectl port-forward svc\/imdb-sentiment--end-node 8080:8080/);
    const deployment = await get<V1Deployment>(pathOf(RESOURCES.deployment, NS, RELEASE));
    assert.equal(deployment.status?.readyReplicas, 1, '--wait returned with the operator pod ready');
    await get<V1ServiceAccount>(`/api/v1/namespaces/${NS}/serviceaccounts/${RELEASE}`);
    const role = await get<V1ClusterRole>(`/apis/rbac.authorization.k8s.io/v1/clusterroles/${RELEASE}-${NS}`);
    assert.deepEqual(JSON.parse(JSON.stringify(role.rules)), [...operatorRules().reconcile, ...operatorRules().networkPolicy].map((r) => ({ ...r })));
    const crd = await waitEstablished(cp.admin(), 'rnntopologies.crime.dev');
    assert.equal((crd['metadata'] as { annotations?: Record<string, string> }).annotations?.['helm.sh/resource-policy'], 'keep');
  });

  it('the operator, run with the chart\'s args and its ServiceAccount token, serves the kind example on kind\'s nodes', async () => {
    // scripts/kind-fake-gpu.sh as docs/kind.md runs it, with kubectl from the same build.
    const gpu = spawnSync(root('scripts/kind-fake-gpu.sh'), [], { encoding: 'utf8', env: { ...process.env, PATH: `${cp.binDir}:${process.env['PATH'] ?? ''}`, KUBECONFIG: cp.kubeconfigPath } });
    assert.equal(gpu.status, 0, gpu.stderr);
    assert.equal(gpu.stdout.trim(), 'crime-worker4: nvidia.com/gpu 2');

    const deployment = await get<V1Deployment>(pathOf(RESOURCES.deployment, NS, RELEASE));
    const args = deployment.spec?.template.spec?.containers[0]?.args ?? [];
    const token = await serviceAccountToken(cp, { namespace: NS, name: RELEASE, create: false });
    const kubeconfig = join(dir, 'operator.kubeconfig');
    writeKubeconfig(kubeconfig, { endpoint: cp.endpoint, userName: `system:serviceaccount:${NS}:${RELEASE}`, token });
    operator = spawn(process.execPath, [root('dist/cli/main.js'), ...args, '--kubeconfig', kubeconfig, '--metrics-port', '0', '--metrics-host', '127.0.0.1'], { stdio: ['ignore', 'pipe', 'pipe'] });
    operator.stderr?.on('data', (c: Buffer) => (operatorLog += c.toString()));
    await new Promise<void>((resolve, reject) => {
      let out = '';
      operator?.stdout?.on('data', (c: Buffer) => {
        out += c.toString();
        if (/^metrics http:\S+$/m.test(out)) resolve();
      });
      operator?.once('exit', (code) => reject(new Error(`crime operator ${args.join(' ')} exited (${String(code)}):\n${operatorLog}`)));
    });

    const doc = parseYaml(readFileSync(root('examples/topologies/three-tier-kind.yaml'), 'utf8')) as Obj;
    await admin.request({ method: 'POST', path: pathOf(RESOURCES.topology, USERS), body: doc, query: { fieldValidation: 'Strict' } });
    const status = await waitFor(async () => {
      const s = (await get<{ status?: TopologyStatus }>(topologyPath)).status;
      return s?.conditions?.find((c) => c.type === 'Ready')?.status === 'True' ? s : undefined;
    }, { what: 'the kind example Ready', timeoutMs: 90_000 }).catch((err: Error) => {
      throw new Error(`${err.message}\noperator log:\n${operatorLog}`);
    });
    assert.equal(status.devicesReady, '3/3');
    // Placed by tier label on kind's workers; the cloud device on the tainted GPU worker.
    const nodes = Object.fromEntries(status.devices.map((d) => [d.name, d.nodes.join(',')]));
    assert.match(nodes['end-node'] ?? '', /^crime-worker2?$/);
    assert.equal(nodes['gateway'], 'crime-worker3');
    assert.equal(nodes['cloud'], 'crime-worker4');
    await get(pathOf(RESOURCES.configMap, USERS, 'imdb-sentiment-mappers'));
    await get(pathOf(RESOURCES.secret, USERS, 'imdb-sentiment-token'));
    // networkPolicy.enabled: the operator renders the topology's policies with the chart's RBAC.
    await get(pathOf(RESOURCES.networkPolicy, USERS, 'imdb-sentiment-peers'));
    await get(pathOf(RESOURCES.networkPolicy, USERS, 'imdb-sentiment-entry'));
    // The images and pull policy of the values reached the pods the operator renders.
    const images = async (device: string): Promise<string[]> => {
      const d = await get<V1Deployment>(pathOf(RESOURCES.deployment, USERS, `imdb-sentiment--${device}`));
      return [...(d.spec?.template.spec?.initContainers ?? []), ...(d.spec?.template.spec?.containers ?? [])].map((c) => `${c.image ?? ''} ${c.imagePullPolicy ?? ''}`);
    };
    assert.deepEqual(await images('end-node'), Array(3).fill('registry.test/crime:t1 Always'));
    assert.deepEqual(await images('cloud'), Array(3).fill('registry.test/crime-gpu:t1-cuda Always'));
    const lease = await get<{ spec?: { holderIdentity?: string } }>(pathOf(RESOURCES.lease, NS, 'crime-operator'));
    assert.ok(lease.spec?.holderIdentity, 'it leads through the chart\'s Lease Role');
  });

  it('the chart\'s ServiceAccount can do nothing beyond the rules', async () => {
    const token = await serviceAccountToken(cp, { namespace: NS, name: RELEASE, create: false });
    const asOperator = new KubeRest(cp.withToken(`system:serviceaccount:${NS}:${RELEASE}`, token));
    try {
      for (const [method, path] of [
        ['GET', pathOf(RESOURCES.secret, 'kube-system', 'anything')],
        ['GET', pathOf(RESOURCES.secret, USERS, 'imdb-sentiment-token')],
        ['GET', '/api/v1/nodes'],
        ['DELETE', topologyPath],
        ['GET', pathOf(RESOURCES.lease, 'kube-system', 'kube-scheduler')],
        ['POST', '/apis/rbac.authorization.k8s.io/v1/clusterroles'],
      ] as const) {
        const answer = await asOperator.raw({ method, path, ...(method === 'POST' ? { body: { metadata: { name: 'x' }, rules: [] } } : {}) });
        assert.equal(answer.status, 403, `${method} ${path} must be forbidden`);
      }
    } finally {
      asOperator.close();
    }
  });

  it('helm upgrade with changed values keeps the CRD and the users\' topologies; turning crds.enabled off keeps them too', async () => {
    const uid = async (path: string): Promise<string> => (await get<Obj>(path)).metadata.uid ?? '';
    const [topologyUid, crdUid] = [await uid(topologyPath), await uid(CRD)];

    await chart('upgrade', '--reuse-values', '--set', 'replicaCount=2', '--set', 'operator.logLevel=debug');
    const deployment = await get<V1Deployment>(pathOf(RESOURCES.deployment, NS, RELEASE));
    assert.equal(deployment.status?.readyReplicas, 2);
    assert.ok(deployment.spec?.template.spec?.containers[0]?.args?.includes('--log-level=debug'));
    assert.equal(await uid(topologyPath), topologyUid);
    assert.equal(await uid(CRD), crdUid);

    const off = await chart('upgrade', '--reuse-values', '--set', 'crds.enabled=false');
    assert.match(off, /crds.enabled is false/);
    assert.equal(await uid(CRD), crdUid, 'resource-policy keep: the CRD outlives leaving the release');
    assert.equal(await uid(topologyPath), topologyUid);

    // And back: the release adopts the CRD it left (it still carries the release's annotations).
    await chart('upgrade', '--reuse-values', '--set', 'crds.enabled=true');
    assert.equal(await uid(CRD), crdUid);
  });

  it('helm uninstall removes the operator and its RBAC, and leaves the CRD, the topologies and their children', async () => {
    operator?.kill('SIGTERM');
    await new Promise((resolve) => (operator?.exitCode !== null ? resolve(undefined) : operator.once('exit', resolve)));
    const out = await helm.ok(['uninstall', RELEASE, '--namespace', NS, '--wait', '--timeout', '60s']);
    assert.match(out, /These resources were kept due to the resource policy:\n\[CustomResourceDefinition\] rnntopologies.crime.dev/);
    assert.ok(await gone(pathOf(RESOURCES.deployment, NS, RELEASE)));
    assert.ok(await gone(`/api/v1/namespaces/${NS}/serviceaccounts/${RELEASE}`));
    assert.ok(await gone(`/apis/rbac.authorization.k8s.io/v1/clusterroles/${RELEASE}-${NS}`));
    await get(CRD);
    await get(topologyPath);
    await get(pathOf(RESOURCES.deployment, USERS, 'imdb-sentiment--end-node'));
  });
});
