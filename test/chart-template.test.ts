/**
 * The Helm chart offline, with the real helm: it lints strictly, renders with the defaults, the
 * edge-only and the everything-on values, takes its RBAC from files/rbac-rules.yaml and its CRD from
 * crds/ unchanged, and its schema refuses a misspelled key or a wrong type with a clear message.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import type { V1ClusterRole, V1ConfigMap, V1Deployment, V1Role } from '@kubernetes/client-node';
import { parse as parseYaml, parseAllDocuments } from 'yaml';
import { chartDir, Helm } from '../devcluster/helm.js';
import { operatorRules } from '../devcluster/rbac.js';
import { MapperMetrics } from '../runtime/mapper/metrics.js';

const root = (p: string): string => fileURLToPath(new URL(`../../${p}`, import.meta.url));
type Obj = { apiVersion: string; kind: string; metadata: { name: string; namespace?: string; labels?: Record<string, string>; annotations?: Record<string, string> } } & Record<string, unknown>;

function docs(yaml: string): Obj[] {
  return parseAllDocuments(yaml).map((d) => d.toJS() as Obj | null).filter((d): d is Obj => d !== null);
}
const one = <T>(objects: Obj[], kind: string, name?: string): T => {
  const found = objects.filter((o) => o.kind === kind && (name === undefined || o.metadata.name === name));
  assert.equal(found.length, 1, `exactly one ${kind}${name ? ` ${name}` : ''}, found ${found.map((o) => o.metadata.name).join(', ') || 'none'}`);
  return found[0] as T;
};
const argsOf = (d: V1Deployment): string[] => d.spec?.template.spec?.containers[0]?.args ?? [];

describe('the crime-operator chart, rendered by helm', () => {
  let helm: Helm;
  const template = async (...args: string[]): Promise<Obj[]> => docs(await helm.ok(['template', 'crime-operator', chartDir(), '--namespace', 'crime-system', ...args]));

  before(() => {
    helm = new Helm();
  });
  after(() => helm?.close());

  it('lints with --strict: defaults, edge-only values, everything on', async () => {
    for (const values of [[], ['-f', `${chartDir()}/ci/edge-values.yaml`], ['-f', `${chartDir()}/ci/all-on-values.yaml`]]) {
      const out = await helm.ok(['lint', '--strict', chartDir(), ...values]);
      assert.match(out, /1 chart\(s\) linted, 0 chart\(s\) failed/);
      assert.doesNotMatch(out, /\[(WARNING|ERROR)\]/, out);
    }
  });

  it('renders the defaults: the operator with leader election, restricted Pod Security, images handed to it, nothing optional', async () => {
    const objects = await template();
    assert.deepEqual(objects.map((o) => o.kind).sort(), ['ClusterRole', 'ClusterRole', 'ClusterRole', 'ClusterRoleBinding', 'CustomResourceDefinition', 'Deployment', 'Role', 'RoleBinding', 'Service', 'ServiceAccount']);
    const deployment = one<V1Deployment>(objects, 'Deployment');
    const pod = deployment.spec?.template.spec;
    const container = pod?.containers[0];
    assert.equal(deployment.spec?.replicas, 1);
    assert.deepEqual(container?.command, ['crime']);
    assert.equal(container?.image, 'ghcr.io/crime-k8s/crime:0.1.0');
    assert.deepEqual(argsOf(deployment), [
      'operator', '--metrics-port=8080', '--leader-elect', '--leader-election-namespace=crime-system',
      '--image=ghcr.io/crime-k8s/crime:0.1.0', '--gpu-image=ghcr.io/crime-k8s/crime:0.1.0-cuda', '--image-pull-policy=IfNotPresent',
      '--workers=4', '--resync-seconds=600', '--log-level=info',
    ]);
    // Pod Security "restricted" (the install test lets the API server's admission judge it too).
    assert.equal(pod?.securityContext?.runAsNonRoot, true);
    assert.equal(pod?.securityContext?.runAsUser, 65532);
    assert.equal(pod?.securityContext?.seccompProfile?.type, 'RuntimeDefault');
    assert.equal(container?.securityContext?.allowPrivilegeEscalation, false);
    assert.equal(container?.securityContext?.readOnlyRootFilesystem, true);
    assert.deepEqual(container?.securityContext?.capabilities?.drop, ['ALL']);
    assert.deepEqual(container?.volumeMounts, [{ name: 'tmp', mountPath: '/tmp' }]);
    assert.equal(pod?.serviceAccountName, 'crime-operator');
  });

  it('templates the operator RBAC from files/rbac-rules.yaml, not a copy', async () => {
    const rules = operatorRules();
    const objects = await template();
    assert.deepEqual(one<V1ClusterRole>(objects, 'ClusterRole', 'crime-operator-crime-system').rules, rules.reconcile);
    assert.deepEqual(one<V1Role>(objects, 'Role', 'crime-operator-leader-election').rules, rules.leaderElection);
    assert.equal(one<V1Role>(objects, 'Role').metadata?.namespace, 'crime-system');

    const networkPolicies = parseYaml(readFileSync(`${chartDir()}/files/rbac-rules.yaml`, 'utf8')) as { networkPolicy: unknown[] };
    const withPolicies = await template('--set', 'networkPolicy.enabled=true');
    assert.deepEqual(one<V1ClusterRole>(withPolicies, 'ClusterRole', 'crime-operator-crime-system').rules, [...rules.reconcile, ...networkPolicies.networkPolicy]);
  });

  it('renders the CRD exactly as crds/ holds it, with helm.sh/resource-policy: keep unless told otherwise', async () => {
    const file = readFileSync(root('crds/crime.dev_rnntopologies.yaml'), 'utf8');
    assert.equal(readFileSync(`${chartDir()}/files/crds/crime.dev_rnntopologies.yaml`, 'utf8'), file,
      'the chart\'s copy differs: cp crds/crime.dev_rnntopologies.yaml charts/crime-operator/files/crds/');
    const expected = parseYaml(file) as Obj;
    const crd = one<Obj>(await template(), 'CustomResourceDefinition');
    assert.equal(crd.metadata.annotations?.['helm.sh/resource-policy'], 'keep');
    assert.equal(crd.metadata.labels?.['app.kubernetes.io/managed-by'], 'Helm');
    const { metadata: _rendered, ...renderedRest } = crd;
    const { metadata: _file, ...fileRest } = expected;
    assert.deepEqual(renderedRest, fileRest);
    assert.equal(crd.metadata.name, expected.metadata.name);

    assert.equal(one<Obj>(await template('--set', 'crds.keep=false'), 'CustomResourceDefinition').metadata.annotations, undefined);
    assert.equal((await template('--set', 'crds.enabled=false')).filter((o) => o.kind === 'CustomResourceDefinition').length, 0);
  });

  it('renders the edge-only values: one namespace watched through a Role, GPU devices on the CPU image, the operator on an arm64 edge node', async () => {
    const objects = await template('-f', `${chartDir()}/ci/edge-values.yaml`);
    const role = one<V1Role>(objects, 'Role', 'crime-operator');
    assert.equal(role.metadata?.namespace, 'crime');
    assert.deepEqual(role.rules, operatorRules().reconcile);
    assert.equal(one<Obj>(objects, 'RoleBinding', 'crime-operator').metadata.namespace, 'crime');
    assert.equal(objects.filter((o) => o.kind === 'ClusterRoleBinding').length, 0, 'no cluster-wide grant for the operator');
    const deployment = one<V1Deployment>(objects, 'Deployment');
    const args = argsOf(deployment);
    assert.ok(args.includes('--namespace=crime'));
    assert.ok(args.includes('--gpu-image=ghcr.io/crime-k8s/crime:0.1.0'), args.join(' '));
    assert.deepEqual(deployment.spec?.template.spec?.nodeSelector, { 'kubernetes.io/arch': 'arm64', 'crime.dev/tier': 'edge' });
  });

  it('renders everything on: NetworkPolicies, monitors, the dashboard, two replicas, pull secrets', async () => {
    const objects = await template('-f', `${chartDir()}/ci/all-on-values.yaml`);
    const deployment = one<V1Deployment>(objects, 'Deployment');
    assert.equal(deployment.spec?.replicas, 2);
    assert.deepEqual(deployment.spec?.template.spec?.imagePullSecrets, [{ name: 'regcred' }]);
    assert.ok(argsOf(deployment).includes('--image-pull-secret=regcred'), argsOf(deployment).join(' '));
    assert.ok(argsOf(deployment).includes('--network-policy'));
    assert.ok(argsOf(deployment).includes('--network-policy-metrics-namespace=monitoring'));
    // As YAML says it ("from"), not as client-node's model names it ("_from").
    const policy = one<{ spec: { policyTypes: string[]; ingress: Array<{ ports: unknown; from: unknown }> } }>(objects, 'NetworkPolicy');
    assert.deepEqual(policy.spec.policyTypes, ['Ingress']);
    assert.deepEqual(policy.spec.ingress[0]?.ports, [{ port: 'metrics', protocol: 'TCP' }]);
    assert.deepEqual(policy.spec.ingress[0]?.from, [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'monitoring' } } }]);
    assert.equal(one<Obj>(objects, 'ServiceMonitor').metadata.labels?.['release'], 'prometheus');
    const podMonitor = one<Obj & { spec: { selector: unknown; podMetricsEndpoints: Array<{ port: string }> } }>(objects, 'PodMonitor');
    assert.deepEqual(podMonitor.spec.selector, { matchLabels: { 'app.kubernetes.io/name': 'crime', 'app.kubernetes.io/component': 'device', 'app.kubernetes.io/managed-by': 'crime-operator' } });
    assert.equal(podMonitor.spec.podMetricsEndpoints[0]?.port, 'http');
    const dashboard = one<V1ConfigMap>(objects, 'ConfigMap');
    assert.equal(dashboard.metadata?.namespace, 'monitoring');
    assert.equal(dashboard.metadata?.labels?.['grafana_dashboard'], '1');
    assert.equal((JSON.parse(dashboard.data?.['crime-mappers.json'] ?? '{}') as { uid?: string }).uid, 'crime-mappers');
  });

  it('refuses a misspelled key, a wrong type, and several replicas without leader election, saying what is wrong', async () => {
    const fail = async (args: string[], message: RegExp): Promise<void> => {
      const result = await helm.run(['template', 'crime-operator', chartDir(), ...args]);
      assert.notEqual(result.code, 0, `${args.join(' ')} must fail`);
      assert.match(result.stderr, message);
    };
    await fail(['--set', 'image.tgs=latest'], /at '\/image': additional properties 'tgs' not allowed/);
    await fail(['--set', 'replicas=2'], /additional properties 'replicas' not allowed/);
    await fail(['--set', 'replicaCount=two'], /at '\/replicaCount': got string, want integer/);
    await fail(['--set', 'image.pullPolicy=Sometimes'], /at '\/image\/pullPolicy'/);
    await fail(['--set', 'deviceImages.pullSecrets[0].secret=regcred'], /at '\/deviceImages\/pullSecrets\/0'/);
    await fail(['--set', 'replicaCount=2', '--set', 'leaderElection.enabled=false'], /replicaCount > 1 needs leaderElection.enabled/);
  });

  it('keeps Chart.yaml in step with package.json', () => {
    const chart = parseYaml(readFileSync(`${chartDir()}/Chart.yaml`, 'utf8')) as { version: string; appVersion: string };
    const pkg = JSON.parse(readFileSync(root('package.json'), 'utf8')) as { version: string };
    assert.equal(chart.version, pkg.version);
    assert.equal(chart.appVersion, pkg.version);
  });

  it('draws the dashboard from metrics the mappers export', async () => {
    const dashboard = readFileSync(`${chartDir()}/files/dashboards/crime-mappers.json`, 'utf8');
    const exported = new Set<string>();
    const metrics = new MapperMetrics({ snapshot: () => undefined, defaultMetrics: false });
    for (const m of await metrics.registry.getMetricsAsJSON()) {
      exported.add(m.name);
      if (String(m.type) === 'histogram') for (const suffix of ['_bucket', '_sum', '_count']) exported.add(`${m.name}${suffix}`);
    }
    const used = new Set([...dashboard.matchAll(/\b(crime_[a-z_]+)\b/g)].map((m) => m[1] as string));
    assert.ok(used.size >= 10, `the dashboard uses ${used.size} metrics`);
    for (const name of used) assert.ok(exported.has(name), `the dashboard uses ${name}, which the mapper does not export`);
  });
});
